//! Helpers shared by the conformance and stress suites: a hang becomes a failure.

use std::sync::mpsc;
use std::time::Duration;

/// Runs `f` on its own thread and fails the test if it has not finished within `secs`:
/// a scheduler bug that hangs shows up as a failure with a name, not as a stuck CI run.
pub fn with_timeout<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let h = std::thread::Builder::new()
        .name("test-body".into())
        .spawn(move || {
            let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
        })
        .expect("spawn test thread");
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(Ok(v)) => {
            let _ = h.join();
            v
        }
        Ok(Err(p)) => std::panic::resume_unwind(p),
        Err(_) => panic!("test hung: no result after {secs} s"),
    }
}

/// A blocking "syscall" of about `us` microseconds, announced to the scheduler.
pub fn blocking_syscall<S: schedcore::Scheduler>(us: u64) {
    S::entersyscall();
    std::thread::sleep(Duration::from_micros(us));
    S::exitsyscall();
}
