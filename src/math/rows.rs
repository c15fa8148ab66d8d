//! Reductions over one short row of f32 (at most 16 values: the logits of a small model) in
//! AVX2 registers: max, argmax, and Σ in the eight-lane order of the softmax's sums.
//
// A row of q ≤ 16 values is two masked loads, lanes 0..8 and 8..16 (lanes ≥ q not read). The
// results are those of the scalar loops in loss.rs and sgd.rs, bit for bit:
//  · max v ignores NaN (vmaxps(x, acc) returns acc when x is NaN) and is one of the values;
//  · argmax v is the first j with vⱼ = max v when max v > −∞, else 0: the first value above all
//    before it (a NaN never is);
//  · Σ v puts vⱼ into running sum j mod 8 and adds the eight as ((0+4)+(1+5))+((2+6)+(3+7)),
//    for values that are not −0 (e^x never is: 0 + x = x).

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// The longest row these functions take.
pub const SHORT: usize = 16;

/// Lanes 0..8 and 8..16 of `v` (0 where j ≥ len), and the two masks of the lanes read.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn load(v: &[f32]) -> (__m256, __m256, __m256i, __m256i) {
    debug_assert!(v.len() <= SHORT);
    let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let n = v.len() as i32;
    let m_lo = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lanes);
    let m_hi = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - 8), lanes);
    let p = v.as_ptr();
    // SAFETY (caller: AVX2): a masked load reads only the lanes below len, all inside `v`.
    let lo = _mm256_maskload_ps(p, m_lo);
    let hi = _mm256_maskload_ps(p.wrapping_add(8), m_hi);
    (lo, hi, m_lo, m_hi)
}

/// max v, NaN ignored (−∞ for an empty row or one of NaN alone): `v.len()` ≤ [`SHORT`].
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
pub unsafe fn max(v: &[f32]) -> f32 {
    max_of(load(v))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn max_of((lo, hi, m_lo, m_hi): (__m256, __m256, __m256i, __m256i)) -> f32 {
    let ninf = _mm256_set1_ps(f32::NEG_INFINITY);
    // Lanes not read are −∞; acc = max(x, acc) keeps acc for a NaN x.
    let lo = _mm256_blendv_ps(ninf, lo, _mm256_castsi256_ps(m_lo));
    let hi = _mm256_blendv_ps(ninf, hi, _mm256_castsi256_ps(m_hi));
    let acc = _mm256_max_ps(hi, _mm256_max_ps(lo, ninf));
    let h = _mm_max_ps(_mm256_extractf128_ps::<1>(acc), _mm256_castps256_ps128(acc));
    let h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    let h = _mm_max_ps(h, _mm_movehdup_ps(h));
    _mm_cvtss_f32(h)
}

/// The index of the largest value, the first on ties, NaN never (0 when no value is above
/// −∞): `v.len()` ≤ [`SHORT`].
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
pub unsafe fn argmax(v: &[f32]) -> usize {
    let loaded = load(v);
    // Never NaN: −∞ when no value is above it.
    let m = max_of(loaded);
    if m == f32::NEG_INFINITY {
        return 0;
    }
    let (lo, hi, _, _) = loaded;
    let mv = _mm256_set1_ps(m);
    // Bit j: vⱼ = max v (lanes not read are 0, so cut to the row's length).
    let eq_lo = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_EQ_OQ>(lo, mv)) as u32;
    let eq_hi = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_EQ_OQ>(hi, mv)) as u32;
    let bits = (eq_lo | eq_hi << 8) & ((1u32 << v.len()) - 1);
    if bits == 0 {
        0
    } else {
        bits.trailing_zeros() as usize
    }
}

/// Σ v in the order of loss.rs's `sum_fixed` (running sum j mod 8, then the fixed tree), for
/// values none of which is −0: `v.len()` ≤ [`SHORT`].
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
pub unsafe fn sum(v: &[f32]) -> f32 {
    let (lo, hi, _, _) = load(v);
    // running sum j: (0 + vⱼ) + vⱼ₊₈, lanes not read 0
    let acc = _mm256_add_ps(lo, hi);
    // (a0+a4, a1+a5, a2+a6, a3+a7)
    let s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps::<1>(acc));
    // (s0+s1, ·, s2+s3, ·)
    let t = _mm_add_ps(s, _mm_shuffle_ps::<0b10_11_00_01>(s, s));
    // (s0+s1) + (s2+s3)
    _mm_cvtss_f32(_mm_add_ss(t, _mm_movehl_ps(t, t)))
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    fn scalar_max(v: &[f32]) -> f32 {
        v.iter().copied().fold(f32::NEG_INFINITY, f32::max)
    }

    fn scalar_sum(v: &[f32]) -> f32 {
        let mut acc = [0.0f32; 8];
        for (j, &x) in v.iter().enumerate() {
            acc[j % 8] += x;
        }
        ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
    }

    #[test]
    fn the_registers_give_the_scalar_loops_bits() {
        if !(is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")) {
            eprintln!("SKIPPED: this CPU has no AVX2+FMA");
            return;
        }
        let special = [
            f32::NAN,
            f32::NEG_INFINITY,
            f32::INFINITY,
            0.0,
            -0.0,
            1e-40,
            3.5,
        ];
        for len in 0..=SHORT {
            for seed in 0..200u32 {
                let v: Vec<f32> = (0..len as u32)
                    .map(|j| {
                        let k = (j * 7919 + seed * 104_729) % 97;
                        if seed % 5 == 0 && k % 4 == 0 {
                            special[(k as usize / 4) % special.len()]
                        } else {
                            ((k as f32) * 0.731).sin() * (1 + seed % 3) as f32
                        }
                    })
                    .collect();
                // SAFETY: AVX2 and FMA checked above.
                let (m, a) = unsafe { (max(&v), argmax(&v)) };
                let want = scalar_max(&v);
                assert!(m == want || (m.is_nan() && want.is_nan()), "{v:?}");
                assert_eq!(a, crate::train::sgd::argmax(v.iter().copied()), "{v:?}");
                // Σ of values that are not −0, as e^x.
                let e: Vec<f32> = v.iter().map(|&x| x.abs()).collect();
                // SAFETY: as above.
                let s = unsafe { sum(&e) };
                assert_eq!(s.to_bits(), scalar_sum(&e).to_bits(), "{e:?}");
            }
        }
    }
}
