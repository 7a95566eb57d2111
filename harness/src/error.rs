//! The lab's errors: each one is printed by the CLI as one line, with exit code 2.

use crate::measure::procs::ProcsError;
use crate::subjects::history::HistoryError;
use schedcore::RunError;
use std::fmt;
use std::path::PathBuf;

#[derive(Debug)]
pub enum LabError {
    /// A name that is not in the registry: what kind of name, the name, the known ones.
    UnknownName {
        kind: &'static str,
        name: String,
        known: Vec<&'static str>,
    },
    Procs(ProcsError),
    /// procs over the limit of a scheduler or peer.
    ProcsOverLimit {
        sched: &'static str,
        procs: usize,
        max: usize,
    },
    /// A flag value outside what makes sense.
    BadValue(String),
    /// The results folder could not be created or written.
    Io {
        path: PathBuf,
        err: std::io::Error,
    },
    /// `lab plot` was given a folder that is not a readable run folder.
    NotARun {
        path: PathBuf,
        why: String,
    },
    /// A chart could not be drawn.
    Chart(String),
    /// A runtime failed during a measurement.
    Run {
        sched: String,
        bench: String,
        procs: usize,
        err: RunError,
    },
    /// `lab history`: a historical release could not be found, built or run.
    History(HistoryError),
}

impl fmt::Display for LabError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabError::UnknownName { kind, name, known } => {
                write!(f, "unknown {kind} {name:?} (known: {})", known.join(", "))
            }
            LabError::Procs(e) => write!(f, "bad --procs: {e}"),
            LabError::ProcsOverLimit { sched, procs, max } => {
                write!(f, "procs {procs} is over {sched}'s limit of {max}")
            }
            LabError::BadValue(msg) => f.write_str(msg),
            LabError::Io { path, err } => {
                write!(f, "cannot write results to {}: {err}", path.display())
            }
            LabError::NotARun { path, why } => {
                write!(f, "{} is not a run folder: {why}", path.display())
            }
            LabError::Chart(why) => write!(f, "cannot draw the charts: {why}"),
            LabError::Run {
                sched,
                bench,
                procs,
                err,
            } => write!(f, "{bench} on {sched} with procs {procs} failed: {err}"),
            LabError::History(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for LabError {}

impl From<ProcsError> for LabError {
    fn from(e: ProcsError) -> Self {
        LabError::Procs(e)
    }
}

impl From<HistoryError> for LabError {
    fn from(e: HistoryError) -> Self {
        LabError::History(e)
    }
}
