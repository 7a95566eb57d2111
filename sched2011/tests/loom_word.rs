//! A loom model of seed 002's packed atomic word against the schedlock paths, in the spirit
//! of the seed's own Promela model (proc.p). The syscall paths are the crate's own: the
//! word's `entersyscall_fast`/`exitsyscall_fast`, and the slow paths' bodies
//! (`entersyscall_locked`, `exitsyscall_locked`, schedule's `schedule_mcpu`) called with the
//! schedlock held. Every unlock and relock is its own step, as in the runtime: in particular
//! the window proc.p calls `mustsched`, between exitsyscall's slow path unlocking and
//! schedule relocking, is open to every other thread. Goroutines are reduced to counts, as
//! proc.p does. A monitor thread takes the lock at every point loom chooses and checks the
//! Promela monitor's two invariants:
//!
//! 1. no goroutine waits in the run queue while a CPU is free (gwait > 0 => mcpu >= mcpumax);
//! 2. no waitstop is left set once the world has stopped (waitstop => mcpu > mcpumax).
//!
//! Run: `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test --release -p sched2011
//! --test loom_word`. Removing the gwaiting test from `entersyscall_fast` makes
//! `syscall_against_ready` fail.
#![cfg(loom)]

use loom::sync::Notify;
use sched2011::word::{gwaiting, mcpu, mcpumax, waitstop, SchedWord};
use schedcore::sync::{Arc, AtomicBool, Mutex, Ordering};

/// What the schedlock guards, reduced to counts (as proc.p does).
#[derive(Default)]
struct Synced {
    gwait: u32,
    /// Goroutines handed to M's by matchmg or taken by nextgandunlock (each took a CPU).
    started: u32,
    /// M's that went idle.
    idle: u32,
    /// M's between exitsyscall's slow path and schedule (proc.p's `mustsched`): counted in
    /// mcpu, but not running Go code.
    mustsched: u32,
}

/// The schedlock held.
type Guard<'a> = loom::sync::MutexGuard<'a, Synced>;

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

    fn schedlock(&self) -> Guard<'_> {
        self.lock.lock().unwrap()
    }

    /// gput: the gwaiting bit follows gwait's moves to and from zero.
    fn gput(&self, st: &mut Synced) {
        st.gwait += 1;
        if st.gwait == 1 {
            self.word.set_gwaiting(true);
        }
    }

    fn gget(&self, st: &mut Synced) {
        assert!(st.gwait > 0, "gget inconsistency");
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

    /// nextgandunlock: take a queued goroutine if a CPU is free, else go idle and wake a
    /// stopper whose wait is over. Unlocks.
    fn nextgandunlock(&self, mut st: Guard<'_>) {
        if st.gwait > 0 && self.word.canaddmcpu() {
            self.gget(&mut st);
            st.started += 1;
            return;
        }
        st.idle += 1;
        let v = self.word.load();
        if self.word.take_waitstop_if_stopped(v) {
            self.stopped.notewakeup();
        }
    }

    /// schedule for a goroutine that stopped: the crate's `mcpu--`, then, if it is still
    /// runnable, gput (plus matchmg when it came through readyonstop), then the next one.
    fn schedule(&self, runnable: bool, readyonstop: bool) {
        let mut st = self.schedlock();
        self.word.schedule_mcpu();
        if readyonstop {
            st.mustsched -= 1;
        }
        if runnable {
            self.gput(&mut st);
            if readyonstop {
                self.matchmg(&mut st);
            }
        }
        self.nextgandunlock(st);
    }

    /// The crate's entersyscall: the fast path, else the locked body.
    fn entersyscall(&self) {
        if self.word.entersyscall_fast() {
            return;
        }
        let mut st = self.schedlock();
        if self.word.entersyscall_locked(|| self.matchmg(&mut st)) {
            self.stopped.notewakeup();
        }
    }

    /// The crate's exitsyscall. Returns whether the fast path took the CPU back (else the
    /// goroutine went through schedule onto the queue).
    fn exitsyscall(&self) -> bool {
        if self.word.exitsyscall_fast() {
            return true;
        }
        let mut st = self.schedlock();
        self.word.exitsyscall_locked();
        // readyonstop = 1
        st.mustsched += 1;
        drop(st);
        // proc.p's mustsched: anything may happen here before gosched relocks.
        self.schedule(true, true);
        false
    }

    /// The running goroutine blocks (a park): its M gives up the CPU and looks for work.
    /// Every goroutine in proc.p eventually does something like this; without it a stopper
    /// could wait forever on a goroutine that the model simply stopped running.
    fn block(&self) {
        self.schedule(false, false);
    }

    /// stoptheworld, step for step as gc.rs.
    fn stoptheworld(&self) {
        let mut st = self.schedlock();
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
            st = self.schedlock();
        }
    }

    fn starttheworld(&self, procs: u32) {
        let mut st = self.schedlock();
        self.word.setmcpumax(procs);
        self.matchmg(&mut st);
    }

    /// gomaxprocsfunc, as gc.rs: with fewer CPUs than in use, unlock, then gosched.
    fn gomaxprocs(&self, n: u32) {
        let mut st = self.schedlock();
        self.word.setmcpumax(n);
        if mcpu(self.word.load()) > n {
            drop(st);
            self.schedule(true, false);
        } else {
            self.matchmg(&mut st);
        }
    }

    fn ready_one(&self) {
        let mut st = self.schedlock();
        self.gput(&mut st);
        self.matchmg(&mut st);
    }

    /// The Promela monitor's two assertions, with the schedlock held (proc.p's
    /// `!sched_lock`).
    fn check(&self) {
        let st = self.schedlock();
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
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(3);
    }
    b.check(f);
}

/// A syscall (whose exit may take the slow path) racing a stop-the-world and
/// start-the-world, watched by the monitor.
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
            // An M in the mustsched window counts in mcpu but runs no Go code: it is on its
            // way to schedule, which gives the CPU back.
            let st = b.schedlock();
            let v = b.word.load();
            assert!(
                mcpu(v) - st.mustsched <= 1,
                "stoptheworld returned with {} M's running Go code",
                mcpu(v) - st.mustsched
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

/// A syscall racing a goroutine made ready (gput + matchmg), watched by the monitor. When
/// the ready takes the freed CPU, the exit goes slow and crosses proc.p's mustsched window.
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
        // each still queued, started by an M (T1's own too, once its slow exit queued it),
        // or (T1's) back on its CPU through the fast exit.
        let st = s.schedlock();
        assert_eq!(st.gwait + st.started + t1_kept_cpu as u32, 3);
    });
}

/// Two syscalls racing a GOMAXPROCS change (whose gosched crosses the same kind of
/// window), watched by the monitor.
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
