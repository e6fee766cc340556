//! Small pieces the core shares: the seeded random generator.

pub mod rng;
