//! A loom model of seed 002's packed atomic word against the schedlock paths, in the spirit
//! of the seed's own Promela model (proc.p): the real `SchedWord` operations, composed as the
//! runtime composes them, with goroutines reduced to counts. A monitor thread takes the lock
//! at every point loom chooses and checks the Promela monitor's two invariants:
//!
//! 1. no goroutine waits in the run queue while a CPU is free (gwait > 0 => mcpu >= mcpumax);
//! 2. no waitstop is left set once the world has stopped (waitstop => mcpu > mcpumax).
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p sched2011 --release --test loom_word`.
#![cfg(loom)]

use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::{Arc, Mutex, Notify};
use sched2011::word::{gwaiting, mcpu, mcpumax, waitstop, SchedWord};

/// What the schedlock guards, reduced to counts (as proc.p does).
#[derive(Default)]
struct Synced {
    gwait: u32,
    /// Goroutines handed to M's by matchmg (each took a CPU).
    started: u32,
    /// M's that went idle.
    idle: u32,
}

/// A Note as schedcore implements it: a key and a sleep that loops until the key is set,
/// so a spurious wake-up (which loom's Notify explores) is never seen by the caller.
struct Note {
    key: AtomicBool,
    wake: Notify,
}

impl Note {
    fn new() -> Note {
        Note {
            key: AtomicBool::new(false),
            wake: Notify::new(),
        }
    }
    fn noteclear(&self) {
        self.key.store(false, Ordering::Relaxed);
    }
    fn notewakeup(&self) {
        assert!(
            !self.key.swap(true, Ordering::Release),
            "notewakeup - double wakeup"
        );
        self.wake.notify();
    }
    fn notesleep(&self) {
        while !self.key.load(Ordering::Acquire) {
            self.wake.wait();
        }
    }
}

struct Sched {
    word: SchedWord,
    lock: Mutex<Synced>,
    stopped: Note,
}

impl Sched {
    fn new(mcpu_now: u32, procs: u32, gwait: u32) -> Arc<Sched> {
        let s = Sched {
            word: SchedWord::new(),
            lock: Mutex::new(Synced {
                gwait,
                ..Default::default()
            }),
            stopped: Note::new(),
        };
        s.word.setmcpumax(procs);
        s.word.add_mcpu(mcpu_now as i32);
        if gwait > 0 {
            s.word.set_gwaiting(true);
        }
        Arc::new(s)
    }

    fn gput(&self, st: &mut Synced) {
        st.gwait += 1;
        if st.gwait == 1 {
            self.word.set_gwaiting(true);
        }
    }

    fn gget(&self, st: &mut Synced) {
        assert!(st.gwait > 0);
        st.gwait -= 1;
        if st.gwait == 0 {
            self.word.set_gwaiting(false);
        }
    }

    /// matchmg: hand queued goroutines to M's while CPUs are free.
    fn matchmg(&self, st: &mut Synced) {
        while st.gwait > 0 && self.word.canaddmcpu() {
            self.gget(st);
            st.started += 1;
        }
    }

    /// nextgandunlock's tail for an M with nothing to run: go idle, wake a waiting stopper.
    fn nextg(&self, st: &mut Synced) {
        while st.gwait > 0 && self.word.canaddmcpu() {
            self.gget(st);
            st.started += 1;
            return;
        }
        st.idle += 1;
        if self.word.take_waitstop_if_stopped(self.word.load()) {
            self.stopped.notewakeup();
        }
    }

    /// The running goroutine enters the scheduler still runnable (gosched / slow exitsyscall).
    fn schedule_runnable(&self, st: &mut Synced) {
        self.word.add_mcpu(-1);
        self.gput(st);
        self.matchmg(st);
        self.nextg(st);
    }

    fn entersyscall(&self) {
        if self.word.entersyscall_fast() {
            return;
        }
        let mut st = self.lock.lock().unwrap();
        let mut v = self.word.add_mcpu(-1);
        if gwaiting(v) {
            self.matchmg(&mut st);
            v = self.word.load();
        }
        if self.word.take_waitstop_if_stopped(v) {
            self.stopped.notewakeup();
        }
    }

    /// Returns whether the fast path took the CPU back (else the goroutine was queued).
    fn exitsyscall(&self) -> bool {
        if self.word.exitsyscall_fast() {
            return true;
        }
        let mut st = self.lock.lock().unwrap();
        self.word.add_mcpu(1);
        self.schedule_runnable(&mut st);
        false
    }

    /// The running goroutine blocks (a park): its M gives up the CPU and looks for work. Every
    /// goroutine in proc.p eventually does something like this; without it a stopper could
    /// wait forever on a goroutine that the model simply stopped running.
    fn block(&self) {
        let mut st = self.lock.lock().unwrap();
        self.word.add_mcpu(-1);
        self.nextg(&mut st);
    }

    fn stoptheworld(&self) {
        let mut st = self.lock.lock().unwrap();
        self.word.setmcpumax(1);
        loop {
            let v = self.word.load();
            if mcpu(v) <= 1 {
                break;
            }
            self.stopped.noteclear();
            if !self.word.try_set_waitstop(v) {
                continue;
            }
            drop(st);
            self.stopped.notesleep();
            st = self.lock.lock().unwrap();
        }
    }

    fn starttheworld(&self, procs: u32) {
        let mut st = self.lock.lock().unwrap();
        self.word.setmcpumax(procs);
        self.matchmg(&mut st);
    }

    fn gomaxprocs(&self, n: u32) {
        let mut st = self.lock.lock().unwrap();
        self.word.setmcpumax(n);
        if mcpu(self.word.load()) > n {
            self.schedule_runnable(&mut st);
        } else {
            self.matchmg(&mut st);
        }
    }

    fn ready_one(&self) {
        let mut st = self.lock.lock().unwrap();
        self.gput(&mut st);
        self.matchmg(&mut st);
    }

    /// The Promela monitor's two assertions, with the schedlock held.
    fn check(&self) {
        let st = self.lock.lock().unwrap();
        let v = self.word.load();
        assert!(
            !(st.gwait > 0 && mcpu(v) < mcpumax(v)),
            "a goroutine waits while a CPU is free: gwait {} mcpu {} mcpumax {}",
            st.gwait,
            mcpu(v),
            mcpumax(v)
        );
        assert!(
            !(waitstop(v) && mcpu(v) <= mcpumax(v)),
            "waitstop set after the world stopped: mcpu {} mcpumax {}",
            mcpu(v),
            mcpumax(v)
        );
        assert_eq!(
            gwaiting(v),
            st.gwait > 0,
            "gwaiting bit out of step with gwait"
        );
    }
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(3);
    b.check(f);
}

/// A syscall racing a stop-the-world and start-the-world, watched by the monitor.
#[test]
fn syscall_against_stoptheworld() {
    model(|| {
        let s = Sched::new(2, 2, 0);
        let (a, b, c) = (s.clone(), s.clone(), s.clone());
        let t1 = loom::thread::spawn(move || {
            a.entersyscall();
            if a.exitsyscall() {
                a.block();
            }
        });
        let t2 = loom::thread::spawn(move || {
            b.stoptheworld();
            let st = b.lock.lock().unwrap();
            let v = b.word.load();
            assert!(
                mcpu(v) <= 1,
                "stoptheworld returned with {} M's on CPU",
                mcpu(v)
            );
            drop(st);
            b.starttheworld(2);
        });
        let t3 = loom::thread::spawn(move || c.check());
        t1.join().unwrap();
        t2.join().unwrap();
        t3.join().unwrap();
        s.check();
    });
}

/// A syscall racing a goroutine made ready (gput + matchmg), watched by the monitor.
#[test]
fn syscall_against_ready() {
    model(|| {
        let s = Sched::new(2, 2, 1);
        let (a, b, c) = (s.clone(), s.clone(), s.clone());
        let t1 = loom::thread::spawn(move || {
            a.entersyscall();
            a.exitsyscall()
        });
        let t2 = loom::thread::spawn(move || b.ready_one());
        let t3 = loom::thread::spawn(move || c.check());
        let t1_kept_cpu = t1.join().unwrap();
        t2.join().unwrap();
        t3.join().unwrap();
        s.check();
        // Nothing lost, nothing run twice: the queued one, the readied one and T1's own are
        // each still queued, started by an M, or (T1's) back on its CPU.
        let st = s.lock.lock().unwrap();
        assert_eq!(st.gwait + st.started + t1_kept_cpu as u32, 3);
    });
}

/// Two syscalls racing a GOMAXPROCS change, watched by the monitor.
#[test]
fn syscalls_against_gomaxprocs() {
    model(|| {
        let s = Sched::new(2, 2, 0);
        let (a, b) = (s.clone(), s.clone());
        let t1 = loom::thread::spawn(move || {
            a.entersyscall();
            a.exitsyscall();
        });
        let t2 = loom::thread::spawn(move || {
            b.gomaxprocs(1);
            b.check();
        });
        t1.join().unwrap();
        t2.join().unwrap();
        s.check();
    });
}
