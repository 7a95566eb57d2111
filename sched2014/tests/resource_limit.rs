//! A `go` that fails at the resource limit (tracker issue 9): when newproc1 cannot map a stack,
//! the goroutine that called `go` panics, and newproc1 must have undone what it held (the G,
//! and in 2014 `m.locks`), so that a goroutine that catches the panic carries on and its M
//! keeps scheduling. In a test binary of its own: it lowers the whole process's address-space
//! limit (RLIMIT_AS, with util-linux's `prlimit`) so that 1 GiB stacks run out after a few.

use sched2014::Sched2014;
use schedcore::exit::panic_message;
use schedcore::{Config, Scheduler, WaitGroup};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::Command;

/// The process's virtual size, from /proc/self/status.
fn vmsize() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmSize:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Sets this process's soft RLIMIT_AS; false if it could not.
fn limit_address_space(bytes: u64) -> bool {
    Command::new("prlimit")
        .arg(format!("--pid={}", std::process::id()))
        .arg(format!("--as={bytes}:"))
        .status()
        .is_ok_and(|s| s.success())
}

fn go_fails_then_the_run_goes_on<S: Scheduler>() {
    let Some(vm) = vmsize() else {
        eprintln!("skipped: no /proc/self/status");
        return;
    };
    // Room for a few 1 GiB stacks, and plenty for everything else.
    if !limit_address_space(vm + (4 << 30)) {
        eprintln!("skipped: prlimit could not lower RLIMIT_AS");
        return;
    }
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
    let ((started, failure), _) = r.expect("the run failed after a go at the limit");
    let failure = failure.expect("no go failed: the address-space limit did not bite");
    assert!(
        failure.contains("cannot map a goroutine stack"),
        "unexpected panic: {failure}"
    );
    assert!(started < 64);
}

#[test]
fn go_at_the_address_space_limit() {
    go_fails_then_the_run_goes_on::<Sched2014>();
}
