//! A `go` that fails at the resource limit (tracker issue 9): when newproc1 cannot map a stack,
//! the goroutine that called `go` panics, and newproc1 must have undone what it held (the G,
//! and in 2014 `m.locks`), so that a goroutine that catches the panic carries on and its M
//! keeps scheduling. In a test binary of its own: it lowers the whole process's address-space
//! limit (RLIMIT_AS, with util-linux's `prlimit`) so that 1 GiB stacks run out after a few;
//! the schedulers take turns (one lock), since they share the limit.

use schedcore::exit::panic_message;
use schedcore::{Config, Scheduler, WaitGroup};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::Command;
use std::sync::Mutex;

/// One scheduler at a time: the limit is the process's.
static TURN: Mutex<()> = Mutex::new(());

/// The process's virtual size, from /proc/self/status.
fn vmsize() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmSize:"))
        .expect("a VmSize line");
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// Sets this process's soft RLIMIT_AS to `bytes`.
fn limit_address_space(bytes: u64) {
    let ok = Command::new("prlimit")
        .arg(format!("--pid={}", std::process::id()))
        .arg(format!("--as={bytes}:"))
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "prlimit (util-linux) could not set RLIMIT_AS");
}

fn go_fails_then_the_run_goes_on<S: Scheduler>() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    // Room for a few 1 GiB stacks, and plenty for everything else.
    limit_address_space(vmsize() + (4 << 30));
    let cfg = Config {
        stack_size: schedcore::scheduler::MAX_STACK_SIZE,
        ..Config::new(1)
    };
    let r = schedcore::bounded::with_timeout(60, move || {
        S::run(&cfg, || {
            let gate = WaitGroup::<S>::new();
            gate.add(1);
            let done = WaitGroup::<S>::new();
            let mut started = 0;
            let mut failure = None;
            for _ in 0..64 {
                let (g, d) = (gate.clone(), done.clone());
                done.add(1);
                match catch_unwind(AssertUnwindSafe(|| {
                    S::go(move || {
                        g.wait();
                        d.done();
                    })
                })) {
                    Ok(()) => started += 1,
                    Err(e) => {
                        done.done();
                        failure = Some(panic_message(&*e));
                        break;
                    }
                }
            }
            // The goroutines wait on the gate, so this parks and wakes main: its M must still
            // be able to schedule after the failed go.
            gate.done();
            done.wait();
            (started, failure)
        })
    });
    limit_address_space(u64::MAX);
    let ((started, failure), _) = r.expect("the run failed after a go at the limit");
    let failure = failure.expect("no go failed: the address-space limit did not bite");
    assert!(
        failure.contains("cannot map a goroutine stack"),
        "unexpected panic: {failure}"
    );
    assert!(started < 64);
}

macro_rules! suites {
    ($($m:ident: $S:ty, $about:literal;)*) => {$(
        #[test]
        fn $m() {
            go_fails_then_the_run_goes_on::<$S>();
        }
    )*};
}

harness::for_each_scheduler!(suites);
