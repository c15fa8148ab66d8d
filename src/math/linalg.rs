//! The matrix products the model needs, behind two small functions, so that the backend
//! (faer's kernels, single-threaded, no allocation) can change without touching model.rs.
//!
//! With `--threads N` ≥ 2 the training loop runs inside a local rayon pool of N threads (see
//! `train::sgd::train`), whose other threads [`awake`] keeps awake between jobs; every
//! product large enough is then split into N chunks of its
//! output (rows of C when C is at least as tall as wide or each chunk keeps 96 rows or more,
//! columns otherwise) by nested `rayon::join`s (which allocate nothing), each chunk a
//! single-threaded faer product.
//! Each element of C is still computed by one kernel call over the whole inner dimension, so
//! the result is the same, bit for bit, for every thread count (checked in tests/threads.rs).
//! Outside a rayon pool (`--threads 1`) nothing is split and no thread is started.

use std::sync::atomic::{AtomicBool, Ordering};

use faer::{Accum, MatMut, MatRef, Par};
use faer_ext::IntoFaer;
use ndarray::{ArrayView2, ArrayViewMut2, Axis};

use crate::Real;

/// Products with fewer multiply-adds (m·n·k) than this are never split: waking a helper costs
/// more than it saves.
pub const SPLIT_MIN_MACS: usize = 1 << 18;

/// A product is split by rows of C while each chunk keeps at least this many (faer's tallest
/// f32 kernel on AVX-512): measured in training at 2 threads, rows keep each thread on the rows
/// of X it gathered and the rows of W1 and dW1 it updates (dW1 = dZᵀX: 500-520 µs by rows,
/// 515-530 by columns; Z = XW1ᵀ: 495-525 by rows, 525-560 by columns).
const ROWS_PER_CHUNK: usize = 96;

/// Chunk boundaries are multiples of this many rows or columns (a whole number of SIMD
/// registers of f32, so that no chunk starts in the middle of a microkernel tile).
const ALIGN: usize = 16;

/// The thread count to split work over: that of the rayon pool this thread works for, or 1
/// outside any pool (checked first, so that the global pool is never started).
#[inline]
pub fn threads() -> usize {
    match rayon::current_thread_index() {
        Some(_) => rayon::current_num_threads(),
        None => 1,
    }
}

/// Runs `f` on the current rayon pool with its other threads kept awake: between jobs they
/// keep looking for work, yielding the core to any other runnable thread between looks,
/// instead of going to sleep. A sleeping thread takes 10-40 µs to wake on a virtual machine,
/// which every split product and pass after a serial stretch then waits for. Outside a pool,
/// or in a pool of one thread, just `f()`.
pub fn awake<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if threads() <= 1 {
        return f();
    }
    /// Tells the threads kept awake to stop, however `f` ends (a panic too: the scope waits for
    /// them).
    struct Done<'a>(&'a AtomicBool);
    impl Drop for Done<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Release);
        }
    }
    let done = AtomicBool::new(false);
    let me = rayon::current_thread_index();
    rayon::scope(|s| {
        let _done = Done(&done);
        let done = &done;
        s.spawn_broadcast(move |_, ctx| {
            if Some(ctx.index()) == me {
                return;
            }
            while !done.load(Ordering::Acquire) {
                if rayon::yield_now() != Some(rayon::Yield::Executed) {
                    // Not a busy spin: with more threads than cores (two such runs side by
                    // side), the core goes to whoever has work.
                    std::thread::yield_now();
                }
            }
        });
        f()
    })
}

/// `(a(), b())`, the two side by side on the current rayon pool when it has more than one
/// thread (each may split its own work further; a thread done early takes what is left).
pub fn both<A: Send, B: Send>(
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if threads() <= 1 {
        return (a(), b());
    }
    rayon::join(a, b)
}

/// Runs `f(i, part_i)` for the `parts` pieces of `data` cut by `split` (pieces i..j, at a
/// piece boundary), on the current rayon pool by nested `rayon::join`s: parts − 1 joins, no
/// allocation. `split(data, k)` returns pieces 0..k and k..; `f` gets the first piece's index.
pub fn for_each_part<D: Send>(
    data: D,
    parts: usize,
    split: &(impl Fn(D, usize) -> (D, D) + Sync),
    f: &(impl Fn(usize, D) + Sync),
) {
    fn go<D: Send>(
        data: D,
        lo: usize,
        hi: usize,
        split: &(impl Fn(D, usize) -> (D, D) + Sync),
        f: &(impl Fn(usize, D) + Sync),
    ) {
        if hi - lo <= 1 {
            return f(lo, data);
        }
        let mid = lo + (hi - lo) / 2;
        let (a, b) = split(data, mid - lo);
        rayon::join(|| go(a, lo, mid, split, f), || go(b, mid, hi, split, f));
    }
    go(data, 0, parts.max(1), split, f);
}

/// C = A·B, or C = A·B + λ·W when `plus` is `Some((λ, W))`. A and B may be transposed views
/// (`w.t()`). Split over the current rayon pool when there is one (see the module's comment).
#[inline]
fn gemm<T: Real>(
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    c: ArrayViewMut2<T>,
    plus: Option<(T, ArrayView2<T>)>,
) {
    assert!(
        a.ncols() == b.nrows() && c.nrows() == a.nrows() && c.ncols() == b.ncols(),
        "matmul shapes {:?}·{:?} → {:?}",
        a.dim(),
        b.dim(),
        c.dim()
    );
    if let Some((_, w)) = plus {
        assert_eq!(w.dim(), c.dim(), "λW differs in shape from the product");
    }
    let (m, n, k) = (c.nrows(), c.ncols(), a.ncols());
    if m.saturating_mul(n).saturating_mul(k) >= SLICE_MACS && stop_installed() {
        return gemm_sliced(a, b, c, plus, SLICE_MACS);
    }
    gemm_whole(a, b, c, plus);
}

/// [`gemm`] without looking at the stop flag.
#[inline]
fn gemm_whole<T: Real>(
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    c: ArrayViewMut2<T>,
    plus: Option<(T, ArrayView2<T>)>,
) {
    let (m, n, k) = (c.nrows(), c.ncols(), a.ncols());
    let threads = if m * n * k < SPLIT_MIN_MACS {
        1
    } else {
        threads()
    };
    if threads <= 1 {
        return gemm_chunk(a, b, c, plus);
    }
    gemm_split(threads, a, b, c, plus);
}

/// With a stop flag installed ([`stoppable`]), a product of at least this many
/// multiply-adds is computed in slices of about this many (tens of milliseconds each), the
/// flag looked at before each: a signal stops a training step with a minibatch of 300,000
/// rows within a slice, not after five products of seconds each. Ordinary minibatches
/// (B = 256 rows of 784 into 1024 units: 2e8) stay one call, as before.
pub const SLICE_MACS: usize = 1 << 30;

/// C computed in slices of its rows (or columns, when C is wider than tall) of about
/// `slice_macs` multiply-adds each, aligned like the threads' chunks, each through
/// [`gemm_whole`]; stops before the next slice once the installed flag is set, leaving the
/// rest of C as it was. Each element of C is still one kernel call over the whole inner
/// dimension, so a product that runs to its end has the same bits as [`gemm_whole`]'s.
fn gemm_sliced<T: Real>(
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    mut c: ArrayViewMut2<T>,
    plus: Option<(T, ArrayView2<T>)>,
    slice_macs: usize,
) {
    let (m, n, k) = (c.nrows(), c.ncols(), a.ncols());
    let axis = if m >= n { Axis(0) } else { Axis(1) };
    let len = c.len_of(axis);
    let per_line = (m * n * k / len.max(1)).max(1);
    let step = (slice_macs / per_line).max(1).next_multiple_of(ALIGN);
    let mut lo = 0;
    while lo < len {
        if stopped() {
            return;
        }
        let hi = (lo + step).min(len);
        let range = (lo..hi).into();
        let c = c.slice_axis_mut(axis, range);
        let plus = plus.map(|(lambda, w)| (lambda, w.slice_axis_move(axis, range)));
        if axis == Axis(0) {
            gemm_whole(a.slice_axis(axis, range), b, c, plus);
        } else {
            gemm_whole(a, b.slice_axis(axis, range), c, plus);
        }
        lo = hi;
    }
}

thread_local! {
    /// The stop flag installed on this thread by [`stoppable`], or null.
    static STOP: std::cell::Cell<*const AtomicBool> = const { std::cell::Cell::new(std::ptr::null()) };
}

/// Runs `f`, one training step's passes on this thread, with `stop` installed: from then
/// on, until `f` returns, a large product ([`SLICE_MACS`]) or element-wise pass
/// ([`SLICE_ELEMENTS`]) stops early, leaving its output unfinished, once `stop` is set. The
/// caller looks at `stop` after `f` and then discards all that `f` computed.
pub fn stoppable<R>(stop: &AtomicBool, f: impl FnOnce() -> R) -> R {
    /// Puts back the flag that was installed before, however `f` ends.
    struct Restore(*const AtomicBool);
    impl Drop for Restore {
        fn drop(&mut self) {
            STOP.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(STOP.with(|s| s.replace(stop)));
    f()
}

/// True when a stop flag is installed on this thread.
#[inline]
fn stop_installed() -> bool {
    STOP.with(|s| !s.get().is_null())
}

/// True when the stop flag installed on this thread is set.
#[inline]
fn stopped() -> bool {
    STOP.with(|s| {
        let p = s.get();
        // SAFETY: a non-null pointer was installed by `stoppable` from a reference that
        // outlives its call, and is replaced by the previous value before that call returns
        // (`Restore`, on unwinding too); it is read on the same thread only.
        !p.is_null() && unsafe { (*p).load(Ordering::Relaxed) }
    })
}

/// With a stop flag installed ([`stoppable`]), an element-wise pass over at least this many
/// elements goes in slices of rows of about this many, the flag looked at before each.
pub const SLICE_ELEMENTS: usize = 1 << 22;

/// The chunk boundary `i` of `len` rows or columns cut into (at most) `parts` aligned pieces.
#[inline]
fn bound(len: usize, parts: usize, i: usize) -> usize {
    let step = len.div_ceil(parts).next_multiple_of(ALIGN);
    (i * step).min(len)
}

/// C split into `threads` chunks of rows (see [`ROWS_PER_CHUNK`]) or else columns; chunk i
/// computes its rows (columns) of C from the same rows of A (columns of B).
fn gemm_split<T: Real>(
    threads: usize,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    c: ArrayViewMut2<T>,
    plus: Option<(T, ArrayView2<T>)>,
) {
    let (m, n) = c.dim();
    let axis = if m >= n || m >= threads * ROWS_PER_CHUNK {
        Axis(0)
    } else {
        Axis(1)
    };
    let len = c.len_of(axis);
    let parts = threads.min(len.div_ceil(ALIGN));
    // A part is (its first chunk's index, its rows or columns of C).
    for_each_part(
        (0, c),
        parts,
        &|(lo, c), k| {
            let at = bound(len, parts, lo + k) - bound(len, parts, lo);
            let (c0, c1) = c.split_at(axis, at);
            ((lo, c0), (lo + k, c1))
        },
        &|i, (_, c)| {
            let (lo, hi) = (bound(len, parts, i), bound(len, parts, i + 1));
            if lo >= hi {
                return;
            }
            let range = (lo..hi).into();
            let plus = plus.map(|(lambda, w)| (lambda, w.slice_axis_move(axis, range)));
            if axis == Axis(0) {
                gemm_chunk(a.slice_axis(axis, range), b, c, plus);
            } else {
                gemm_chunk(a, b.slice_axis(axis, range), c, plus);
            }
        },
    );
}

/// One chunk on this thread: C = A·B, or C = λ·W, then C += A·B.
#[inline]
fn gemm_chunk<T: Real>(
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    mut c: ArrayViewMut2<T>,
    plus: Option<(T, ArrayView2<T>)>,
) {
    if outer_product(a, b, c.view_mut(), plus) {
        return;
    }
    match plus {
        None => gemm_faer(a, b, c, Accum::Replace),
        Some((lambda, w)) => {
            // Contiguous (the usual case): a plain loop, without Zip's per-call setup, which
            // costs as much as the pass itself on a digits-sized W (2 % of its training).
            if let (Some(cs), Some(ws)) = (c.as_slice_mut(), w.as_slice()) {
                cs.iter_mut().zip(ws).for_each(|(c, &w)| *c = lambda * w);
            } else {
                ndarray::Zip::from(&mut c)
                    .and(&w)
                    .for_each(|c, &w| *c = lambda * w);
            }
            gemm_faer(a, b, c, Accum::Add)
        }
    }
}

/// C = AᵀB (+ λW) by [`crate::math::outer`]'s kernels when T is f32 and the layout is the
/// weight gradients' (A the transpose of a row-major matrix, B, C and W row-major), whatever
/// the size: a chunk of a split product then takes the same kernel as the whole would, so the
/// bits do not depend on the thread count. Returns false, having done nothing, otherwise.
#[inline]
fn outer_product<T: Real>(
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    mut c: ArrayViewMut2<T>,
    plus: Option<(T, ArrayView2<T>)>,
) -> bool {
    use crate::math::outer::{at_b, Rows};
    use std::any::TypeId;
    let (m, n, k) = (c.nrows(), c.ncols(), a.ncols());
    if TypeId::of::<T>() != TypeId::of::<f32>() {
        return false;
    }
    // Aᵀ (k,m), B (k,n), C and W (m,n): each row-major with unit column stride.
    let (Some(at), Some(bs), Some(cs)) = (
        row_stride(k, m, a.strides()[1], a.strides()[0]),
        row_stride(k, n, b.strides()[0], b.strides()[1]),
        row_stride(m, n, c.strides()[0], c.strides()[1]),
    ) else {
        return false;
    };
    let plus = match plus {
        None => None,
        Some((lambda, w)) => match row_stride(m, n, w.strides()[0], w.strides()[1]) {
            Some(ws) => Some((
                lambda.f64() as f32,
                Rows {
                    ptr: w.as_ptr().cast::<f32>(),
                    stride: ws,
                },
            )),
            None => return false,
        },
    };
    // SAFETY: T is f32 (same TypeId); the strides describe the live views (checked just
    // above), whose shapes `gemm` checked; C is borrowed mutably, so it overlaps none of them.
    unsafe {
        at_b(
            m,
            n,
            k,
            Rows {
                ptr: a.as_ptr().cast::<f32>(),
                stride: at,
            },
            Rows {
                ptr: b.as_ptr().cast::<f32>(),
                stride: bs,
            },
            Rows {
                ptr: c.as_mut_ptr().cast::<f32>(),
                stride: cs,
            },
            plus,
        )
    }
}

/// The row stride of a (rows, cols) view whose columns are adjacent (column stride 1, or
/// one column), or None; a view of one row gets 0.
#[inline]
fn row_stride(rows: usize, cols: usize, row: isize, col: isize) -> Option<usize> {
    if cols > 1 && col != 1 {
        return None;
    }
    if rows <= 1 {
        return Some(0);
    }
    usize::try_from(row).ok()
}

/// One single-threaded faer product (no allocation), on faer-ext's views of the ndarrays.
#[inline]
fn gemm_faer<T: Real>(a: ArrayView2<T>, b: ArrayView2<T>, mut c: ArrayViewMut2<T>, acc: Accum) {
    #[cfg(target_arch = "x86_64")]
    if crate::math::simd::capped() && a.ncols() > 0 {
        return gemm_x86_avx2(a, b, c.view_mut(), acc);
    }
    let (a, b): (MatRef<'_, T>, MatRef<'_, T>) = (a.into_faer(), b.into_faer());
    let c: MatMut<'_, T> = c.into_faer();
    faer::linalg::matmul::matmul(c, acc, a, b, T::one(), Par::Seq);
}

/// [`gemm_faer`] on a CPU with AVX-512F capped at AVX2 ([`crate::math::simd`]): faer's own
/// x86 kernels (the private-gemm-x86 crate it calls for these sizes, pinned to faer's
/// version) with the AVX2+FMA build chosen where faer would pick the AVX-512 one. Every
/// shape goes there, also those faer sends elsewhere (one row or column, tiny products),
/// whose other kernels would pick AVX-512 by themselves.
#[cfg(target_arch = "x86_64")]
fn gemm_x86_avx2<T: Real>(a: ArrayView2<T>, b: ArrayView2<T>, mut c: ArrayViewMut2<T>, acc: Accum) {
    use private_gemm_x86 as x86;
    let (m, n, k) = (c.nrows(), c.ncols(), a.ncols());
    if m == 0 || n == 0 {
        return;
    }
    let dtype = match size_of::<T>() {
        4 => x86::DType::F32,
        _ => x86::DType::F64,
    };
    let beta = match acc {
        Accum::Replace => x86::Accum::Replace,
        Accum::Add => x86::Accum::Add,
    };
    let alpha = T::one();
    let (cs, as_, bs) = ([c.strides()[0], c.strides()[1]], a.strides(), b.strides());
    let dst = c.as_mut_ptr() as *mut ();
    // SAFETY: the pointers and element strides describe the three live views (shapes checked
    // by `gemm`), C is borrowed mutably and does not alias A or B, `T` is f32 or f64 as
    // `dtype` says, the index pointers are null (a full destination) and one thread runs it.
    unsafe {
        x86::gemm(
            dtype,
            x86::IType::U64,
            x86::InstrSet::Avx256,
            m,
            n,
            k,
            dst,
            cs[0],
            cs[1],
            std::ptr::null(),
            std::ptr::null(),
            x86::DstKind::Full,
            beta,
            a.as_ptr() as *const (),
            as_[0],
            as_[1],
            false,
            std::ptr::null(),
            0,
            b.as_ptr() as *const (),
            bs[0],
            bs[1],
            false,
            &raw const alpha as *const (),
            1,
        );
    }
}

/// C = A·B. A and B may be transposed views (`w.t()`); C is overwritten.
#[inline]
pub fn matmul<T: Real>(a: ArrayView2<T>, b: ArrayView2<T>, c: ArrayViewMut2<T>) {
    gemm(a, b, c, None);
}

/// C = A·B + λ·W: the weight gradients' "product plus L2 term" in one call.
#[inline]
pub fn matmul_plus_scaled<T: Real>(
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    lambda: T,
    w: ArrayView2<T>,
    c: ArrayViewMut2<T>,
) {
    gemm(a, b, c, Some((lambda, w)));
}

/// W ← W + α·D (the SGD update with α = −η), split like the products (see [`zip_rows`]).
pub fn scaled_add<T: Real>(w: ArrayViewMut2<T>, alpha: T, d: ArrayView2<T>) {
    zip_rows(w, d, |w, d| *w += alpha * d);
}

/// W ← W + α·D as [`scaled_add`], returning what the same pass sees on the way: ‖D‖², ‖W‖²
/// of the new W (the same bits as [`sum_sq_of`] gives for each) and whether every updated W is
/// finite. One pass over both, in the blocks of [`sum_sq`], instead of four.
pub fn scaled_add_measured<T: Real>(
    mut w: ArrayViewMut2<T>,
    alpha: T,
    d: ArrayView2<T>,
) -> Measured {
    assert_eq!(w.dim(), d.dim(), "element-wise operands differ in shape");
    let len = w.len();
    match (w.as_slice_mut(), d.as_slice()) {
        (Some(w), Some(d)) => tree_reduce(
            (w, d),
            len,
            SUM_BLOCK,
            elementwise_parts(len),
            &|(w, d): (&mut [T], &[T]), at| {
                let ((w0, w1), (d0, d1)) = (w.split_at_mut(at), d.split_at(at));
                ((w0, d0), (w1, d1))
            },
            &|_, (w, d): (&mut [T], &[T])| update_block(w, alpha, d),
            &|a, b| Measured {
                d_sq: a.d_sq + b.d_sq,
                w_sq: a.w_sq + b.w_sq,
                finite: a.finite & b.finite,
            },
        ),
        _ => {
            let d_sq = sum_sq_of(d);
            scaled_add(w.view_mut(), alpha, d);
            Measured {
                d_sq,
                w_sq: sum_sq_of(w.view()),
                finite: w.iter().all(|v| v.is_finite()),
            }
        }
    }
}

/// What [`scaled_add_measured`] sees on its way: ‖D‖², ‖W‖² of the updated W (each the same
/// bits as [`sum_sq_of`] gives) and whether every updated W is finite.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measured {
    pub d_sq: f64,
    pub w_sq: f64,
    pub finite: bool,
}

/// Element-wise passes smaller than this are never split.
const SPLIT_MIN_ELEMENTS: usize = 1 << 16;

/// The parts to cut an element-wise pass over `len` elements into: 1 when small or outside a
/// pool, else the pool's thread count.
#[inline]
pub fn elementwise_parts(len: usize) -> usize {
    if len < SPLIT_MIN_ELEMENTS {
        1
    } else {
        threads()
    }
}

/// f(x, y) for each element x of X and the element y of Y at the same place. Over the current
/// rayon pool when X is large, by whole rows (contiguous parts of a row-major X); element by
/// element, so the same bits for every thread count.
pub fn zip_rows<T: Real>(mut x: ArrayViewMut2<T>, y: ArrayView2<T>, f: impl Fn(&mut T, T) + Sync) {
    assert_eq!(x.dim(), y.dim(), "element-wise operands differ in shape");
    if let Some(step) = slice_rows(x.nrows(), x.ncols()) {
        for lo in (0..x.nrows()).step_by(step) {
            if stopped() {
                return;
            }
            let range = (lo..(lo + step).min(x.nrows())).into();
            zip_rows_whole(
                x.slice_axis_mut(Axis(0), range),
                y.slice_axis(Axis(0), range),
                &f,
            );
        }
        return;
    }
    zip_rows_whole(x, y, f)
}

/// Rows per slice of an element-wise pass over (rows, cols) when it goes in slices (a stop
/// flag installed and at least [`SLICE_ELEMENTS`] elements), else None.
#[inline]
fn slice_rows(rows: usize, cols: usize) -> Option<usize> {
    (rows.saturating_mul(cols) >= SLICE_ELEMENTS && stop_installed())
        .then(|| (SLICE_ELEMENTS / cols.max(1)).max(1))
}

/// [`zip_rows`] without looking at the stop flag.
fn zip_rows_whole<T: Real>(x: ArrayViewMut2<T>, y: ArrayView2<T>, f: impl Fn(&mut T, T) + Sync) {
    let threads = elementwise_parts(x.len());
    let rows = x.nrows();
    let per = rows.div_ceil(threads.max(1));
    for_each_part(
        (x, y),
        threads.min(rows.max(1)),
        &|(x, y), k| {
            let at = (k * per).min(x.nrows());
            let ((x0, x1), (y0, y1)) = (x.split_at(Axis(0), at), y.split_at(Axis(0), at));
            ((x0, y0), (x1, y1))
        },
        &|_, (mut x, y)| match (x.as_slice_mut(), y.as_slice()) {
            (Some(x), Some(y)) => each(x, y, y, &|x, y, _| f(x, y)),
            _ => ndarray::Zip::from(&mut x).and(&y).for_each(|x, &y| f(x, y)),
        },
    );
}

/// f(x, y, z) for each element x of X and the elements y of Y and z of Z at the same place:
/// [`zip_rows`] with two inputs.
pub fn zip3_rows<T: Real>(
    mut x: ArrayViewMut2<T>,
    y: ArrayView2<T>,
    z: ArrayView2<T>,
    f: impl Fn(&mut T, T, T) + Sync,
) {
    assert!(
        x.dim() == y.dim() && x.dim() == z.dim(),
        "element-wise operands differ in shape"
    );
    if let Some(step) = slice_rows(x.nrows(), x.ncols()) {
        for lo in (0..x.nrows()).step_by(step) {
            if stopped() {
                return;
            }
            let range = (lo..(lo + step).min(x.nrows())).into();
            zip3_rows_whole(
                x.slice_axis_mut(Axis(0), range),
                y.slice_axis(Axis(0), range),
                z.slice_axis(Axis(0), range),
                &f,
            );
        }
        return;
    }
    zip3_rows_whole(x, y, z, f)
}

/// [`zip3_rows`] without looking at the stop flag.
fn zip3_rows_whole<T: Real>(
    x: ArrayViewMut2<T>,
    y: ArrayView2<T>,
    z: ArrayView2<T>,
    f: impl Fn(&mut T, T, T) + Sync,
) {
    let threads = elementwise_parts(x.len());
    let rows = x.nrows();
    let per = rows.div_ceil(threads.max(1));
    for_each_part(
        (x, y, z),
        threads.min(rows.max(1)),
        &|(x, y, z), k| {
            let at = (k * per).min(x.nrows());
            let (x0, x1) = x.split_at(Axis(0), at);
            let ((y0, y1), (z0, z1)) = (y.split_at(Axis(0), at), z.split_at(Axis(0), at));
            ((x0, y0, z0), (x1, y1, z1))
        },
        &|_, (mut x, y, z)| match (x.as_slice_mut(), y.as_slice(), z.as_slice()) {
            (Some(x), Some(y), Some(z)) => each(x, y, z, &f),
            _ => ndarray::Zip::from(&mut x)
                .and(&y)
                .and(&z)
                .for_each(|x, &y, &z| f(x, y, z)),
        },
    );
}

/// f(x, y, z) for the elements at the same place of three slices of one length: the
/// contiguous part of every element-wise pass ([`zip_rows`], [`zip3_rows`]), on the AVX2 build
/// of the loop when the CPU has it (element by element: the same bits on every build).
#[inline]
fn each<T: Real>(x: &mut [T], y: &[T], z: &[T], f: &impl Fn(&mut T, T, T)) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { each_avx2(x, y, z, f) };
    }
    each_portable(x, y, z, f)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn each_avx2<T: Real>(x: &mut [T], y: &[T], z: &[T], f: &impl Fn(&mut T, T, T)) {
    each_portable(x, y, z, f)
}

#[inline(always)]
fn each_portable<T: Real>(x: &mut [T], y: &[T], z: &[T], f: &impl Fn(&mut T, T, T)) {
    x.iter_mut()
        .zip(y.iter().zip(z))
        .for_each(|(x, (&y, &z))| f(x, y, z));
}

/// Sums are taken over blocks of this many values, then added pairwise in a fixed tree (see
/// [`sum_sq`]).
const SUM_BLOCK: usize = 1 << 14;

/// leaf(block) of each block of `data` (`len` items cut into blocks of `block` items), the
/// leaves' results combined pairwise in a tree fixed by `len` and `block` alone: both halves
/// of every node are split at a block boundary by `split(data, items)`, and the top nodes run
/// on `parts` threads of the current rayon pool. The tree, and so every bit of the result, is
/// the same for every thread count; no allocation. `leaf` gets its first item's index.
pub fn tree_reduce<D: Send, R: Send>(
    data: D,
    len: usize,
    block: usize,
    parts: usize,
    split: &(impl Fn(D, usize) -> (D, D) + Sync),
    leaf: &(impl Fn(usize, D) -> R + Sync),
    combine: &(impl Fn(R, R) -> R + Sync),
) -> R {
    /// The node of `len` items from item `at`, on `parts` threads.
    struct Node {
        at: usize,
        len: usize,
        block: usize,
        parts: usize,
    }
    fn go<D: Send, R: Send>(
        data: D,
        node: Node,
        split: &(impl Fn(D, usize) -> (D, D) + Sync),
        leaf: &(impl Fn(usize, D) -> R + Sync),
        combine: &(impl Fn(R, R) -> R + Sync),
    ) -> R {
        let Node {
            at,
            len,
            block,
            parts,
        } = node;
        if len <= block {
            return leaf(at, data);
        }
        let mid = len.div_ceil(block) / 2 * block;
        let (a, b) = split(data, mid);
        let half = |at, len, parts| Node {
            at,
            len,
            block,
            parts,
        };
        let (ra, rb) = if parts > 1 {
            let (left, right) = (
                half(at, mid, parts / 2),
                half(at + mid, len - mid, parts - parts / 2),
            );
            rayon::join(
                || go(a, left, split, leaf, combine),
                || go(b, right, split, leaf, combine),
            )
        } else {
            (
                go(a, half(at, mid, 1), split, leaf, combine),
                go(b, half(at + mid, len - mid, 1), split, leaf, combine),
            )
        };
        combine(ra, rb)
    }
    let root = Node {
        at: 0,
        len,
        block: block.max(1),
        parts,
    };
    go(data, root, split, leaf, combine)
}

/// [`tree_reduce`] adding the leaves' values.
pub fn tree_sum<D: Send>(
    data: D,
    len: usize,
    block: usize,
    parts: usize,
    split: &(impl Fn(D, usize) -> (D, D) + Sync),
    leaf: &(impl Fn(usize, D) -> f64 + Sync),
) -> f64 {
    tree_reduce(data, len, block, parts, split, leaf, &|a, b| a + b)
}

/// Σ v², accumulated in f64: over blocks of SUM_BLOCK values (split over the current rayon
/// pool when large), each block in eight interleaved partial sums (so that the compiler can keep
/// them in SIMD registers: one serial chain of dependent additions is several times slower).
/// The order is fixed by the length alone, so the result depends only on the values: the same
/// bits for every thread count, and from the AVX2 build of the same loop, picked at run time
/// (vectorizing keeps each partial sum's order).
pub fn sum_sq<T: Real>(v: &[T]) -> f64 {
    slice_tree(v, &sum_sq_block, &|a, b| a + b)
}

/// [`tree_reduce`] over the SUM_BLOCK-value blocks of a slice, split when it is large.
fn slice_tree<T: Real, R: Send>(
    v: &[T],
    leaf: &(impl Fn(&[T]) -> R + Sync),
    combine: &(impl Fn(R, R) -> R + Sync),
) -> R {
    tree_reduce(
        v,
        v.len(),
        SUM_BLOCK,
        elementwise_parts(v.len()),
        &|v: &[T], at| v.split_at(at),
        &|_, v| leaf(v),
        combine,
    )
}

/// Σ v² of one block (see [`sum_sq`]).
fn sum_sq_block<T: Real>(v: &[T]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { sum_sq_avx2(v) };
    }
    sum_sq_portable(v)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sum_sq_avx2<T: Real>(v: &[T]) -> f64 {
    sum_sq_portable(v)
}

#[inline(always)]
fn sum_sq_portable<T: Real>(v: &[T]) -> f64 {
    let mut acc = [0.0f64; 8];
    let chunks = v.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            let x = x.f64();
            *a += x * x;
        }
    }
    for (a, &x) in acc.iter_mut().zip(rest) {
        let x = x.f64();
        *a += x * x;
    }
    lanes_sum(acc)
}

/// The eight partial sums of [`sum_sq_portable`] (and of [`update_portable`]) added in their
/// one fixed order.
#[inline(always)]
fn lanes_sum(acc: [f64; 8]) -> f64 {
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

/// One block of [`scaled_add_measured`]: W ← W + α·D, with ‖D‖² (in the order of
/// [`sum_sq_block`], so the same bits) and whether every new W is finite, in one pass.
fn update_block<T: Real>(w: &mut [T], alpha: T, d: &[T]) -> Measured {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        use std::any::TypeId;
        if TypeId::of::<T>() == TypeId::of::<f32>() {
            let n = w.len().min(d.len());
            // SAFETY: T is f32 (same TypeId), so these are the same slices as f32.
            let (w, alpha, d) = unsafe {
                (
                    std::slice::from_raw_parts_mut(w.as_mut_ptr().cast::<f32>(), n),
                    alpha.f64() as f32,
                    std::slice::from_raw_parts(d.as_ptr().cast::<f32>(), n),
                )
            };
            if crate::math::simd::isa() == crate::math::simd::Isa::Avx512 {
                // SAFETY: the CPU has AVX-512F (`isa`).
                return unsafe { update_f32_avx512(w, alpha, d) };
            }
            // SAFETY: the CPU has AVX2, checked above.
            return unsafe { update_f32_avx2(w, alpha, d) };
        }
        // SAFETY: the CPU has AVX2, checked above.
        return unsafe { update_avx2(w, alpha, d) };
    }
    update_portable(w, alpha, d)
}

/// The f64 partial sums of [`update_f32`]'s squares, eight lanes: one AVX-512 register, or two
/// AVX2 ones (lanes 0-3 and 4-7). Lane l takes the square of each eight values' value l.
/// Every method asks that the CPU have the implementation's instruction set (AVX-512F for
/// [`Zmm`], AVX2 for [`Ymm2`]).
#[cfg(target_arch = "x86_64")]
trait Lanes: Copy {
    /// Eight zeros.
    unsafe fn zero() -> Self;
    /// Lane l += (x_l as f64)², a product, then a sum.
    unsafe fn add_squares(self, x: std::arch::x86_64::__m256) -> Self;
    /// The eight partial sums, lane 0 first.
    unsafe fn get(self) -> [f64; 8];
}

/// [`Lanes`] in one AVX-512 register: half the conversions, products and sums of two AVX2 ones
/// (a small model's W1 update is latency-bound on them).
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Zmm(std::arch::x86_64::__m512d);

#[cfg(target_arch = "x86_64")]
impl Lanes for Zmm {
    #[inline(always)]
    unsafe fn zero() -> Self {
        // SAFETY (each intrinsic here): the CPU has AVX-512F (the trait's contract); the
        // store writes eight f64 into room for eight.
        Zmm(unsafe { std::arch::x86_64::_mm512_setzero_pd() })
    }
    #[inline(always)]
    unsafe fn add_squares(self, x: std::arch::x86_64::__m256) -> Self {
        use std::arch::x86_64::*;
        unsafe {
            let x = _mm512_cvtps_pd(x);
            Zmm(_mm512_add_pd(self.0, _mm512_mul_pd(x, x)))
        }
    }
    #[inline(always)]
    unsafe fn get(self) -> [f64; 8] {
        let mut acc = [0.0f64; 8];
        unsafe { std::arch::x86_64::_mm512_storeu_pd(acc.as_mut_ptr(), self.0) };
        acc
    }
}

/// [`Lanes`] in two AVX2 registers.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Ymm2(std::arch::x86_64::__m256d, std::arch::x86_64::__m256d);

#[cfg(target_arch = "x86_64")]
impl Lanes for Ymm2 {
    #[inline(always)]
    unsafe fn zero() -> Self {
        use std::arch::x86_64::*;
        // SAFETY (each intrinsic here): the CPU has AVX2 (the trait's contract); the stores
        // write four f64 each into room for eight.
        unsafe { Ymm2(_mm256_setzero_pd(), _mm256_setzero_pd()) }
    }
    #[inline(always)]
    unsafe fn add_squares(self, x: std::arch::x86_64::__m256) -> Self {
        use std::arch::x86_64::*;
        unsafe {
            let lo = _mm256_cvtps_pd(_mm256_castps256_ps128(x));
            let hi = _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(x));
            Ymm2(
                _mm256_add_pd(self.0, _mm256_mul_pd(lo, lo)),
                _mm256_add_pd(self.1, _mm256_mul_pd(hi, hi)),
            )
        }
    }
    #[inline(always)]
    unsafe fn get(self) -> [f64; 8] {
        use std::arch::x86_64::*;
        let mut acc = [0.0f64; 8];
        unsafe {
            _mm256_storeu_pd(acc.as_mut_ptr(), self.0);
            _mm256_storeu_pd(acc.as_mut_ptr().add(4), self.1);
        }
        acc
    }
}

/// [`update_f32`] with the partial sums in one AVX-512 register.
///
/// # Safety
/// The CPU has AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2")]
unsafe fn update_f32_avx512(w: &mut [f32], alpha: f32, d: &[f32]) -> Measured {
    // SAFETY: the caller's (AVX-512F, which Zmm needs, and AVX2).
    unsafe { update_f32::<Zmm>(w, alpha, d) }
}

/// [`update_f32`] with the partial sums in two AVX2 registers.
///
/// # Safety
/// The CPU has AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn update_f32_avx2(w: &mut [f32], alpha: f32, d: &[f32]) -> Measured {
    // SAFETY: the caller's (AVX2, which Ymm2 needs).
    unsafe { update_f32::<Ymm2>(w, alpha, d) }
}

/// [`update_portable`] for f32, written out in AVX2 (inlined into [`update_f32_avx2`] and
/// [`update_f32_avx512`]): the compiler's build of that loop kept two f64 lanes to a register
/// and shuffled the rest (120 µs for W1 at the reference size, 8 % of a training step). The
/// same operations in the same lanes: element 8c + l's square into partial sum l, w + α·d (a
/// product, then a sum: no fused multiply-add), the new w's square into its own partial sum l;
/// the same bits.
///
/// # Safety
/// The CPU has AVX2 and what `L` needs.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn update_f32<L: Lanes>(w: &mut [f32], alpha: f32, d: &[f32]) -> Measured {
    use std::arch::x86_64::*;
    let n8 = w.len().min(d.len()) / 8 * 8;
    // SAFETY (each unsafe block below): the CPU has AVX2 and what L needs (the caller's); the
    // loads and the store touch values i..i+8 with i + 8 ≤ n8 ≤ both lengths.
    let (mut d_sq, mut w_sq) = unsafe { (L::zero(), L::zero()) };
    let (a, magnitude, inf) = unsafe {
        (
            _mm256_set1_ps(alpha),
            _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff)),
            _mm256_set1_ps(f32::INFINITY),
        )
    };
    let mut all_finite = unsafe { _mm256_castsi256_ps(_mm256_set1_epi32(-1)) };
    let (wp, dp) = (w.as_mut_ptr(), d.as_ptr());
    let mut i = 0;
    while i < n8 {
        unsafe {
            let x = _mm256_loadu_ps(dp.add(i));
            d_sq = d_sq.add_squares(x);
            let v = _mm256_add_ps(_mm256_loadu_ps(wp.add(i)), _mm256_mul_ps(a, x));
            _mm256_storeu_ps(wp.add(i), v);
            w_sq = w_sq.add_squares(v);
            // |v| < ∞ is false for ±∞ and NaN alike.
            let ok = _mm256_cmp_ps::<_CMP_LT_OQ>(_mm256_and_ps(v, magnitude), inf);
            all_finite = _mm256_and_ps(all_finite, ok);
        }
        i += 8;
    }
    let (mut acc, mut acc_w) = unsafe { (d_sq.get(), w_sq.get()) };
    let finite = unsafe { _mm256_movemask_ps(all_finite) } == 0xff;
    // The last values (fewer than eight), into the lanes they come to.
    let finite = update_lanes(&mut acc, &mut acc_w, &mut w[n8..], alpha, &d[n8..]) && finite;
    Measured {
        d_sq: lanes_sum(acc),
        w_sq: lanes_sum(acc_w),
        finite,
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn update_avx2<T: Real>(w: &mut [T], alpha: T, d: &[T]) -> Measured {
    update_portable(w, alpha, d)
}

#[inline(always)]
fn update_portable<T: Real>(w: &mut [T], alpha: T, d: &[T]) -> Measured {
    let (mut acc, mut acc_w) = ([0.0f64; 8], [0.0f64; 8]);
    let mut finite = true;
    let n8 = d.len().min(w.len()) / 8 * 8;
    let (w, w_rest) = w.split_at_mut(n8);
    let (d, d_rest) = d.split_at(n8);
    for (wc, dc) in w.chunks_exact_mut(8).zip(d.chunks_exact(8)) {
        finite &= update_lanes(&mut acc, &mut acc_w, wc, alpha, dc);
    }
    finite &= update_lanes(&mut acc, &mut acc_w, w_rest, alpha, d_rest);
    Measured {
        d_sq: lanes_sum(acc),
        w_sq: lanes_sum(acc_w),
        finite,
    }
}

/// Up to eight values of an update, value l into lane l: its square into `acc`, its step into
/// w, the new w's square into `acc_w`. True when every new w is finite. The one loop of
/// [`update_portable`], and the tail of [`update_f32`]'s.
#[inline(always)]
fn update_lanes<T: Real>(
    acc: &mut [f64; 8],
    acc_w: &mut [f64; 8],
    w: &mut [T],
    alpha: T,
    d: &[T],
) -> bool {
    let mut finite = true;
    for (((a, aw), w), &x) in acc.iter_mut().zip(acc_w.iter_mut()).zip(w).zip(d) {
        let xf = x.f64();
        *a += xf * xf;
        *w += alpha * x;
        let wf = w.f64();
        *aw += wf * wf;
        finite &= w.is_finite();
    }
    finite
}

/// Σ a², over any layout (a contiguous array takes the fast path of [`sum_sq`]).
pub fn sum_sq_of<T: Real>(a: ArrayView2<T>) -> f64 {
    match a.as_slice() {
        Some(s) => sum_sq(s),
        None => a
            .rows()
            .into_iter()
            .map(|r| match r.as_slice() {
                Some(s) => sum_sq(s),
                None => r.iter().map(|&v| v.f64() * v.f64()).sum(),
            })
            .sum(),
    }
}

/// True when every value is finite; a branch-free test per block of 64 values, the blocks
/// split over the current rayon pool when there are many.
pub fn all_finite<T: Real>(v: &[T]) -> bool {
    slice_tree(v, &finite_block, &|a, b| a & b)
}

/// True when every value of `v` is finite, branch-free within each run of 64 values.
fn finite_block<T: Real>(v: &[T]) -> bool {
    v.chunks(64)
        .all(|c| c.iter().fold(true, |ok, &x| ok & x.is_finite()))
}

/// The kernels that run on this CPU, for reports (bench/run.sh): the products' (faer picks
/// its x86-64-v4 build when the CPU has AVX-512F, v3 with AVX2 and FMA, else its portable
/// one, by the same run-time detection; the f32 weight gradients' [`crate::math::outer`]) and
/// the f32 softmax's exponential
/// ([`crate::math::vexp::path`]).
pub fn kernel_path() -> String {
    use crate::math::simd::{capped, isa, Isa};
    let gemm = match isa() {
        Isa::Avx512 => "x86-64-v4 (AVX-512)",
        Isa::Avx2 if capped() => {
            "x86-64-v3 (AVX2+FMA; AVX-512F present, capped by MLP_TRAIN_SIMD=avx2)"
        }
        Isa::Avx2 => "x86-64-v3 (AVX2+FMA)",
        Isa::Portable => "portable",
    };
    let outer = match crate::math::outer::kernel() {
        Some(crate::math::outer::Kernel::Avx512) => "math::outer AVX-512",
        Some(crate::math::outer::Kernel::Avx2) => "math::outer AVX2+FMA",
        None => "faer",
    };
    format!(
        "gemm: faer {gemm}; f32 dW = dZᵀX + λW: {outer}; exp f32: {}",
        crate::math::vexp::path()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn sum_sq_is_the_same_on_every_code_path() {
        let v: Vec<f32> = (0..1003).map(|i| (i as f32 * 0.37).sin() * 3.0).collect();
        let slow: f64 = v.iter().map(|&x| x as f64 * x as f64).sum();
        assert_eq!(sum_sq(&v).to_bits(), sum_sq_portable(&v).to_bits());
        // Longer than a block: the same bits inside a 2- and a 3-thread pool as outside.
        let long: Vec<f32> = (0..100_003)
            .map(|i| (i as f32 * 0.37).sin() * 3.0)
            .collect();
        let one = sum_sq(&long);
        for t in [2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap();
            assert_eq!(pool.install(|| sum_sq(&long)).to_bits(), one.to_bits());
        }
        let exact: f64 = long.iter().map(|&x| x as f64 * x as f64).sum();
        assert!((one - exact).abs() < 1e-9 * exact);
        let mut bad = long.clone();
        bad[70_000] = f32::INFINITY;
        assert!(all_finite(&long) && !all_finite(&bad));
        assert!((sum_sq(&v) - slow).abs() < 1e-9 * slow);
        assert!(all_finite(&v) && !all_finite(&[1.0, f32::NAN]) && !all_finite(&[f64::INFINITY]));
    }

    #[test]
    fn awake_returns_what_f_returns_and_ends_however_f_ends() {
        use std::sync::atomic::AtomicUsize;
        assert_eq!(awake(|| 7), 7);
        for t in [2, 3, 4] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap();
            // The split work still runs, on the threads kept awake too.
            let ran = AtomicUsize::new(0);
            let seen = std::sync::Mutex::new(std::collections::BTreeSet::new());
            // Rounds until another thread has taken a part (a loaded machine, other tests
            // beside this one, may keep the other threads off the cores for a while).
            let mut rounds = 0;
            let v = pool.install(|| {
                awake(|| {
                    while rounds < 20_000 && (rounds < 200 || seen.lock().unwrap().len() < 2) {
                        rounds += 1;
                        for_each_part((), 8, &|_, _| ((), ()), &|_, _| {
                            // Work long enough (20 µs) for a thread kept awake to take a part.
                            let t0 = std::time::Instant::now();
                            while t0.elapsed() < std::time::Duration::from_micros(20) {}
                            ran.fetch_add(1, Ordering::Relaxed);
                            seen.lock().unwrap().insert(rayon::current_thread_index());
                        });
                    }
                    t * 10
                })
            });
            assert_eq!(v, t * 10);
            assert_eq!(ran.load(Ordering::Relaxed), rounds * 8);
            assert!(
                seen.lock().unwrap().len() > 1,
                "{t} threads: one did everything"
            );
            // A panic in f ends the threads kept awake too (else this would hang).
            let r = pool.install(|| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    awake(|| -> usize { panic!("inside awake") })
                }))
            });
            assert!(r.is_err());
        }
    }

    #[test]
    fn the_fused_update_is_the_four_passes_it_replaces() {
        for len in [0, 1, 7, 8, 9, 63, 1003, SUM_BLOCK + 5] {
            let w: Vec<f32> = (0..len).map(|i| (i as f32 * 0.11).cos()).collect();
            let d: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin() * 3.0).collect();
            let mut apart = w.clone();
            apart.iter_mut().zip(&d).for_each(|(w, &d)| *w += -0.1 * d);
            // update_block takes the AVX-512 build on a CPU with it: the AVX2 one too.
            let avx2 = |w: &mut [f32], a: f32, d: &[f32]| {
                #[cfg(target_arch = "x86_64")]
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2, checked just above.
                    return unsafe { update_f32_avx2(w, a, d) };
                }
                update_portable(w, a, d)
            };
            type Way<'a> = &'a dyn Fn(&mut [f32], f32, &[f32]) -> Measured;
            let ways: [Way; 3] = [&update_block, &update_portable, &avx2];
            for fused in ways {
                let mut one = w.clone();
                let got = fused(&mut one, -0.1, &d);
                assert_eq!(got.d_sq.to_bits(), sum_sq_portable(&d).to_bits(), "{len}");
                assert_eq!(
                    got.w_sq.to_bits(),
                    sum_sq_portable(&apart).to_bits(),
                    "{len}"
                );
                assert!(got.finite);
                assert!(one
                    .iter()
                    .zip(&apart)
                    .all(|(a, b)| a.to_bits() == b.to_bits()));
            }
        }
        // An update that overflows, anywhere (the last value of a remainder too), is seen.
        for at in [0, 5, 8, 10] {
            let mut w = vec![1.0f32; 11];
            let mut d = vec![0.5f32; 11];
            w[at] = f32::MAX;
            d[at] = -f32::MAX;
            assert!(!update_block(&mut w, 10.0, &d).finite, "{at}");
            let (mut w, mut d) = (vec![1.0f32; 11], vec![0.5f32; 11]);
            d[at] = f32::NAN;
            assert!(!update_block(&mut w, 10.0, &d).finite, "NaN at {at}");
            w[at] = f32::NEG_INFINITY;
            d[at] = 0.0;
            assert!(!update_block(&mut w, 10.0, &d).finite, "−∞ at {at}");
        }
    }

    #[test]
    fn products_match_ndarray_for_every_layout() {
        let a = Array2::from_shape_fn((7, 5), |(i, j)| (i * 5 + j) as f64 * 0.1 - 1.0);
        let b = Array2::from_shape_fn((5, 3), |(i, j)| (i as f64 - j as f64) * 0.3);
        let mut c = Array2::zeros((7, 3));
        matmul(a.view(), b.view(), c.view_mut());
        assert!((&c - &a.dot(&b)).iter().all(|v| v.abs() < 1e-12));
        // Transposed operands, as the backward pass uses them.
        let bt = b.t().to_owned();
        matmul(a.view(), bt.t(), c.view_mut());
        assert!((&c - &a.dot(&b)).iter().all(|v| v.abs() < 1e-12));
        let at = a.t().to_owned();
        let w = Array2::from_elem((7, 3), 2.0);
        matmul_plus_scaled(at.t(), b.view(), 0.5, w.view(), c.view_mut());
        assert!((&c - &(a.dot(&b) + 1.0)).iter().all(|v| v.abs() < 1e-12));
        // f32 through the same code.
        let a32 = a.mapv(|v| v as f32);
        let b32 = b.mapv(|v| v as f32);
        let mut c32 = Array2::<f32>::zeros((7, 3));
        matmul(a32.view(), b32.view(), c32.view_mut());
        assert!((&c32 - &a32.dot(&b32)).iter().all(|v| v.abs() < 1e-5));
    }

    /// The capped path (faer's AVX2 kernels called directly) against ndarray's product, f32
    /// and f64, for the layouts the model passes (plain, transposed operands and destination,
    /// one row, one column, an inner dimension of 1), replacing and adding to C.
    #[cfg(target_arch = "x86_64")]
    fn avx2_path_matches<T: Real + std::fmt::Debug>(tol: f64) {
        for (m, n, k) in [
            (256, 10, 256),
            (33, 70, 65),
            (1, 40, 65),
            (40, 1, 9),
            (17, 19, 1),
        ] {
            let [a, b, w] = operands::<T>(m, n, k);
            let want = a.dot(&b);
            let close = |c: &ndarray::Array2<T>, want: &ndarray::Array2<T>| {
                c.iter()
                    .zip(want)
                    .all(|(x, y)| (x.f64() - y.f64()).abs() <= tol * (1.0 + y.f64().abs()))
            };
            let mut c = ndarray::Array2::<T>::zeros((m, n));
            gemm_x86_avx2(a.view(), b.view(), c.view_mut(), Accum::Replace);
            assert!(close(&c, &want), "{m}×{k}·{k}×{n}");
            // Transposed operands and a transposed (column-major) destination.
            let (at, bt) = (a.t().to_owned(), b.t().to_owned());
            let mut ct = ndarray::Array2::<T>::zeros((n, m));
            gemm_x86_avx2(
                at.t(),
                bt.t(),
                ct.view_mut().reversed_axes(),
                Accum::Replace,
            );
            assert!(
                close(&ct.t().to_owned(), &want),
                "{m}×{k}·{k}×{n} transposed"
            );
            // Accum::Add: C = W + A·B.
            let mut c = w.clone();
            gemm_x86_avx2(a.view(), b.view(), c.view_mut(), Accum::Add);
            assert!(close(&c, &(&want + &w)), "{m}×{k}·{k}×{n} added");
        }
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_avx2_path_computes_the_products() {
        if !(std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma"))
        {
            eprintln!("SKIPPED: the_avx2_path_computes_the_products: this CPU has no AVX2+FMA");
            return;
        }
        avx2_path_matches::<f64>(1e-12);
        avx2_path_matches::<f32>(1e-4);
    }

    fn operands<T: Real>(m: usize, n: usize, k: usize) -> [ndarray::Array2<T>; 3] {
        let f = |r: usize, c: usize, s: usize| {
            ndarray::Array2::from_shape_fn((r, c), move |(i, j)| {
                T::of((((i * 31 + j * 17 + s) % 97) as f64 - 48.0) / 7.3)
            })
        };
        [f(m, k, 1), f(k, n, 2), f(m, n, 3)]
    }

    fn sliced_products_match<T: Real + std::fmt::Debug>() {
        for (m, n, k) in [(300, 40, 50), (37, 500, 20), (1000, 3, 64), (5, 5, 5)] {
            let [a, b, w] = operands::<T>(m, n, k);
            let lambda = T::of(0.3);
            for plus in [None, Some((lambda, w.view()))] {
                let mut whole = ndarray::Array2::<T>::zeros((m, n));
                gemm_whole(a.view(), b.view(), whole.view_mut(), plus);
                for slice in [1, 5000, 100_000, usize::MAX / 2] {
                    let mut sliced = ndarray::Array2::<T>::zeros((m, n));
                    stoppable(&AtomicBool::new(false), || {
                        gemm_sliced(a.view(), b.view(), sliced.view_mut(), plus, slice)
                    });
                    assert_eq!(whole, sliced, "{m}×{k}·{k}×{n}, slices of {slice}");
                    // Transposed operands, as the backward pass has them.
                    let mut whole_t = ndarray::Array2::<T>::zeros((n, m));
                    let mut sliced_t = whole_t.clone();
                    gemm_whole(b.t(), a.t(), whole_t.view_mut(), None);
                    stoppable(&AtomicBool::new(false), || {
                        gemm_sliced(b.t(), a.t(), sliced_t.view_mut(), None, slice)
                    });
                    assert_eq!(whole_t, sliced_t);
                }
            }
        }
    }

    #[test]
    fn products_in_slices_have_the_bits_of_the_whole_product() {
        sliced_products_match::<f32>();
        sliced_products_match::<f64>();
    }

    #[test]
    fn a_set_stop_flag_ends_products_and_passes_before_their_next_slice() {
        let [a, b, _] = operands::<f32>(4096, 1024, 256);
        let mut c = ndarray::Array2::<f32>::from_elem((4096, 1024), 7.0);
        let stop = AtomicBool::new(true);
        // matmul slices a product of 2^30 multiply-adds once a flag is installed.
        stoppable(&stop, || matmul(a.view(), b.view(), c.view_mut()));
        assert!(
            c.iter().all(|&v| v == 7.0),
            "nothing computed after the stop"
        );
        let mut x = ndarray::Array2::<f32>::from_elem((4096, 1024), 7.0);
        let y = ndarray::Array2::<f32>::ones((4096, 1024));
        stoppable(&stop, || zip_rows(x.view_mut(), y.view(), |x, y| *x += y));
        assert!(x.iter().all(|&v| v == 7.0));
        // Unset, the same calls run to their end; outside `stoppable`, no flag is looked at.
        stop.store(false, Ordering::Relaxed);
        stoppable(&stop, || {
            zip_rows(x.view_mut(), y.view(), |x, y| *x += y);
            zip3_rows(x.view_mut(), y.view(), y.view(), |x, y, z| *x += y + z);
        });
        assert!(x.iter().all(|&v| v == 10.0));
        stop.store(true, Ordering::Relaxed);
        zip_rows(x.view_mut(), y.view(), |x, y| *x += y);
        assert!(x.iter().all(|&v| v == 11.0));
        assert!(
            !stop_installed(),
            "the flag is removed when `stoppable` returns"
        );
    }
}
