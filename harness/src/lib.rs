//! The lab's harness, in folders by role:
//!
//! - [`workloads`]: the workloads, written once and generic over the `Scheduler` trait;
//! - [`measure`]: measuring them: Go's ramp, the runner that times one run inside a runtime,
//!   the bare loops, the statistics of a set of runs, and the comparisons built from them (the
//!   plan of `lab compare`, the harness's overhead, the go peer against `go test`);
//! - [`subjects`]: what is measured: the registry of the scheduler generations, workloads and
//!   peers, and the peers, each behind the [`subjects::Peer`] trait; and the real historical
//!   Go releases, built from their source archives ([`subjects::history`]);
//! - [`output`]: what a run leaves: results.json and .csv, bench.txt, the table, the charts,
//!   summary.md, the machine record, the run folder;
//! - [`trace`]: `lab trace`: execution traces, the figures they give and their pictures;
//! - [`cli`]: the `lab` command line, one module per subcommand; [`error`], what it prints.
//!
//! What each may touch, bottom up: `workloads/` nothing of the lab; `measure/`'s ramp,
//! runner, stats, procs, progress and bare loops only `workloads/`; `subjects/` those;
//! `output/` those and the registry; [`error`] the procs error and `history`'s; the comparisons of
//! `measure/` (plan, overhead, checkgo), `trace/` and `cli/` anything below them. No module
//! imports one above it.

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
