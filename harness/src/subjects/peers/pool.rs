//! A fixed set of plain OS threads that run one job per round, started before any round is
//! timed (as a runtime's M's are booted before its main goroutine runs).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

/// A round's work: called once on every thread with (thread index, thread count); returns
/// whether the work checked out. Called once per round, never on a hot path.
pub type Job = Arc<dyn Fn(usize, usize) -> bool + Send + Sync>;

/// `procs` threads waiting for jobs.
pub struct Pool {
    jobs: Vec<Sender<Job>>,
    done: Receiver<bool>,
    threads: Vec<JoinHandle<()>>,
}

impl Pool {
    pub fn new(procs: usize) -> Pool {
        let (done_tx, done) = channel();
        let mut jobs = Vec::with_capacity(procs);
        let mut threads = Vec::with_capacity(procs);
        for i in 0..procs {
            let (tx, rx) = channel::<Job>();
            let done_tx = done_tx.clone();
            jobs.push(tx);
            threads.push(
                std::thread::Builder::new()
                    .name(format!("floor-{i}"))
                    .spawn(move || {
                        for job in rx {
                            // A panicking job counts as a failed check, and the thread lives on
                            // so the round still ends.
                            let ok =
                                catch_unwind(AssertUnwindSafe(|| job(i, procs))).unwrap_or(false);
                            if done_tx.send(ok).is_err() {
                                break;
                            }
                        }
                    })
                    .expect("spawn a floor thread"),
            );
        }
        Pool {
            jobs,
            done,
            threads,
        }
    }

    /// Runs `job` on every thread and waits for all of them; true if every one checked out.
    pub fn run(&self, job: &Job) -> bool {
        for tx in &self.jobs {
            tx.send(job.clone()).expect("a floor thread is alive");
        }
        let mut ok = true;
        for _ in &self.jobs {
            ok &= self.done.recv().expect("a floor thread is alive");
        }
        ok
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.jobs.clear();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
