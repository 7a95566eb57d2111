//! A goroutine stack that overflows faults on its own guard page and never writes into the
//! stack below it, with either guard (madvise and mprotect). In a child process of this test
//! binary: the child fills the top of the lower stack with a pattern, overflows the upper one,
//! and its SIGSEGV handler checks where the fault was and that the pattern is whole, then exits
//! with a code that says so.

use corosensei::stack::Stack;
use schedcore::stack::{guard_install_works, page_size, StackArena, StackGuard};
use schedcore::{Config, GoContext, Switch};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

const CHILD: &str = "SCHEDCORE_GUARD_CHILD";
/// The child's exit codes.
const OK: i32 = 42;
const FAULT_ELSEWHERE: i32 = 43;
const NEIGHBOUR_WRITTEN: i32 = 44;
const RETURNED: i32 = 45;

/// Bytes of the lower stack's top filled with the pattern.
const WATCHED: usize = 4096;

static GUARD_LO: AtomicUsize = AtomicUsize::new(0);
static WATCH_LO: AtomicUsize = AtomicUsize::new(0);

fn pattern(i: usize) -> u8 {
    (i * 7 + 3) as u8
}

extern "C" fn on_segv(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers; the watched bytes lie
    // in a mapped stack the handler only reads.
    unsafe {
        let addr = (*info).si_addr() as usize;
        let lo = GUARD_LO.load(Ordering::Relaxed);
        if addr < lo || addr >= lo + page_size() {
            libc::_exit(FAULT_ELSEWHERE);
        }
        let watch = WATCH_LO.load(Ordering::Relaxed) as *const u8;
        for i in 0..WATCHED {
            if *watch.add(i) != pattern(i) {
                libc::_exit(NEIGHBOUR_WRITTEN);
            }
        }
        libc::_exit(OK);
    }
}

/// Recurses with a kilobyte frame until the stack runs out.
#[inline(never)]
fn deeper(n: u64) -> u64 {
    let mut frame = [0u8; 1024];
    frame[(n % 1024) as usize] = n as u8;
    let frame = std::hint::black_box(frame);
    if std::hint::black_box(n) == u64::MAX {
        return 0;
    }
    deeper(n + 1) + frame[0] as u64
}

fn child(guard: StackGuard) -> ! {
    let cfg = Config {
        stack_guard: guard,
        ..Config::default()
    };
    let arena = StackArena::new(&cfg).unwrap();
    assert_eq!(arena.guard(), guard);
    let lower = arena.alloc().unwrap();
    let ctx: Box<GoContext<()>> = Box::default();
    // SAFETY: `ctx` is boxed and outlives the coroutine; the arena outlives both.
    unsafe {
        ctx.start(&arena, || {
            deeper(0);
        })
        .unwrap();
    }
    let (lo, _) = ctx.bounds();
    // The upper stack sits right above the lower one, its guard page in between.
    assert_eq!(lo, lower.base().get(), "stacks are not adjacent");
    let watch = lower.base().get() - WATCHED;
    for i in 0..WATCHED {
        // SAFETY: the top of the lower stack, mapped and writable, used by nothing else.
        unsafe { *(watch as *mut u8).add(i) = pattern(i) };
    }
    GUARD_LO.store(lo, Ordering::Relaxed);
    WATCH_LO.store(watch, Ordering::Relaxed);
    // SAFETY: an alternate stack for the handler (the faulting stack has no room left) and the
    // handler itself, installed before the overflow; both live until the process exits.
    unsafe {
        let alt = Box::leak(vec![0u8; 256 * 1024].into_boxed_slice());
        let ss = libc::stack_t {
            ss_sp: alt.as_mut_ptr().cast(),
            ss_flags: 0,
            ss_size: alt.len(),
        };
        assert_eq!(libc::sigaltstack(&ss, std::ptr::null_mut()), 0);
        let mut sa: libc::sigaction = std::mem::zeroed();
        let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) = on_segv;
        sa.sa_sigaction = handler as usize;
        sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        assert_eq!(libc::sigaction(libc::SIGSEGV, &sa, std::ptr::null_mut()), 0);
        assert_eq!(libc::sigaction(libc::SIGBUS, &sa, std::ptr::null_mut()), 0);
        let _ = ctx.resume();
    }
    std::process::exit(RETURNED)
}

/// Runs the child for `guard` (this very test, under the environment variable) and checks
/// its exit code; in the child, overflows.
fn overflow_faults_on_the_guard(guard: StackGuard) {
    if std::env::var_os(CHILD).is_some() {
        child(guard);
    }
    let test = std::thread::current()
        .name()
        .expect("cargo's harness names the test thread")
        .to_string();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let what = match out.status.code() {
        Some(OK) => return,
        Some(FAULT_ELSEWHERE) => "faulted outside the guard page",
        Some(NEIGHBOUR_WRITTEN) => "wrote into the stack below",
        Some(RETURNED) => "returned without faulting",
        _ => "failed",
    };
    panic!(
        "{guard}: the overflowing coroutine {what} ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn overflow_faults_on_an_mprotect_guard() {
    overflow_faults_on_the_guard(StackGuard::Mprotect);
}

/// On a kernel without MADV_GUARD_INSTALL, the madvise guard is refused instead.
#[test]
fn overflow_faults_on_a_madvise_guard() {
    if guard_install_works() {
        overflow_faults_on_the_guard(StackGuard::Madvise);
    } else {
        let cfg = Config {
            stack_guard: StackGuard::Madvise,
            ..Config::default()
        };
        assert!(StackArena::new(&cfg).is_err());
    }
}

/// A coroutine that does not overflow runs to its end on an arena stack.
#[test]
fn a_shallow_coroutine_returns() {
    let arena = StackArena::new(&Config::default()).unwrap();
    let ctx: Box<GoContext<()>> = Box::default();
    // SAFETY: as in the child.
    unsafe {
        ctx.start(&arena, || {
            std::hint::black_box(deeper as fn(u64) -> u64);
        })
        .unwrap();
        assert!(matches!(ctx.resume(), Switch::Exited));
    }
}
