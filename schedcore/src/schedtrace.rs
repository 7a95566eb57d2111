//! `schedtrace`: the scheduler's state as one line, in the shape of Go's
//! `GODEBUG=schedtrace=X` output (runtime·schedtrace in seed 001), printed periodically to
//! stderr when `Config::schedtrace` is set. Generations with sysmon print from it; the 2011
//! scheduler, which has none, runs a [`Monitor`] thread.

use crate::note::Note;
use std::fmt;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One snapshot of a scheduler.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchedTrace {
    /// Since the runtime started.
    pub elapsed: Duration,
    pub gomaxprocs: usize,
    /// P's with nothing to do (2011: CPUs allowed but unused, gomaxprocs - mcpu).
    pub idleprocs: usize,
    /// M's created.
    pub threads: usize,
    pub spinningthreads: usize,
    pub idlethreads: usize,
    /// The global run queue's length.
    pub runqueue: usize,
    /// Each P's local run queue length; `None` where there are no P's (2011).
    pub local: Option<Vec<usize>>,
}

impl fmt::Display for SchedTrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SCHED {}ms: gomaxprocs={} idleprocs={} threads={} spinningthreads={} idlethreads={} runqueue={}",
            self.elapsed.as_millis(),
            self.gomaxprocs,
            self.idleprocs,
            self.threads,
            self.spinningthreads,
            self.idlethreads,
            self.runqueue
        )?;
        if let Some(local) = &self.local {
            f.write_str(" [")?;
            for (i, n) in local.iter().enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{n}")?;
            }
            f.write_str("]")?;
        }
        Ok(())
    }
}

/// When a periodic tracer (sysmon) should print next.
pub struct TraceClock {
    start: Instant,
    every: Duration,
    next: Instant,
}

impl TraceClock {
    pub fn new(every: Duration) -> TraceClock {
        let start = Instant::now();
        TraceClock {
            start,
            every,
            next: start + every,
        }
    }

    /// The time since the start if a line is due now (and schedules the next), else `None`.
    pub fn due(&mut self) -> Option<Duration> {
        let now = Instant::now();
        if now < self.next {
            return None;
        }
        self.next = now + self.every;
        Some(now - self.start)
    }
}

/// A thread that prints a snapshot every period until stopped, for a generation without a
/// sysmon thread to print from.
pub struct Monitor {
    stop: Arc<Note>,
    thread: Option<JoinHandle<()>>,
}

impl Monitor {
    pub fn spawn(
        every: Duration,
        snapshot: impl Fn(Duration) -> SchedTrace + Send + 'static,
    ) -> Monitor {
        let stop = Arc::new(Note::new());
        let stop2 = stop.clone();
        let start = Instant::now();
        let thread = std::thread::Builder::new()
            .name("schedtrace".into())
            .spawn(move || {
                while !stop2.notetsleep(every) {
                    eprintln!("{}", snapshot(start.elapsed()));
                }
            })
            .expect("cannot start the schedtrace thread");
        Monitor {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.stop.notewakeup();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_go() {
        let t = SchedTrace {
            elapsed: Duration::from_millis(1004),
            gomaxprocs: 4,
            idleprocs: 3,
            threads: 7,
            spinningthreads: 0,
            idlethreads: 3,
            runqueue: 0,
            local: Some(vec![0, 2, 0, 0]),
        };
        assert_eq!(
            t.to_string(),
            "SCHED 1004ms: gomaxprocs=4 idleprocs=3 threads=7 spinningthreads=0 idlethreads=3 runqueue=0 [0 2 0 0]"
        );
        let t2 = SchedTrace { local: None, ..t };
        assert!(t2.to_string().ends_with("runqueue=0"));
    }
}
