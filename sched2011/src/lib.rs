//! The Go scheduler of July 2011 (seed 002, Go commit 025abd53, the scheduler of Go 1.0), and
//! "2011-lock", the same scheduler as it was just before that commit.
//!
//! One global run queue and one schedlock; M's are handed goroutines through their notes;
//! entersyscall and exitsyscall skip the lock through the packed atomic word of [`word`].
//! Start reading at `proc.rs` (schedule, nextgandunlock, matchmg), then `syscall.rs`;
//! `before.rs` holds the functions the commit changed, as they were before it.

pub mod before;
pub mod g;
pub mod gc;
pub mod lockosthread;
pub mod m;
pub mod proc;
mod run;
pub mod sched;
pub mod sync;
pub mod syscall;
#[cfg(all(test, not(loom)))]
mod tests;
pub mod word;

use schedcore::{Config, LockGuard, LockKind, Report, RunError, Scheduler};

/// The 2011 scheduler with seed 002's lock-free syscall fast paths.
pub struct Sched2011;

/// The 2011 scheduler as it was before CL 4723042 (seed 002's `-` lines, in `before.rs`):
/// plain mcpu/mcpumax/waitstop under the schedlock, taken on every entersyscall and
/// exitsyscall. What the CL did not change is shared with [`Sched2011`].
pub struct Sched2011Lock;

macro_rules! impl_scheduler {
    ($t:ty, $name:literal, $before:expr, $syscall:ident, $gomaxprocs:ident) => {
        impl Scheduler for $t {
            const NAME: &'static str = $name;
            const MAX_PROCS: usize = word::MAXGOMAXPROCS as usize;
            /// The seed's table (both columns) was measured on the lock of July 2011.
            const ERA_LOCK: LockKind = LockKind::Futex2011;
            type GRef = g::GPtr;

            fn run<R, F>(cfg: &Config, main: F) -> Result<(R, Report), RunError>
            where
                R: Send + 'static,
                F: FnOnce() -> R + Send + 'static,
            {
                run::run($name, $before, cfg, main)
            }
            fn go<F: FnOnce() + Send + 'static>(f: F) {
                proc::newproc(f)
            }
            fn gosched() {
                proc::gosched_user()
            }
            #[inline(always)]
            fn entersyscall() {
                $syscall::entersyscall()
            }
            #[inline(always)]
            fn exitsyscall() {
                $syscall::exitsyscall()
            }
            #[inline(always)]
            fn entersyscallblock() {
                // 2011 has no P to hand off: a blocking call is any other call.
                $syscall::entersyscall()
            }
            #[inline(always)]
            fn preempt_point() {}
            fn gomaxprocs(n: i32) -> i32 {
                $gomaxprocs::gomaxprocsfunc(n)
            }
            fn gc() {
                gc::gc()
            }
            fn park<T>(guard: LockGuard<'_, T>) {
                proc::park(guard.into_raw())
            }
            fn ready(g: g::GPtr) {
                proc::ready(g)
            }
            fn current() -> g::GPtr {
                m::getm().curg()
            }
            fn num_goroutine() -> usize {
                m::getm().rt().schedlock().gcount as usize
            }
            fn lock_os_thread() {
                lockosthread::lock_os_thread()
            }
            fn unlock_os_thread() {
                lockosthread::unlock_os_thread()
            }
        }
    };
}

impl_scheduler!(Sched2011, "2011", false, syscall, gc);
impl_scheduler!(Sched2011Lock, "2011-lock", true, before, before);
