//! Runs at the process's limits, in a test binary of its own (the limits are the process's,
//! so the schedulers take turns under one lock):
//!
//! - a `go` that finds no address space (RLIMIT_AS lowered with util-linux's `prlimit`, so
//!   that 1 GiB stacks run out after a few) ends the run with `RunError::Exhausted`, not a
//!   panic; newproc1 undid what it held (the G, and in 2014 `m.locks`), so a goroutine that
//!   catches the unwind carries on and the runtime still tears down cleanly;
//! - the fallback guard (mprotect, two kernel mappings a stack, forced with
//!   `Config::stack_guard`) stops before `vm.max_map_count` with the error naming the limit,
//!   the count reached and the sysctl, and the process keeps working;
//! - the resident set per live goroutine at 10^5 alive: at least a page (the stack page a
//!   parked goroutine touched), far below a whole stack (stacks are committed lazily).

use schedcore::stack::{max_map_count, page_size, Exhausted, Limit, MAP_RESERVE};
use schedcore::{Chan, Config, RunError, Scheduler, StackGuard, WaitGroup};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::Command;
use std::sync::Mutex;

/// One scheduler at a time: the limits are the process's.
static TURN: Mutex<()> = Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

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

fn go_fails_at_the_address_space_limit<S: Scheduler>() {
    let _turn = turn();
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
                    Err(_) => {
                        done.done();
                        break;
                    }
                }
            }
            // The goroutines wait on the gate, so this parks main; its M must still be able
            // to schedule after the failed go (until the run's end stops it).
            gate.done();
            done.wait();
            started
        })
    });
    limit_address_space(u64::MAX);
    match r {
        Err(RunError::Exhausted(Exhausted {
            limit: Limit::AddressSpace { bytes, error },
            stacks,
        })) => {
            assert!(
                bytes > schedcore::scheduler::MAX_STACK_SIZE,
                "{bytes} bytes"
            );
            assert!((1..64).contains(&stacks), "{stacks} stacks");
            assert!(error.contains("Cannot allocate memory"), "{error}");
        }
        other => panic!(
            "{}: expected the address-space error, got {:?}",
            S::NAME,
            other.map(|(n, _)| n)
        ),
    }
}

/// Goroutines that block until the run ends, spawned until `go` fails.
fn spawn_until_it_fails<S: Scheduler>() {
    let block = Chan::<(), S>::new(0);
    loop {
        let b = block.clone();
        S::go(move || {
            b.recv();
        });
    }
}

fn mprotect_guards_stop_before_the_map_limit<S: Scheduler>() {
    let _turn = turn();
    let max = max_map_count();
    assert!(
        max <= 262_144,
        "vm.max_map_count is {max}: reaching it at two mappings a stack would take {} goroutines; this test expects a limit near Linux's default (65530)",
        max / 2
    );
    let cfg = Config {
        stack_guard: StackGuard::Mprotect,
        stack_size: schedcore::scheduler::MIN_STACK_SIZE,
        ..Config::new(2)
    };
    let r = schedcore::bounded::with_timeout(120, move || S::run(&cfg, spawn_until_it_fails::<S>));
    let e = match r {
        Err(RunError::Exhausted(e)) => e,
        other => panic!(
            "{}: expected the map-count error, got {:?}",
            S::NAME,
            other.map(|_| ())
        ),
    };
    let Limit::MapCount {
        max_map_count: seen,
        mappings,
    } = e.limit
    else {
        panic!("{}: expected the map-count error, got {e}", S::NAME);
    };
    assert_eq!(seen, max);
    // Stopped near the limit, with the reserve left to the rest of the process: two mappings a
    // stack account for nearly all of them.
    assert!(
        mappings + MAP_RESERVE + 2 >= max && mappings < max,
        "{mappings} of {max}"
    );
    assert!(
        2 * e.stacks + 4 * MAP_RESERVE >= max,
        "only {} stacks before the limit",
        e.stacks
    );
    let msg = RunError::Exhausted(e.clone()).to_string();
    for word in [
        "vm.max_map_count",
        &max.to_string(),
        &e.stacks.to_string(),
        "mprotect",
    ] {
        assert!(msg.contains(word), "{msg:?} does not say {word:?}");
    }
    // The stacks are gone with the runtime, and the process goes on.
    assert_eq!(S::run(&Config::new(2), || 7).unwrap().0, 7);
}

/// The resident set per live goroutine at 10^5 goroutines parked at once, as goroutines-alive
/// reports it.
fn rss_per_live_goroutine<S: Scheduler>() {
    let _turn = turn();
    const N: usize = 100_000;
    let (_, rep) = schedcore::bounded::with_timeout(120, || {
        S::run(&Config::new(1), || {
            harness::workloads::alive::alive::<S>(N as u64, N as u64)
        })
    })
    .unwrap();
    let per = rep.rss_per_goroutine().expect("memory in the Report");
    let page = page_size() as f64;
    // A parked goroutine has touched the top page of its stack; four would mean more of the
    // stack was committed than any goroutine here used.
    assert!(
        (page..4.0 * page).contains(&per),
        "{}: {per} bytes a goroutine",
        S::NAME
    );
    assert!(
        rep.peak_goroutines() > N as u64,
        "{}",
        rep.peak_goroutines()
    );
}

macro_rules! suites {
    ($($m:ident: $S:ty, $about:literal;)*) => {$(
        mod $m {
            #[test]
            fn go_fails_at_the_address_space_limit() {
                super::go_fails_at_the_address_space_limit::<$S>();
            }
            #[test]
            fn mprotect_guards_stop_before_the_map_limit() {
                super::mprotect_guards_stop_before_the_map_limit::<$S>();
            }
            #[test]
            fn rss_per_live_goroutine() {
                super::rss_per_live_goroutine::<$S>();
            }
        }
    )*};
}

harness::for_each_scheduler!(suites);
