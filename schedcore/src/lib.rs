//! What every Go scheduler generation of the lab shares: the [`Scheduler`] contract, goroutine
//! stacks (carved from arenas) and the context switch, notes and locks, channels, WaitGroup,
//! semaphores, counters, memory figures and reports. The scheduling algorithms themselves live in `sched2011`, `sched2013`, `sched2014`.

pub mod bounded;
pub mod chan;
pub mod context;
pub mod exit;
pub mod guarded;
pub mod lock;
pub mod memory;
pub mod note;
pub mod ptr;
pub mod report;
pub mod scan;
pub mod schedtrace;
pub mod scheduler;
pub mod sema;
pub mod stack;
mod sudog;
pub mod sync;
pub mod tls;
pub mod trace;
pub mod waitgroup;

pub use chan::Chan;
pub use context::{GoContext, Switch};
/// Keeps a hot shared word on a cache line of its own.
pub use crossbeam_utils::CachePadded;
pub use exit::RunEnd;
pub use lock::{Lock, LockGuard, LockKind, RawLock};
pub use note::Note;
pub use report::{Counter, Counters, Report, Totals};
pub use scheduler::{Config, RunError, Scheduler};
pub use sema::Sema;
pub use stack::{StackArena, StackGuard};
pub use waitgroup::WaitGroup;
