//! The Go 1.3/1.4 (2014) scheduler as a real runtime (seeds 001, proc.c of late 2014, and 004,
//! the same scheduler as proc1.go): M's are OS threads, G's are stackful coroutines, and
//! GOMAXPROCS P's carry lock-free 256-slot run queues. New since 2013: the lock-free ring with
//! runqputslow spilling half to the global queue, the every-61st-tick look at the global queue,
//! goroutine ids in per-P batches, preemption of goroutines that run over 10 ms (at
//! `preempt_point`, the prologue stack check), stoptheworld with preemptall, and the atomic G
//! status with the Gscan bit that the collector claims goroutines by.
//!
//! Two lab schedulers share all of it: [`Sched2014`] and [`Sched2014NoPreempt`], which differs
//! only in that nothing ever asks a goroutine to stop. Start with `README.md`, then `proc.rs`.

mod g;
mod gc;
mod gfree;
#[doc(hidden)]
pub mod globrunq;
#[doc(hidden)]
pub mod gstatus;
mod lockosthread;
mod m;
mod p;
mod preempt;
mod proc;
mod procresize;
mod run;
#[doc(hidden)]
pub mod runq;
mod sched;
mod syscall;
mod sysmon;

#[cfg(test)]
mod testutil;

pub use g::GRef;

use schedcore::{Config, LockGuard, LockKind, Report, RunError, Scheduler};

/// The name `getm` reports when called outside a runtime.
pub(crate) const NAME: &str = "2014";

/// The 2014 scheduler, with preemption (as `Config::preempt` asks, by default on).
pub struct Sched2014;

/// The 2014 scheduler with preemption switched off ("2014-nopreempt"): sysmon never asks a
/// goroutine to stop and stoptheworld's preemptall does nothing, so a goroutine runs until it
/// blocks, yields or makes a syscall, as in 2013. Everything else is [`Sched2014`]'s code.
pub struct Sched2014NoPreempt;

macro_rules! impl_scheduler {
    ($t:ty, $name:literal, $preemptive:literal, |$cfg:ident| $preempt:expr) => {
        impl Scheduler for $t {
            const NAME: &'static str = $name;
            const MAX_PROCS: usize = sched::MAX_GOMAXPROCS;
            const PREEMPTIVE: bool = $preemptive;
            /// Go 1.3/1.4 ran on lock_futex.c's spinning lock.
            const ERA_LOCK: LockKind = LockKind::Spin;
            type GRef = GRef;

            fn run<R, F>($cfg: &Config, main: F) -> Result<(R, Report), RunError>
            where
                R: Send + 'static,
                F: FnOnce() -> R + Send + 'static,
            {
                run::run($name, $preempt, $cfg, main)
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

            /// The prologue check: one load and compare unless a preemption is asked for.
            #[inline(always)]
            fn preempt_point() {
                preempt::preempt_point();
            }

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
    };
}

impl_scheduler!(Sched2014, "2014", true, |cfg| cfg.preempt);
impl_scheduler!(Sched2014NoPreempt, "2014-nopreempt", false, |cfg| false);
