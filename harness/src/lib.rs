//! The lab's harness: workloads written once and generic over the `Scheduler` trait, the
//! runner that times them as Go's testing.B does, the `floor` peer, the registry that lists
//! them all, and the pieces of the `lab` command line (plans, tables, run folders, progress).

pub mod cli;
pub mod error;
pub mod measure;
pub mod output;
pub mod subjects;
pub mod trace;
pub mod workloads;

/// The scheduler crates, re-exported so the registry's macros can name them from any crate.
pub use sched2011;
pub use sched2013;
pub use sched2014;
pub use schedcore;
