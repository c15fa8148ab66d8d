//! C = AᵀB (+ λW) for f32 with row-major A (k,m), B (k,n), C and W (m,n): the weight gradients'
//! product dW1 = dZᵀX + λW1, as a sum of k outer products, by our own AVX-512 and AVX2 kernels.
//
// Why our own: faer's kernels take 554 µs for dW1 = dZᵀX + λW1 at the reference size (B 256,
// 784 → 256, f32, one thread, AVX-512 Zen 5; 493 µs without the λW1 term, which faer can
// only add as a separate pass over C) where OpenBLAS takes 450 µs for dZᵀX alone
// (bench/results/20261207-165214, products.out and numpy_auto.out). The product's layout
// needs no packing of B: row p of B holds B[p, j..j+NR] contiguously, and A's row p holds
// the MR values A[p, i..i+MR] that the kernel broadcasts, so A is only copied into
// contiguous panels of MR columns and B is read in place.
//
// Every element of C is one chain of fused multiply-adds over p = 0, 1, …, k−1 from zero,
// then + fl(λ·w): the same bits whatever the tiling, the thread count or the instruction set
// (AVX-512 and AVX2 run the same chain), and the same as faer's single-block product.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by [`set_enabled`]`(false)`: every product then goes to faer (benches and tests compare).
static OFF: AtomicBool = AtomicBool::new(false);

/// Lets this module's kernels take the products they can (`true`, the default) or none, for the
/// whole process: benches/outer.rs and tests/simd.rs compare them with faer's.
pub fn set_enabled(on: bool) {
    OFF.store(!on, Ordering::Relaxed);
}

/// Rows of C per AVX-512 tile: 12 rows × 2 vectors of 16 = 24 accumulators of the 32 registers.
const MR_512: usize = 12;
/// Rows of C per AVX2 tile: 6 rows × 2 vectors of 8 = 12 accumulators of the 16 registers.
const MR_256: usize = 6;
/// The packed panels of A are kept under this many f32 (256 KiB): with more, A is packed and
/// used a group of panels at a time; one panel longer than this (k beyond 5,461 rows) is left
/// to faer.
const PACK_MAX: usize = 1 << 16;

/// A row-major operand: element (r, c) at `ptr + r·stride + c`.
#[derive(Clone, Copy)]
pub struct Rows<P> {
    pub ptr: P,
    pub stride: usize,
}

thread_local! {
    /// This thread's packed panels of A, reused from call to call.
    static PACKED: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// The instruction set this module's kernel runs with, when it runs at all.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kernel {
    Avx512,
    Avx2,
}

/// The kernel for this CPU (under `MLP_TRAIN_SIMD`), or None: then the caller uses faer.
#[inline]
pub fn kernel() -> Option<Kernel> {
    if OFF.load(Ordering::Relaxed) {
        return None;
    }
    match crate::math::simd::isa() {
        crate::math::simd::Isa::Avx512 => Some(Kernel::Avx512),
        crate::math::simd::Isa::Avx2 => Some(Kernel::Avx2),
        crate::math::simd::Isa::Portable => None,
    }
}

/// C (m,n) = AᵀB, or AᵀB + fl(λ·W) when `plus` is given, for A (k,m) and B (k,n). Returns
/// false, having done nothing, when this kernel does not take the product (no AVX2 on this
/// CPU, k too long for the packing buffer, or the buffer cannot be had); the caller then
/// computes it another way.
///
/// # Safety
/// The pointers and strides describe live row-major views of the given shapes with unit
/// column stride; C does not overlap A, B or W.
#[allow(clippy::too_many_arguments)]
pub unsafe fn at_b(
    m: usize,
    n: usize,
    k: usize,
    a: Rows<*const f32>,
    b: Rows<*const f32>,
    c: Rows<*mut f32>,
    plus: Option<(f32, Rows<*const f32>)>,
) -> bool {
    let Some(kernel) = kernel() else {
        return false;
    };
    if m == 0 || n == 0 {
        return true;
    }
    let mr = match kernel {
        Kernel::Avx512 => MR_512,
        Kernel::Avx2 => MR_256,
    };
    let panel = k.max(1) * mr;
    if panel > PACK_MAX {
        return false;
    }
    let panels = m.div_ceil(mr);
    let group = (PACK_MAX / panel).clamp(1, panels);
    PACKED.with(|buf| {
        let Ok(mut buf) = buf.try_borrow_mut() else {
            return false;
        };
        let need = group * panel;
        let have = buf.len();
        if have < need {
            if buf.try_reserve(need - have).is_err() {
                return false;
            }
            buf.resize(need, 0.0);
        }
        for g0 in (0..panels).step_by(group) {
            let g1 = (g0 + group).min(panels);
            // Pack panels g0..g1 of A: panel t holds, for each p, A[p, (g0+t)·mr ..][..mr],
            // zero past column m (those rows of the tile are computed and not stored).
            for t in 0..g1 - g0 {
                let i0 = (g0 + t) * mr;
                let cols = mr.min(m - i0);
                let dst = &mut buf[t * panel..(t + 1) * panel];
                // (k rows only: with k = 0 the panel's one row of room is left unread.)
                for (p, row) in dst.chunks_exact_mut(mr).take(k).enumerate() {
                    // SAFETY: row p of A has m ≥ i0 + cols elements (caller's contract).
                    let src = unsafe { a.ptr.add(p * a.stride + i0) };
                    if cols == mr {
                        // A whole panel row: a copy of known length, not a call to memcpy
                        // (one per row of A cost as much as the copy).
                        // SAFETY: mr = cols values, inside row p of A.
                        unsafe {
                            match mr {
                                MR_512 => copy::<MR_512>(src, row),
                                _ => copy::<MR_256>(src, row),
                            }
                        }
                    } else {
                        // A partial panel (the last of A, or all of dW2's A with q = 10 < mr):
                        // one masked load and store, where a loop over the row's values, one
                        // test each, was 9 % of a digits step (65 → 32 → 10, B 32).
                        // SAFETY: cols < mr values inside row p of A; the CPU has the
                        // kernel's instruction set (`kernel()`).
                        unsafe {
                            match kernel {
                                Kernel::Avx512 => x86::partial_512(src, cols, row),
                                Kernel::Avx2 => x86::partial_256(src, cols, row),
                            }
                        }
                    }
                }
            }
            let i_lo = g0 * mr;
            let rows = (g1 * mr).min(m) - i_lo;
            // SAFETY: the CPU has the kernel's instruction set (`kernel()`), the packed
            // panels cover rows i_lo..i_lo+rows of the product, and the caller's contract
            // covers A, B, C and W.
            unsafe {
                let c = Rows {
                    ptr: c.ptr.add(i_lo * c.stride),
                    stride: c.stride,
                };
                let plus = plus.map(|(l, w)| {
                    (
                        l,
                        Rows {
                            ptr: w.ptr.add(i_lo * w.stride),
                            stride: w.stride,
                        },
                    )
                });
                match kernel {
                    Kernel::Avx512 => x86::block_512(rows, n, k, &buf, b, c, plus),
                    Kernel::Avx2 => x86::block_256(rows, n, k, &buf, b, c, plus),
                }
            }
        }
        true
    })
}

/// row = the N values at `src` (row.len() is N).
///
/// # Safety
/// `src` points at N readable f32.
#[inline(always)]
unsafe fn copy<const N: usize>(src: *const f32, row: &mut [f32]) {
    let v: [f32; N] = unsafe { src.cast::<[f32; N]>().read_unaligned() };
    row.copy_from_slice(&v);
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Rows, MR_256, MR_512};
    use std::arch::x86_64::*;

    /// row (MR_512 values) = the `cols` < MR_512 values at `src`, then zeros.
    ///
    /// # Safety
    /// The CPU has AVX-512F; `src` points at `cols` readable f32 (the masked-off lanes are
    /// not read); `row` holds MR_512 values.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn partial_512(src: *const f32, cols: usize, row: &mut [f32]) {
        debug_assert!(cols < MR_512 && row.len() == MR_512);
        let v = unsafe { _mm512_maskz_loadu_ps(((1u32 << cols) - 1) as u16, src) };
        unsafe { _mm512_mask_storeu_ps(row.as_mut_ptr(), ((1u32 << MR_512) - 1) as u16, v) };
    }

    /// row (MR_256 values) = the `cols` < MR_256 values at `src`, then zeros.
    ///
    /// # Safety
    /// The CPU has AVX2; `src` points at `cols` readable f32 (the masked-off lanes are not
    /// read); `row` holds MR_256 values.
    #[target_feature(enable = "avx2")]
    pub unsafe fn partial_256(src: *const f32, cols: usize, row: &mut [f32]) {
        debug_assert!(cols < MR_256 && row.len() == MR_256);
        let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        let below = |n: usize| _mm256_cmpgt_epi32(_mm256_set1_epi32(n as i32), lane);
        let v = unsafe { _mm256_maskload_ps(src, below(cols)) };
        unsafe { _mm256_maskstore_ps(row.as_mut_ptr(), below(MR_256), v) };
    }

    /// Rows 0..rows of C from packed panels of `mr` columns of A, for every column of B: column
    /// panels of `nr` outside, tiles of `mr` rows inside, so that a panel of B (k × nr) stays in
    /// L1 while the row tiles go by; `tile` computes each. With `ahead`, the second tile of each
    /// panel also asks for the next panel of B (the first tile would otherwise wait for it row
    /// by row).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn tiles(
        (rows, n, k): (usize, usize, usize),
        packed: &[f32],
        b: Rows<*const f32>,
        c: Rows<*mut f32>,
        plus: Option<(f32, Rows<*const f32>)>,
        (mr, nr): (usize, usize),
        ahead: bool,
        tile: impl Fn(&Tile),
    ) {
        let panel = k.max(1) * mr;
        for j0 in (0..n).step_by(nr) {
            let cols = nr.min(n - j0);
            let next = if ahead && j0 + nr < n {
                nr.min(n - j0 - nr)
            } else {
                0
            };
            for (t, i0) in (0..rows).step_by(mr).enumerate() {
                tile(&Tile {
                    k,
                    a: packed.as_ptr().add(t * panel),
                    b: b.ptr.add(j0),
                    ldb: b.stride,
                    c: c.ptr.add(i0 * c.stride + j0),
                    ldc: c.stride,
                    w: plus.map(|(l, w)| (l, w.ptr.add(i0 * w.stride + j0), w.stride)),
                    live: mr.min(rows - i0),
                    cols,
                    ahead: if t == 1 { next } else { 0 },
                });
            }
        }
    }

    /// [`tiles`] with AVX-512: panels of 32 columns, tiles of MR_512 rows. A last panel of at
    /// most 16 columns takes the one-vector tile, a last tile of fewer rows the 4- or 8-row one
    /// (so that little is computed only to be thrown away).
    #[target_feature(enable = "avx512f")]
    pub unsafe fn block_512(
        rows: usize,
        n: usize,
        k: usize,
        packed: &[f32],
        b: Rows<*const f32>,
        c: Rows<*mut f32>,
        plus: Option<(f32, Rows<*const f32>)>,
    ) {
        let shape = (rows, n, k);
        tiles(shape, packed, b, c, plus, (MR_512, 32), true, |t| unsafe {
            match (t.cols > 16, t.live) {
                (true, 9..) => tile_512::<12, 2>(t),
                (true, 5..) => tile_512::<8, 2>(t),
                (true, _) => tile_512::<4, 2>(t),
                (false, 9..) => tile_512::<12, 1>(t),
                (false, 5..) => tile_512::<8, 1>(t),
                (false, _) => tile_512::<4, 1>(t),
            }
        });
    }

    /// One tile's work: C[..live, ..cols] = Σₚ a[p]ᵀ b[p] (+ fl(λ·W)), A packed MR_512 (or
    /// MR_256) values a row, B and C, W row-major.
    pub struct Tile {
        k: usize,
        a: *const f32,
        b: *const f32,
        ldb: usize,
        c: *mut f32,
        ldc: usize,
        w: Option<(f32, *const f32, usize)>,
        live: usize,
        cols: usize,
        ahead: usize,
    }

    /// MR rows × NV vectors of 16 columns, accumulated over the whole k in registers.
    #[target_feature(enable = "avx512f")]
    unsafe fn tile_512<const MR: usize, const NV: usize>(t: &Tile) {
        let mask = |v: usize| -> __mmask16 {
            let left = t.cols.saturating_sub(16 * v).min(16);
            ((1u32 << left) - 1) as __mmask16
        };
        let masks: [__mmask16; NV] = std::array::from_fn(mask);
        let mut acc = [[_mm512_setzero_ps(); NV]; MR];
        for p in 0..t.k {
            let row = t.b.add(p * t.ldb);
            if t.ahead > 0 {
                _mm_prefetch::<_MM_HINT_T0>(row.wrapping_add(32).cast());
                _mm_prefetch::<_MM_HINT_T0>(row.wrapping_add(48).cast());
            }
            let bv: [__m512; NV] =
                std::array::from_fn(|v| _mm512_maskz_loadu_ps(masks[v], row.wrapping_add(16 * v)));
            let ap = t.a.add(p * MR_512);
            for (r, acc) in acc.iter_mut().enumerate() {
                let ar = _mm512_set1_ps(*ap.add(r));
                for v in 0..NV {
                    acc[v] = _mm512_fmadd_ps(ar, bv[v], acc[v]);
                }
            }
        }
        for (r, acc) in acc.iter().enumerate().take(t.live) {
            let cr = t.c.add(r * t.ldc);
            for (v, &sum) in acc.iter().enumerate() {
                let mut out = sum;
                if let Some((lambda, w, ldw)) = t.w {
                    let wr = w.wrapping_add(r * ldw + 16 * v);
                    let lw =
                        _mm512_mul_ps(_mm512_set1_ps(lambda), _mm512_maskz_loadu_ps(masks[v], wr));
                    out = _mm512_add_ps(out, lw);
                }
                _mm512_mask_storeu_ps(cr.wrapping_add(16 * v), masks[v], out);
            }
        }
    }

    /// [`tiles`] with AVX2+FMA: panels of 16 columns, tiles of MR_256 rows.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn block_256(
        rows: usize,
        n: usize,
        k: usize,
        packed: &[f32],
        b: Rows<*const f32>,
        c: Rows<*mut f32>,
        plus: Option<(f32, Rows<*const f32>)>,
    ) {
        let shape = (rows, n, k);
        tiles(shape, packed, b, c, plus, (MR_256, 16), false, |t| unsafe {
            match (t.cols > 8, t.live) {
                (true, 4..) => tile_256::<6, 2>(t),
                (true, _) => tile_256::<3, 2>(t),
                (false, 4..) => tile_256::<6, 1>(t),
                (false, _) => tile_256::<3, 1>(t),
            }
        });
    }

    /// [`tile_512`] with AVX2+FMA: MR rows × NV vectors of 8 columns.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn tile_256<const MR: usize, const NV: usize>(t: &Tile) {
        let mask = |v: usize| -> __m256i {
            let left = t.cols.saturating_sub(8 * v).min(8) as i32;
            _mm256_cmpgt_epi32(
                _mm256_set1_epi32(left),
                _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
            )
        };
        let masks: [__m256i; NV] = std::array::from_fn(mask);
        let full = t.cols >= 8 * NV;
        let mut acc = [[_mm256_setzero_ps(); NV]; MR];
        for p in 0..t.k {
            let row = t.b.add(p * t.ldb);
            let bv: [__m256; NV] = std::array::from_fn(|v| {
                if full {
                    _mm256_loadu_ps(row.add(8 * v))
                } else {
                    _mm256_maskload_ps(row.wrapping_add(8 * v), masks[v])
                }
            });
            let ap = t.a.add(p * MR_256);
            for (r, acc) in acc.iter_mut().enumerate() {
                let ar = _mm256_broadcast_ss(&*ap.add(r));
                for v in 0..NV {
                    acc[v] = _mm256_fmadd_ps(ar, bv[v], acc[v]);
                }
            }
        }
        for (r, acc) in acc.iter().enumerate().take(t.live) {
            let cr = t.c.add(r * t.ldc);
            for (v, &sum) in acc.iter().enumerate() {
                let mut out = sum;
                if let Some((lambda, w, ldw)) = t.w {
                    let wr = w.wrapping_add(r * ldw + 8 * v);
                    let lw =
                        _mm256_mul_ps(_mm256_set1_ps(lambda), _mm256_maskload_ps(wr, masks[v]));
                    out = _mm256_add_ps(out, lw);
                }
                _mm256_maskstore_ps(cr.wrapping_add(8 * v), masks[v], out);
            }
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod x86 {
    use super::Rows;
    pub unsafe fn block_512(
        _: usize,
        _: usize,
        _: usize,
        _: &[f32],
        _: Rows<*const f32>,
        _: Rows<*mut f32>,
        _: Option<(f32, Rows<*const f32>)>,
    ) {
        unreachable!("no x86 kernels on this architecture")
    }
    pub use block_512 as block_256;
    pub unsafe fn partial_512(_: *const f32, _: usize, _: &mut [f32]) {
        unreachable!("no x86 kernels on this architecture")
    }
    pub use partial_512 as partial_256;
}

#[cfg(test)]
mod tests {
    use crate::math::linalg::{matmul, matmul_plus_scaled};
    use crate::math::simd::{set, Simd};
    use ndarray::{s, Array2};
    use rand::Rng as _;

    fn random(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
        let mut rng = crate::math::rng::seeded(seed);
        Array2::from_shape_simple_fn((rows, cols), || rng.random_range(-1.0..1.0f32))
    }

    /// C = AᵀB and AᵀB + λW by this kernel with AVX-512 and with AVX2 (what this CPU has):
    /// the same bits, on shapes with every kind of tail,
    /// views inside larger arrays included; faer's bits where it sums k in one block; and
    /// within f32 rounding of the product summed in f64.
    #[test]
    fn the_kernel_gives_faers_bits_and_the_right_values() {
        let shapes = [
            (256, 784, 256),
            (97, 131, 203),
            (13, 17, 1500),
            (64, 48, 100),
            (5, 300, 200),
            (300, 5, 200),
            (12, 32, 700),
            (25, 33, 700),
            (12, 32, 1),
            (1, 1, 3),
            (3, 1, 40),
            (1, 40, 3),
            (7, 20, 0),
        ];
        for (t, &(m, n, k)) in shapes.iter().enumerate() {
            let seed = 10 * t as u64;
            // A (k,m) and B (k,n) as the live parts of wider arrays: row strides beyond m, n.
            let a_big = random(k, m + 3, seed);
            let b_big = random(k, n + 5, seed + 1);
            let (a, b) = (a_big.slice(s![.., 1..m + 1]), b_big.slice(s![.., 2..n + 2]));
            let w = random(m, n, seed + 2);
            let products = |enabled: bool| {
                super::set_enabled(enabled);
                let mut c = Array2::<f32>::zeros((m, n + 4));
                let mut cw = Array2::<f32>::zeros((m, n));
                matmul(a.t(), b, c.slice_mut(s![.., ..n]));
                matmul_plus_scaled(a.t(), b, 1e-3, w.view(), cw.view_mut());
                super::set_enabled(true);
                (c.slice(s![.., ..n]).to_owned(), cw)
            };
            let bits = |x: &Array2<f32>| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            let (faer, faer_w) = products(false);
            let (ours, ours_w) = products(true);
            set(Simd::Avx2);
            let (avx2, avx2_w) = products(true);
            set(Simd::Auto);
            assert_eq!(
                bits(&ours),
                bits(&avx2),
                "{m}×{n}×{k}: AᵀB differs between instruction sets"
            );
            assert_eq!(
                bits(&ours_w),
                bits(&avx2_w),
                "{m}×{n}×{k}: AᵀB + λW differs between instruction sets"
            );
            // Where faer runs its blocked kernels and sums k in one block (its vector and
            // k = 1 products fuse differently): the same bits.
            if (2..=256).contains(&k) && m.min(n) >= 5 {
                assert_eq!(
                    bits(&ours),
                    bits(&faer),
                    "{m}×{n}×{k}: AᵀB differs from faer's"
                );
                assert_eq!(
                    bits(&ours_w),
                    bits(&faer_w),
                    "{m}×{n}×{k}: AᵀB + λW differs from faer's"
                );
            }
            for i in 0..m {
                for j in 0..n {
                    let exact: f64 = (0..k).map(|p| a[[p, i]] as f64 * b[[p, j]] as f64).sum();
                    let lw = (1e-3f32 * w[[i, j]]) as f64;
                    for (got, want) in [(ours[[i, j]], exact), (ours_w[[i, j]], exact + lw)] {
                        let got = got as f64;
                        assert!(
                            (got - want).abs() <= 1e-5 * (k as f64).sqrt().max(1.0),
                            "{m}×{n}×{k} ({i},{j}): {got} vs {want}"
                        );
                    }
                }
            }
        }
    }
}
