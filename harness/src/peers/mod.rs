//! Peers: the same workloads on something that is not a Go scheduler generation, measured in
//! the same run so that every figure has a reference beside it. A peer that cannot express a
//! workload says so ("n/a" with a reason) instead of inventing a figure.

pub mod floor;
mod pool;
pub mod rayon;
