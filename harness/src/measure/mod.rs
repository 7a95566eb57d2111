//! Measuring: one measurement of a workload (Go's ramp, the runner that times it inside a
//! runtime), the statistics of a set of runs, and the comparisons built from them.
//!
//! [`ramp`], [`runner`], [`stats`], [`procs`], [`progress`] and [`bare`] touch nothing of the
//! lab but `workloads/`. [`plan`] (what `lab compare` and `lab run` measure), [`overhead`]
//! (the harness against bare loops), [`checkgo`] (the go peer against `go test`) and
//! [`fidelity`] (each port against its real ancestor) run whole
//! comparisons: they name the `subjects/` and fold their runs into rows of `output/`.

pub mod bare;
pub mod checkgo;
pub mod fidelity;
pub mod overhead;
pub mod plan;
pub mod procs;
pub mod progress;
pub mod ramp;
pub mod runner;
pub mod stats;
