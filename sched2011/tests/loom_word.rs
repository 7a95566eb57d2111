//! A loom model of seed 002's scheduler, in the spirit of the seed's own Promela model
//! (proc.p), run on the crate's own code: the runtime's `Runtime`, M's and G's, with the
//! schedlock and the notes swapped for loom's (`src/sync.rs`) and the word's atomics for
//! loom's (`schedcore::sync`). Every scheduling decision is the crate's: schedule,
//! nextgandunlock, matchmg, gput/gget, mput/mget, mnextg, readylocked, entersyscall and
//! exitsyscall (fast paths and slow paths), stoptheworld/starttheworld, gomaxprocsfunc.
//!
//! What stays the model's is what proc.p also leaves abstract:
//! - a goroutine's work: a model thread is an M running some goroutine, which does something
//!   (a syscall, a ready, a collection, a GOMAXPROCS change) or enters the scheduler
//!   ([`Mach::mcall`], the stand-in for Go's `mcall(schedule)`, which a real M reaches through
//!   a coroutine switch: its goroutine's status says why);
//! - new M's: under loom `newm` starts no thread, and an M it makes keeps the goroutine
//!   handed to it, as proc.p's new M "assumes it is running a g";
//! - the end: once every model thread has finished or sleeps for want of a goroutine, the
//!   run ends the runtime's way (`Runtime::finish`, which wakes the sleepers).
//!
//! Every unlock and relock is its own step, as in the runtime: in particular the window proc.p
//! calls `mustsched`, between exitsyscall's slow path unlocking and schedule relocking, is
//! open to every other thread. A monitor thread looks at a point loom chooses, when the
//! schedlock is free (proc.p's `!sched_lock`), and checks the two invariants of proc.p's
//! monitor:
//!
//! 1. no goroutine waits in the run queue while a CPU is free (gwait > 0 => mcpu >= mcpumax);
//! 2. no waitstop is left set once the world has stopped (waitstop => mcpu > mcpumax);
//!
//! and, when the threads are quiet, every goroutine is in exactly one place (on an M, in the
//! run queue, handed to an M, or parked) and the CPUs counted are the M's holding one. A
//! thread left waiting for a wake-up that never comes keeps the threads from going quiet,
//! which fails the model too.
//!
//! Run: `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test --release -p sched2011
//! --test loom_word`. Removing the gwaiting test from `entersyscall_fast` makes
//! `syscall_against_ready` (and `syscall_against_gomaxprocs`) fail; removing its waitstop
//! test, or nextgandunlock's wake-up of a waiting stoptheworld, makes
//! `syscall_against_stoptheworld` fail; starttheworld without its matchmg makes
//! `ready_against_stoptheworld` fail.
//!
//! The model's own bookkeeping (`Mach::done`, the reads of `wait_quiet`) is plain state, not
//! loom's: loom switches threads only at its own operations, so such reads see the latest
//! writes and add no interleavings of their own to explore.
#![cfg(loom)]

use sched2011::g::{GPtr, GRUNNABLE, GRUNNING, GSYSCALL, GWAITING};
use sched2011::gc::{gomaxprocsfunc_on, starttheworld, stoptheworld};
use sched2011::m::MPtr;
use sched2011::proc::{readylocked, schedule};
use sched2011::sched::{gfget, Runtime, Synced};
use sched2011::syscall::{entersyscall_on, exitsyscall_on};
use sched2011::word::{gwaiting, mcpu, mcpumax, waitstop};
use schedcore::{Config, LockKind, StackArena};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

/// A runtime of `procs` CPUs booted the crate's way: `runnable` goroutines made ready with
/// readylocked (gput, then matchmg hands them to new M's while CPUs are free; the others stay
/// queued), each new M taking its goroutine through schedule as its first trip does, plus
/// `parked` goroutines waiting for a ready. Returns the M's, in the order matchmg made them,
/// and the parked goroutines.
fn boot(procs: u32, runnable: usize, parked: usize) -> (Vec<Mach>, Vec<GPtr>) {
    let cfg = Config {
        max_goroutines: Some(64),
        ..Config::new(procs as usize)
    };
    let stacks = StackArena::new(&cfg).expect("a stack arena");
    let rt = Arc::new(Runtime::new(
        "2011",
        false,
        LockKind::Futex2011,
        stacks,
        procs,
        None,
    ));
    let mut waiting = Vec::new();
    let ms = {
        let mut s = rt.schedlock();
        for i in 0..runnable + parked {
            // newproc1 without a stack: the model never resumes a goroutine.
            let gp = gfget(&mut s);
            gp.set_status(GWAITING);
            s.gcount += 1;
            if i < runnable {
                readylocked(&rt, &mut s, None, gp);
            } else {
                waiting.push(gp);
            }
        }
        s.allm.clone()
    };
    let machs = ms
        .into_iter()
        .map(|m| {
            let g = schedule(&rt, &m, None);
            assert!(g.is_some(), "matchmg made an M without a goroutine");
            Mach {
                rt: rt.clone(),
                m,
                g,
                done: Arc::new(AtomicBool::new(false)),
            }
        })
        .collect();
    (machs, waiting)
}

/// An M and the goroutine it runs (`None` once the run is over for it), as proc.p's mstart.
struct Mach {
    rt: Arc<Runtime>,
    m: MPtr,
    g: Option<GPtr>,
    /// Its model thread has finished its script.
    done: Arc<AtomicBool>,
}

impl Mach {
    /// Go's `mcall(schedule)`: the goroutine switches out, its status saying why, and the M
    /// schedules the next one (sleeping until one is handed over, if need be).
    fn mcall(&mut self) {
        self.g = schedule(&self.rt, &self.m, self.g.take());
    }

    /// The goroutine blocks (a park that nobody in the model will answer): its M gives up the
    /// CPU and looks for work. Without it a stopper could wait forever on a goroutine that the
    /// model simply stopped running.
    fn block(&mut self) {
        if let Some(gp) = self.g {
            gp.set_status(GWAITING);
            self.mcall();
        }
    }

    /// A syscall: the crate's entersyscall, then its exitsyscall, whose slow path reschedules.
    fn syscall(&mut self) {
        if self.g.is_none() {
            return;
        }
        let m = self.m;
        entersyscall_on(&m);
        exitsyscall_on(&m, || self.mcall());
    }

    /// The goroutine readies a parked one (Go's ready, less its trace event).
    fn ready(&self, gp: GPtr) {
        if self.g.is_some() {
            let mut s = self.rt.schedlock();
            readylocked(&self.rt, &mut s, Some(&self.m), gp);
        }
    }

    /// A collection as gc() runs one, with `stopped` in place of the scan. Returns whether the
    /// world stopped.
    fn gc(&mut self, stopped: impl FnOnce(&Runtime)) -> bool {
        if self.g.is_none() {
            return false;
        }
        self.m.gcing.store(true, Relaxed);
        let ok = stoptheworld(&self.rt);
        if ok {
            stopped(&self.rt);
        }
        self.m.gcing.store(false, Relaxed);
        if ok {
            starttheworld(&self.rt, &self.m);
        }
        ok
    }

    /// runtime.GOMAXPROCS(n), whose gosched is this M's reschedule.
    fn gomaxprocs(&mut self, n: i32) {
        if self.g.is_some() {
            let m = self.m;
            gomaxprocsfunc_on(&m, n, || self.mcall());
        }
    }
}

/// What a model thread's goroutine does.
type Script = Box<dyn FnOnce(&mut Mach) + Send>;

/// What a scenario looks at once the threads are quiet, before the end.
type After = Box<dyn FnOnce(&Runtime)>;

/// One scenario, model-checked: a runtime booted as `boot` does, whose first M's run the
/// scripts `make` returns (given the parked goroutines), each on a model thread of its own.
fn scenario(
    procs: u32,
    runnable: usize,
    parked: usize,
    make: impl Fn(&[GPtr]) -> (Vec<Script>, After) + Sync + Send + 'static,
) {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(3);
    }
    b.check(move || {
        let (machs, parked) = boot(procs, runnable, parked);
        let (scripts, after) = make(&parked);
        assert!(scripts.len() <= machs.len(), "more scripts than M's");
        run(machs.into_iter().zip(scripts).collect(), after);
    });
}

/// Runs each M's script on a model thread of its own, with the monitor beside them; once the
/// threads are quiet, audits the state, lets `after` look, and ends the run.
fn run(machs: Vec<(Mach, Script)>, after: After) {
    let rt = machs[0].0.rt.clone();
    let watch: Vec<_> = machs.iter().map(|(x, _)| (x.m, x.done.clone())).collect();
    let threads: Vec<_> = machs
        .into_iter()
        .map(|(mut x, script)| {
            loom::thread::spawn(move || {
                script(&mut x);
                x.done.store(true, Relaxed);
            })
        })
        .collect();
    // The monitor: one look, at a point loom chooses, if the schedlock is free then.
    let monitor = {
        let rt = rt.clone();
        loom::thread::spawn(move || {
            if let Some(s) = rt.try_schedlock() {
                check_locked(&rt, &s)
            }
        })
    };
    wait_quiet(&watch);
    monitor.join().unwrap();
    audit(&rt);
    after(&rt);
    rt.finish();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(rt.end.wait(), None, "the run failed");
    free(&rt);
}

/// Waits until every model thread has finished its script or sleeps on its note with nothing
/// handed to it (`waitnextg`): then nothing can happen any more but the end. Loom runs this
/// thread again only once the others have all blocked or ended, so a few looks suffice; many
/// more mean that a thread waits for a wake-up nobody will send.
fn wait_quiet(watch: &[(MPtr, Arc<AtomicBool>)]) {
    let mut looks = 0;
    while !watch
        .iter()
        .all(|(m, done)| done.load(Relaxed) || m.waitnextg.load(Relaxed))
    {
        looks += 1;
        assert!(
            looks < 100,
            "the threads never go quiet: one waits for a wake-up that nobody sends"
        );
        loom::thread::yield_now();
    }
}

/// The Promela monitor's two assertions, and the gwaiting bit in step with the queue.
fn check(rt: &Runtime) {
    check_locked(rt, &rt.schedlock())
}

/// `check` with the schedlock held by the caller.
fn check_locked(rt: &Runtime, s: &Synced) {
    let v = rt.word.load();
    assert!(
        !(s.gwait > 0 && mcpu(v) < mcpumax(v)),
        "a goroutine waits while a CPU is free: gwait {} mcpu {} mcpumax {}",
        s.gwait,
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
        s.gwait > 0,
        "gwaiting bit out of step with gwait"
    );
}

/// With the threads quiet: the monitor's check, every goroutine in exactly one place (nothing
/// lost, nothing run twice), and the CPUs and running goroutines counted are the M's that hold
/// one, on a CPU or handed over (no goroutine is in a syscall by then).
fn audit(rt: &Runtime) {
    check(rt);
    let s = rt.schedlock();
    let mut holding = 0u32;
    for &gp in &s.allg {
        let queued = s.runq.iter().filter(|&&g| g == gp).count();
        let handed = s
            .allm
            .iter()
            .filter(|m| m.nextg.load(Relaxed) == gp.as_ptr())
            .count();
        let on = gp.m.load(Relaxed);
        let place = match gp.status() {
            GRUNNING => {
                // SAFETY: M's live until the model frees them at the end.
                let m = unsafe { on.as_ref() }.expect("a running goroutine without an M");
                assert_eq!(m.curg.load(Relaxed), gp.as_ptr(), "its M runs another");
                holding += 1;
                queued + handed + 1
            }
            GRUNNABLE => {
                assert!(on.is_null(), "a runnable goroutine still on an M");
                holding += handed as u32;
                queued + handed
            }
            GWAITING => {
                assert!(on.is_null(), "a parked goroutine still on an M");
                queued + handed + 1
            }
            st => panic!("a goroutine with status {st} once the threads are quiet"),
        };
        assert_eq!(
            place,
            1,
            "a goroutine in {place} places (status {})",
            gp.status()
        );
    }
    assert_eq!(
        s.gwait as usize,
        s.runq.len(),
        "gwait out of step with the queue"
    );
    assert_eq!(
        mcpu(rt.word.load()),
        holding,
        "mcpu is not the M's holding a goroutine"
    );
    assert_eq!(
        s.grunning, holding as i32,
        "grunning is not the goroutines held"
    );
}

/// Frees what the runtime allocated (its teardown's job; every model thread has ended).
fn free(rt: &Runtime) {
    let s = rt.schedlock();
    for &gp in &s.allg {
        // SAFETY: no thread of the model is left to touch a goroutine or an M.
        unsafe { gp.free() };
    }
    for &m in &s.allm {
        // SAFETY: as above.
        unsafe { m.free() };
    }
}

/// A syscall (whose exit may take the slow path) racing a stop-the-world and
/// start-the-world, watched by the monitor.
#[test]
fn syscall_against_stoptheworld() {
    scenario(2, 2, 0, |_| {
        let sys: Script = Box::new(|x| {
            x.syscall();
            x.block();
        });
        let stopper: Script = Box::new(|x| {
            let stopped = x.gc(|rt| {
                // An M in the mustsched window counts in mcpu but runs no Go code: it is on
                // its way to schedule, which gives the CPU back.
                let s = rt.schedlock();
                let v = rt.word.load();
                let mustsched = s
                    .allg
                    .iter()
                    .filter(|g| g.status() == GSYSCALL && g.readyonstop.load(Relaxed))
                    .count() as u32;
                assert!(
                    mcpu(v) - mustsched <= 1,
                    "stoptheworld returned with {} M's running Go code",
                    mcpu(v) - mustsched
                );
            });
            assert!(stopped, "the run ended while the world stopped");
        });
        (vec![sys, stopper], Box::new(|_| {}))
    });
}

/// A syscall racing a goroutine made ready (gput + matchmg), watched by the monitor. A third
/// goroutine waits in the queue, so the syscall's entry goes slow and hands its CPU over;
/// when the ready takes a freed CPU, the exit goes slow and crosses proc.p's mustsched window.
#[test]
fn syscall_against_ready() {
    scenario(2, 3, 1, |parked| {
        let gp = parked[0];
        let sys: Script = Box::new(|x| x.syscall());
        let readier: Script = Box::new(move |x| x.ready(gp));
        let after: After = Box::new(move |_| {
            assert_ne!(gp.status(), GWAITING, "the ready was lost");
        });
        (vec![sys, readier], after)
    });
}

/// A syscall racing a GOMAXPROCS change down to 1 (whose gosched crosses the same kind of
/// window), watched by the monitor.
#[test]
fn syscall_against_gomaxprocs() {
    scenario(2, 2, 0, |_| {
        let sys: Script = Box::new(|x| x.syscall());
        let changer: Script = Box::new(|x| {
            x.gomaxprocs(1);
            check(&x.rt);
        });
        let after: After = Box::new(|rt| {
            assert_eq!(mcpumax(rt.word.load()), 1, "the change was lost");
        });
        (vec![sys, changer], after)
    });
}

/// A goroutine made ready while the world stops and starts (proc.p's ready against its
/// garbage collector), watched by the monitor. The readier's goroutines then block, one after
/// the other, until its M has none left, so that it gives its CPU up to the stopper.
#[test]
fn ready_against_stoptheworld() {
    scenario(2, 2, 1, |parked| {
        let gp = parked[0];
        let readier: Script = Box::new(move |x| {
            x.ready(gp);
            while x.g.is_some() {
                x.block();
            }
        });
        let stopper: Script = Box::new(|x| {
            let stopped = x.gc(|rt| {
                let v = rt.word.load();
                assert!(mcpu(v) <= 1, "stoptheworld returned with mcpu {}", mcpu(v));
            });
            assert!(stopped, "the run ended while the world stopped");
        });
        (vec![readier, stopper], Box::new(|_| {}))
    });
}
