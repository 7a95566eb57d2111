//! What the lab measures: the scheduler generations and the peers. The [`registry`] lists
//! both, the generations through `schedcore::Scheduler` and the peers through [`Peer`], which
//! each module of [`peers`] implements; a [`registry::Subject`] is one of either, a column of
//! the table.
//!
//! This file holds what a peer needs to know of the lab ([`Peer`], [`Failure`]) and names
//! nothing of the registry, so the peers depend on it and the registry on the peers, with no
//! circle.

pub mod history;
pub mod peers;
pub mod registry;

use crate::measure::procs::PROCS_LIMIT;
use crate::measure::runner::{Measurement, Settings};
use crate::workloads::WorkloadInfo;
use schedcore::RunError;
use std::fmt;

/// A peer: something that is not a Go scheduler generation, measured on the same workloads in
/// the same run so that every figure has a reference beside it. Implemented on a unit type by
/// each module of [`peers`]; the registry lists it with [`registry::PeerInfo::of`].
pub trait Peer {
    /// The name in tables and in the JSON's `sched`.
    const NAME: &'static str;
    /// What `lab list` says of it.
    const ABOUT: &'static str;
    /// The most procs it takes.
    const MAX_PROCS: usize = PROCS_LIMIT;

    /// One measurement of `bench` with `settings`, in a fresh runtime (or process), as every
    /// lab figure is; [`Failure::NotApplicable`] where the peer cannot express the workload.
    fn measure(bench: &WorkloadInfo, settings: &Settings) -> Result<Measurement, Failure>;
}

/// Why a combination has no figure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The peer cannot express the workload; the reason is shown instead of a figure.
    NotApplicable(&'static str),
    /// The runtime failed (deadlock, panic, bad configuration).
    Run(RunError),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::NotApplicable(why) => write!(f, "n/a: {why}"),
            Failure::Run(e) => e.fmt(f),
        }
    }
}
