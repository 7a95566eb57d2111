//! The Go 1.1 (2013) scheduler, the first G-M-P design, as a real runtime: M's are OS
//! threads, G's are stackful coroutines, and GOMAXPROCS P's carry the run queues and the
//! caches of dead G's. Ported from seeds 000 (the commit that introduced P) and 003 (proc.c as
//! of June 2013). Start with `README.md`, then `proc.rs` (schedule/findrunnable).

mod g;
mod gc;
mod gfree;
mod lockosthread;
mod m;
mod p;
mod proc;
mod run;
pub mod runq;
mod sched;
mod syscall;
mod sysmon;

pub use g::GRef;

use schedcore::{Config, LockGuard, LockKind, Report, RunError, Scheduler};

/// The lab's name for this generation.
pub(crate) const NAME: &str = "2013";

/// The 2013 G-M-P scheduler behind the lab's `Scheduler` trait.
pub struct Sched2013;

impl Scheduler for Sched2013 {
    const NAME: &'static str = NAME;
    /// Go 1.1 ran on lock_futex.c's spinning lock.
    const ERA_LOCK: LockKind = LockKind::Spin;
    const MAX_PROCS: usize = sched::MAX_GOMAXPROCS;
    type GRef = GRef;

    fn run<R, F>(cfg: &Config, main: F) -> Result<(R, Report), RunError>
    where
        R: Send + 'static,
        F: FnOnce() -> R + Send + 'static,
    {
        run::run(cfg, main)
    }

    #[inline]
    fn go<F: FnOnce() + Send + 'static>(f: F) {
        proc::newproc(f);
    }

    #[inline]
    fn gosched() {
        proc::gosched();
    }

    #[inline(always)]
    fn entersyscall() {
        syscall::entersyscall();
    }

    #[inline(always)]
    fn exitsyscall() {
        syscall::exitsyscall();
    }

    #[inline(always)]
    fn entersyscallblock() {
        syscall::entersyscallblock();
    }

    /// No preemption before 2014: a goroutine runs until it blocks, yields or makes a
    /// syscall.
    #[inline(always)]
    fn preempt_point() {}

    fn gomaxprocs(n: i32) -> i32 {
        gc::gomaxprocsfunc(n)
    }

    fn gc() {
        gc::gc();
    }

    #[inline]
    fn park<T>(guard: LockGuard<'_, T>) {
        proc::park(guard.into_raw());
    }

    #[inline]
    fn ready(g: GRef) {
        proc::ready(g);
    }

    #[inline]
    fn current() -> GRef {
        m::getm().curg().expect("current: no goroutine running")
    }

    fn num_goroutine() -> usize {
        proc::gcount()
    }

    fn lock_os_thread() {
        lockosthread::lock_os_thread();
    }

    fn unlock_os_thread() {
        lockosthread::unlock_os_thread();
    }
}
