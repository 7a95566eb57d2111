//! Helpers shared by the conformance and stress suites.

use std::time::Duration;

pub use schedcore::bounded::with_timeout;

/// A blocking "syscall" of about `us` microseconds, announced to the scheduler.
pub fn blocking_syscall<S: schedcore::Scheduler>(us: u64) {
    S::entersyscall();
    std::thread::sleep(Duration::from_micros(us));
    S::exitsyscall();
}
