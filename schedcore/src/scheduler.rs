//! The contract every generation implements, and the configuration it runs under.

use crate::lock::{LockGuard, LockKind};
use crate::report::Report;
use crate::stack::{Exhausted, StackGuard};
use std::fmt;

/// A Go scheduler generation, run as a real runtime: M's are OS threads, G's are stackful
/// coroutines. Workloads are generic over `S: Scheduler` and monomorphized, so no call on a hot
/// path goes through a vtable.
///
/// Every function but [`Scheduler::run`] must be called from inside a goroutine of a running
/// runtime of this type; elsewhere it panics with a message that says so.
pub trait Scheduler: Sized + 'static {
    /// The name used by the lab: "2011", "2011-lock", "2013", "2014", "2014-nopreempt".
    const NAME: &'static str;
    /// The limit the generation puts on procs (GOMAXPROCS).
    const MAX_PROCS: usize;
    /// Whether a goroutine running without yielding is preempted (at `preempt_point`).
    /// Tests that need preemption are skipped, with the reason, where this is false.
    const PREEMPTIVE: bool = false;
    /// The runtime lock of this generation's era, used unless `Config::lock` says otherwise.
    const ERA_LOCK: LockKind;

    /// A handle on a goroutine, as `ready` needs it (Go's `G*`).
    type GRef: Copy + Send + Eq + fmt::Debug + 'static;

    /// Boots a runtime with `cfg`, runs `main` as its main goroutine, and tears the runtime
    /// down when `main` returns: every M and helper thread is stopped and joined, goroutines
    /// that are still alive are freed without running further (as Go does at exit).
    fn run<R, F>(cfg: &Config, main: F) -> Result<(R, Report), RunError>
    where
        R: Send + 'static,
        F: FnOnce() -> R + Send + 'static;

    /// `go f()`: Go's newproc.
    fn go<F: FnOnce() + Send + 'static>(f: F);
    /// Yields the processor: the goroutine goes back to a run queue.
    fn gosched();
    /// Tells the scheduler the goroutine is about to block in the OS (or run outside Go).
    fn entersyscall();
    /// The goroutine is back from the OS and needs a CPU again.
    fn exitsyscall();
    /// Like `entersyscall`, for a call known to block: generations with P's hand the P off at
    /// once. Where a generation has no such notion it is `entersyscall`.
    fn entersyscallblock();
    /// The function-prologue stack check, where a goroutine can be preempted. A no-op in the
    /// generations without preemption.
    fn preempt_point();
    /// `runtime.GOMAXPROCS(n)`: sets procs when `n > 0`, returns the previous value.
    fn gomaxprocs(n: i32) -> i32;
    /// Stops the world, scans every goroutine stack, starts the world again.
    fn gc();
    /// Parks the current goroutine and releases `guard`'s lock once the goroutine can no
    /// longer miss its wake-up (Go's `park(unlock, lock, reason)`). Returns after `ready`.
    fn park<T>(guard: LockGuard<'_, T>);
    /// Makes a parked goroutine runnable (Go's `ready`). Each park is matched by one ready.
    fn ready(g: Self::GRef);
    /// The running goroutine.
    fn current() -> Self::GRef;
    /// The number of goroutines that exist (runnable, running, waiting, in syscalls).
    fn num_goroutine() -> usize;
    /// Wires the goroutine to its current thread (Go's LockOSThread: lockedm/lockedg).
    fn lock_os_thread();
    /// Undoes `lock_os_thread`.
    fn unlock_os_thread();
}

/// How a runtime is booted. Knobs that do not depend on a benchmark's length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// GOMAXPROCS at start.
    pub procs: usize,
    /// The size of every goroutine stack in bytes (fixed: no stack growth here).
    pub stack_size: usize,
    /// Whether sysmon preempts long-running goroutines (only generations that can).
    pub preempt: bool,
    /// Print the scheduler's state this often (Go's GODEBUG=schedtrace), if set.
    pub schedtrace: Option<std::time::Duration>,
    /// The runtime lock every lock of the runtime is (`None`: the generation's era lock,
    /// `Scheduler::ERA_LOCK`).
    pub lock: Option<LockKind>,
    /// Record an execution trace, keeping the last this many events of every M (`None`: off;
    /// see [`crate::trace`]). The trace comes back in `Report::trace`.
    pub trace: Option<usize>,
    /// The most goroutines that may have a stack at once (every live goroutine has one; dead
    /// ones keep theirs on the gfree lists for reuse). Past it `go` ends the run with
    /// [`RunError::Exhausted`]. `None`: what the memory available at boot allows (see
    /// [`crate::stack`]), and on kernels whose guard pages split mappings, `vm.max_map_count`.
    pub max_goroutines: Option<usize>,
    /// How the guard page under every goroutine stack is made: `Auto` (madvise where the
    /// kernel has MADV_GUARD_INSTALL, else mprotect), or either forced (see [`crate::stack`]).
    pub stack_guard: StackGuard,
}

/// The default goroutine stack size: 64 KiB.
pub const DEFAULT_STACK_SIZE: usize = 64 * 1024;
/// The smallest stack accepted: a panic's backtrace (`RUST_BACKTRACE=1`) needs about 24 KiB of
/// stack, and the panic runs on the goroutine's stack.
pub const MIN_STACK_SIZE: usize = 32 * 1024;
/// The largest stack accepted: Go's own ceiling on a goroutine stack (1 GB on 64-bit).
pub const MAX_STACK_SIZE: usize = 1 << 30;

impl Config {
    /// A configuration with `procs` and every other knob at its default.
    pub fn new(procs: usize) -> Config {
        Config {
            procs,
            ..Config::default()
        }
    }

    /// Checks the knobs every generation shares; `max_procs` is the generation's limit.
    pub fn validate(&self, max_procs: usize) -> Result<(), RunError> {
        if self.procs == 0 {
            return Err(RunError::InvalidConfig(
                "procs must be at least 1, got 0".into(),
            ));
        }
        if self.procs > max_procs {
            return Err(RunError::InvalidConfig(format!(
                "procs {} is over this generation's limit of {max_procs}",
                self.procs
            )));
        }
        if self.stack_size < MIN_STACK_SIZE {
            return Err(RunError::InvalidConfig(format!(
                "stack size {} bytes is too small: at least {MIN_STACK_SIZE} bytes are needed",
                self.stack_size
            )));
        }
        if self.max_goroutines == Some(0) {
            return Err(RunError::InvalidConfig(
                "max goroutines must be at least 1 (the main goroutine), got 0".into(),
            ));
        }
        if self.stack_size > MAX_STACK_SIZE {
            return Err(RunError::InvalidConfig(format!(
                "stack size {} bytes is too large: at most {MAX_STACK_SIZE} bytes (Go's own limit)",
                self.stack_size
            )));
        }
        Ok(())
    }

    /// The lock the runtime runs on: `lock` if set, else the generation's `era` lock.
    pub fn lock_or(&self, era: LockKind) -> LockKind {
        self.lock.unwrap_or(era)
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            procs: 1,
            stack_size: DEFAULT_STACK_SIZE,
            preempt: true,
            schedtrace: None,
            lock: None,
            trace: None,
            max_goroutines: None,
            stack_guard: StackGuard::Auto,
        }
    }
}

/// Why a run did not return its main goroutine's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunError {
    /// Every goroutine is blocked and nothing can wake one.
    Deadlock,
    /// A goroutine panicked; the message of the first panic.
    Panic(String),
    /// The configuration cannot be run; says which value and why.
    InvalidConfig(String),
    /// A `go` found no stack for its goroutine: the live-goroutine limit, the machine's memory
    /// or the kernel's mapping or address-space limit; says which, and the count reached.
    Exhausted(Exhausted),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Deadlock => f.write_str("all goroutines are asleep - deadlock!"),
            RunError::Panic(msg) => write!(f, "panic: {msg}"),
            RunError::InvalidConfig(msg) => write!(f, "invalid configuration: {msg}"),
            RunError::Exhausted(e) => write!(f, "resources exhausted: {e}"),
        }
    }
}

impl std::error::Error for RunError {}
