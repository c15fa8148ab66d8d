//! The chapter: the scalar type, φ beside φ', each loss beside its gradient, the model's
//! forward and backward passes, the products they need, and the seeded random source.

pub mod activation;
pub mod linalg;
pub mod loss;
pub mod model;
pub mod outer;
pub mod real;
pub mod rng;
pub mod rows;
pub mod simd;
pub mod vexp;
