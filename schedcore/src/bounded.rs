//! Running something with a deadline, so that a scheduler bug that hangs shows up in a test
//! as a failure with a name instead of a stuck run.

use std::sync::mpsc;
use std::time::Duration;

/// Runs `f` on its own thread and panics if it has not finished within `secs` seconds; a
/// panic inside `f` is passed on. The hung thread, if any, is left behind. The thread has the
/// caller's name (a test's path, under cargo's harness).
pub fn with_timeout<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let name = std::thread::current()
        .name()
        .unwrap_or("bounded")
        .to_string();
    let h = std::thread::Builder::new()
        .name(name)
        .spawn(move || {
            let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
        })
        .expect("spawn a bounded thread");
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(Ok(v)) => {
            let _ = h.join();
            v
        }
        Ok(Err(p)) => std::panic::resume_unwind(p),
        Err(_) => panic!("hung: no result after {secs} s"),
    }
}
