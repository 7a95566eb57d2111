//! Booting a 2011 runtime around a main goroutine, and tearing it down when main returns.

use crate::g::GDEAD;
use crate::m::getm;
use crate::proc::newproc1;
use crate::sched::Runtime;
use crate::word::MAXGOMAXPROCS;
use schedcore::exit::panic_message;
use schedcore::memory::MemoryWatch;
use schedcore::{Config, Counter, LockKind, Report, RunError, StackArena, Totals};
use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The counters a 2011 runtime keeps.
const REPORTED: &[Counter] = &[
    Counter::GoroutinesCreated,
    Counter::GoroutinesLeft,
    Counter::GoroutinesPeak,
    Counter::ThreadsCreated,
    Counter::StacksMapped,
    Counter::Gosched,
    Counter::Parks,
    Counter::SyscallEnterFast,
    Counter::SyscallEnterSlow,
    Counter::SyscallExitFast,
    Counter::SyscallExitSlow,
    Counter::MnextgHandoffs,
    Counter::MSleeps,
    Counter::GlobrunqPut,
    Counter::GlobrunqGet,
    Counter::RunqMax,
    Counter::Gcs,
    Counter::StwPauses,
    Counter::StackWordsScanned,
    Counter::StackPointersFound,
];

pub fn run<R, F>(
    name: &'static str,
    before: bool,
    cfg: &Config,
    main: F,
) -> Result<(R, Report), RunError>
where
    R: Send + 'static,
    F: FnOnce() -> R + Send + 'static,
{
    cfg.validate(MAXGOMAXPROCS as usize)?;
    let stacks = StackArena::new(cfg)?;
    let memory = MemoryWatch::start();
    let rt = Box::new(Runtime::new(
        name,
        before,
        cfg.lock_or(LockKind::Futex2011),
        stacks,
        cfg.procs as u32,
        cfg.trace,
    ));
    let result: Arc<Mutex<Option<(R, Duration)>>> = Arc::new(Mutex::new(None));
    let slot = result.clone();
    let main_g = move || {
        let t0 = Instant::now();
        let r = main();
        *slot.lock().unwrap() = Some((r, t0.elapsed()));
        getm().rt().finish();
    };
    // 2011 has no sysmon to print schedtrace lines from: a monitor thread does it. Its panic
    // is the runtime's, like an M's: it ends the run (and the monitor thread).
    let monitor = cfg.schedtrace.map(|every| {
        let rt_ref = RuntimeRef(&*rt);
        schedcore::schedtrace::Monitor::spawn(every, move |elapsed| {
            let rt = rt_ref.get();
            match catch_unwind(AssertUnwindSafe(|| rt.schedtrace(elapsed))) {
                Ok(line) => line,
                Err(p) => {
                    let msg = format!("fatal error: schedtrace died: {}", panic_message(&*p));
                    rt.fail(RunError::Panic(msg));
                    resume_unwind(p)
                }
            }
        })
    });
    // The main goroutine goes through newproc like any other; matchmg starts M0 for it. A
    // panic on the way (Go's throw at boot: no stack for main, M0's thread refused) must end
    // the run, or `wait` would sleep on a runtime that no M runs.
    if let Err(p) = catch_unwind(AssertUnwindSafe(|| {
        let mut s = rt.schedlock();
        newproc1(&rt, &mut s, None, main_g);
    })) {
        rt.fail(boot_error(&*p));
    }
    let err = rt.end.wait();
    drop(monitor);
    teardown(rt, err, result, cfg.procs, memory)
}

/// The error of a panic that escaped the boot's newproc1. A `RunError` payload is the error
/// itself (newproc1 found no stack, and has already ended the run with it: `fail` keeps the
/// first error); anything else is a throw, reported as an M's is.
fn boot_error(p: &(dyn Any + Send)) -> RunError {
    match p.downcast_ref::<RunError>() {
        Some(e) => e.clone(),
        None => RunError::Panic(format!(
            "fatal error: booting the main goroutine: {}",
            panic_message(p)
        )),
    }
}

/// The runtime, for the schedtrace monitor thread.
struct RuntimeRef(*const Runtime);

// SAFETY: the monitor is dropped (its thread joined) before the runtime is freed, and Runtime
// is Sync.
unsafe impl Send for RuntimeRef {}

impl RuntimeRef {
    fn get(&self) -> &Runtime {
        // SAFETY: see `unsafe impl Send for RuntimeRef`.
        unsafe { &*self.0 }
    }
}

fn teardown<R>(
    rt: Box<Runtime>,
    err: Option<RunError>,
    result: Arc<Mutex<Option<(R, Duration)>>>,
    procs: usize,
    memory: MemoryWatch,
) -> Result<(R, Report), RunError> {
    // Every M either sees `exiting` at its next trip through schedule or was woken by
    // wake_for_exit; join them all (an M may start another before it sees the flag).
    loop {
        let threads = std::mem::take(&mut rt.schedlock().threads);
        if threads.is_empty() {
            break;
        }
        for t in threads {
            // An M catches its own panics (mstart) and ends the run with them; one that
            // escaped anyway is a broken runtime, worth seeing.
            if let Err(p) = t.join() {
                std::panic::resume_unwind(p);
            }
        }
    }
    let mut totals = Totals::default();
    let s = rt.schedlock();
    let mut left = 0;
    for g in &s.allg {
        if g.status() != GDEAD {
            left += 1;
        }
        // SAFETY: every M thread has been joined, so no goroutine runs and none will again.
        unsafe {
            g.ctx.reset();
            g.free();
        }
    }
    totals.merge(&s.counters, REPORTED);
    // Every M thread is joined: their buffers are still.
    let trace = rt
        .tracer
        .collect(
            procs,
            false,
            std::iter::once((BOOT, "boot".to_string(), &rt.boot_trace)).chain(
                s.allm
                    .iter()
                    .map(|m| (m.id as i64, format!("M{}", m.id), &m.trace)),
            ),
        )
        .map(boot_into_m0);
    for m in &s.allm {
        totals.merge(&m.counters, REPORTED);
        // SAFETY: joined above; nothing refers to the M any more.
        unsafe { m.free() };
    }
    totals.merge_one(Counter::GoroutinesLeft, left);
    drop(s);
    let pauses = std::mem::replace(
        &mut *rt.pauses.lock(),
        schedcore::report::latency_histogram(),
    );
    let taken = result.lock().unwrap().take();
    if let Some(e) = err {
        return Err(e);
    }
    let (r, elapsed) = taken.expect("main goroutine ended without a result");
    let mut report = Report::new(rt.name, procs, rt.lock_kind, elapsed, &totals, pauses);
    report.memory = memory.finish();
    report.trace = trace;
    Ok((r, report))
}

/// The lane id the boot's buffer is collected under, before `boot_into_m0` folds it away.
const BOOT: i64 = -1;

/// Puts the boot's events at the head of M0's lane: matchmg made M0 for the main goroutine at
/// boot, and M0 records nothing before it takes the schedlock the boot held, so the boot's
/// events all come before M0's (as on Go's m0, which boots the runtime). If M0's ring wrapped,
/// they are older than what it lost: they count as lost too.
fn boot_into_m0(mut t: schedcore::trace::Trace) -> schedcore::trace::Trace {
    let Some(i) = t.ms.iter().position(|l| l.m == BOOT) else {
        return t;
    };
    let Some(j) = t.ms.iter().position(|l| l.m == 0) else {
        return t;
    };
    let boot = t.ms.remove(i);
    let m0 = &mut t.ms[j - usize::from(i < j)];
    if m0.lost == 0 {
        let mut events = boot.events;
        events.append(&mut m0.events);
        m0.events = events;
        m0.lost = boot.lost;
    } else {
        m0.lost += boot.lost + boot.events.len() as u64;
    }
    t
}
