//! The widest instruction set the matrix products may use: the CPU's best (the default), or at
//! most AVX2+FMA, so that an AVX-512 machine can measure what an AVX2-only CPU runs (bench/).

use std::sync::atomic::{AtomicBool, Ordering};

/// True once [`cap_at_avx2`] was called: the products then run faer's AVX2+FMA kernels (x86-64-v3)
/// even on a CPU with AVX-512F.
static AT_MOST_AVX2: AtomicBool = AtomicBool::new(false);

/// The instruction sets the products may use, as the `MLP_TRAIN_SIMD` variable names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Simd {
    /// The CPU's best: AVX-512F when it has it, else AVX2+FMA, else portable code.
    Auto,
    /// At most AVX2+FMA (the same as `Auto` on a CPU without AVX-512F).
    Avx2,
}

impl std::str::FromStr for Simd {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" | "" => Ok(Simd::Auto),
            "avx2" => Ok(Simd::Avx2),
            _ => Err(s.to_string()),
        }
    }
}

/// Sets, for the whole process, the widest instruction set the products may use.
pub fn set(simd: Simd) {
    AT_MOST_AVX2.store(simd == Simd::Avx2, Ordering::Relaxed);
}

/// The instruction-set build of the products that runs: [`Isa::Avx512`] on a CPU with AVX-512F
/// unless capped, [`Isa::Avx2`] with AVX2 and FMA, else [`Isa::Portable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    Avx512,
    Avx2,
    Portable,
}

/// The products' build on this CPU under the current cap (detection is cached by std).
#[inline]
pub fn isa() -> Isa {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && !AT_MOST_AVX2.load(Ordering::Relaxed) {
            return Isa::Avx512;
        }
        if has!("avx2") && has!("fma") {
            return Isa::Avx2;
        }
    }
    Isa::Portable
}

/// True when the cap changes what runs: AVX-512F present but capped at AVX2.
#[inline]
pub fn capped() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        AT_MOST_AVX2.load(Ordering::Relaxed) && std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_others_are_refused() {
        assert_eq!("auto".parse::<Simd>(), Ok(Simd::Auto));
        assert_eq!("avx2".parse::<Simd>(), Ok(Simd::Avx2));
        assert_eq!("avx512".parse::<Simd>(), Err("avx512".to_string()));
        assert_eq!("AVX2".parse::<Simd>(), Err("AVX2".to_string()));
    }

    /// Setting the cap while other tests run products is harmless: the capped kernels give
    /// the same bits (tests/simd.rs).
    #[test]
    fn the_cap_lowers_an_avx512_cpu_to_avx2_and_auto_restores_it() {
        #[cfg(target_arch = "x86_64")]
        let has = |f: &str| match f {
            "avx512f" => std::arch::is_x86_feature_detected!("avx512f"),
            _ => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
        };
        #[cfg(not(target_arch = "x86_64"))]
        let has = |_: &str| false;
        let best = if has("avx512f") {
            Isa::Avx512
        } else if has("avx2") {
            Isa::Avx2
        } else {
            Isa::Portable
        };
        assert_eq!(isa(), best);
        set(Simd::Avx2);
        let capped_isa = isa();
        let was_capped = capped();
        set(Simd::Auto);
        assert_eq!(
            capped_isa,
            if best == Isa::Avx512 { Isa::Avx2 } else { best }
        );
        assert_eq!(was_capped, best == Isa::Avx512);
        assert_eq!(isa(), best);
        assert!(!capped());
    }
}
