//! The seeded generator behind every random draw (weights, shuffles, splits, folds):
//! rand_xoshiro's xoshiro256++, whose stream is fixed by its algorithm, not by rand's version.

use rand::SeedableRng;

/// xoshiro256++ (Blackman & Vigna, 2019), from `rand_xoshiro`. Not for cryptography.
pub type Rng = rand_xoshiro::Xoshiro256PlusPlus;

/// A generator whose whole stream is fixed by `seed` (SplitMix64 spreads the seed over the
/// 256-bit state, as `Xoshiro256PlusPlus::seed_from_u64` documents).
pub fn seeded(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{seq::SliceRandom, RngCore};

    #[test]
    fn a_seed_gives_the_published_stream() {
        // xoshiro256++ seeded by SplitMix64 from 0: state E220A8397B1DCDAF, 6E789E6AA1B965F4,
        // 06C45D188009454F, F88BB8A8724C81EC (the published SplitMix64 outputs), whose first
        // output is rotl(s0 + s3, 23) + s0, worked out here rather than copied from a run.
        let s = [
            0xE220_A839_7B1D_CDAFu64,
            0x6E78_9E6A_A1B9_65F4,
            0x06C4_5D18_8009_454F,
            0xF88B_B8A8_724C_81EC,
        ];
        let first = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        assert_eq!(seeded(0).next_u64(), first);
        assert_ne!(seeded(1).next_u64(), first);
    }

    #[test]
    fn shuffle_is_a_seeded_permutation() {
        let mut v: Vec<usize> = (0..1000).collect();
        v.shuffle(&mut seeded(3));
        let mut again: Vec<usize> = (0..1000).collect();
        again.shuffle(&mut seeded(3));
        assert_eq!(v, again);
        assert_ne!(v, (0..1000).collect::<Vec<_>>());
        v.sort_unstable();
        assert_eq!(v, (0..1000).collect::<Vec<_>>());
    }
}
