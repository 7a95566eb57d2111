//! A goroutine stack that overflows faults on its own guard page and never writes into the
//! stack below it, with either guard (madvise, one a stack or a run of slots at a time, and
//! mprotect). In a child process of this test binary: the child fills the top of the lower
//! stack with a pattern, overflows the upper one, and its SIGSEGV handler checks where the
//! fault was and that the pattern is whole, then exits with a code that says so. And every
//! stack of an arena has its guard page, as the kernel's page tables (madvise) or mappings
//! (mprotect) show.

use corosensei::stack::Stack;
use schedcore::stack::{
    guard_batch_works, guard_install_works, page_size, ArenaStack, StackArena, StackGuard,
};
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

/// Overflows a stack carved after `skip` others and the one right below it.
fn child(guard: StackGuard, skip: usize) -> ! {
    let cfg = Config {
        stack_guard: guard,
        ..Config::default()
    };
    let arena = StackArena::new(&cfg).unwrap();
    assert_eq!(arena.guard(), guard);
    let skipped: Vec<ArenaStack> = (0..skip).map(|_| arena.alloc().unwrap()).collect();
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
    drop(skipped);
    std::process::exit(RETURNED)
}

/// Runs the child for `guard` (this very test, under the environment variable) and checks
/// its exit code; in the child, overflows the stack carved after `skip` others.
fn overflow_faults_on_the_guard(guard: StackGuard, skip: usize) {
    if std::env::var_os(CHILD).is_some() {
        child(guard, skip);
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
    overflow_faults_on_the_guard(StackGuard::Mprotect, 0);
}

/// On a kernel without MADV_GUARD_INSTALL, the madvise guard is refused instead.
#[test]
fn overflow_faults_on_a_madvise_guard() {
    if guard_install_works() {
        overflow_faults_on_the_guard(StackGuard::Madvise, 0);
    } else {
        let cfg = Config {
            stack_guard: StackGuard::Madvise,
            ..Config::default()
        };
        assert!(StackArena::new(&cfg).is_err());
    }
}

/// The 72nd stack, in the middle of the run of slots that the 65th (the first of the second
/// chunk) guarded with one process_madvise, faults on its guard like the first. (Where the
/// kernel refuses process_madvise, each of them was guarded on its own, and it faults too.)
#[test]
fn overflow_faults_on_a_batch_guarded_slot() {
    if guard_install_works() {
        let arena = StackArena::new(&Config::default()).unwrap();
        assert_eq!(arena.guard_batched(), guard_batch_works());
        overflow_faults_on_the_guard(StackGuard::Madvise, 70);
    }
}

/// The kernel's page-table flags of the page at `addr` (its /proc/self/pagemap entry).
fn pagemap(addr: usize) -> u64 {
    use std::os::unix::fs::FileExt;
    let f = std::fs::File::open("/proc/self/pagemap").unwrap();
    let mut e = [0u8; 8];
    f.read_exact_at(&mut e, (addr / page_size() * 8) as u64)
        .unwrap();
    u64::from_ne_bytes(e)
}

/// pagemap's PM_GUARD_REGION bit (Linux 6.14 on): the page is a MADV_GUARD_INSTALL guard.
const PM_GUARD_REGION: u64 = 1 << 58;

/// Whether this kernel's pagemap shows madvise guard pages (tried on a page of its own).
fn pagemap_shows_guards() -> bool {
    let page = page_size();
    // SAFETY: a fresh private mapping of the test's own, advised and read, then unmapped.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            page,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        assert_ne!(p, libc::MAP_FAILED);
        let shown = libc::madvise(p, page, 102) == 0 && pagemap(p as usize) & PM_GUARD_REGION != 0;
        libc::munmap(p, page);
        shown
    }
}

/// The mappings of the process with no access at all (mprotect'd guard pages among them).
fn inaccessible_mappings() -> Vec<(usize, usize)> {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    maps.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (range, perms) = (f.next()?, f.next()?);
            let (lo, hi) = range.split_once('-')?;
            perms.starts_with("---").then(|| {
                (
                    usize::from_str_radix(lo, 16).unwrap(),
                    usize::from_str_radix(hi, 16).unwrap(),
                )
            })
        })
        .collect()
}

/// Every one of 500 stacks (across four chunks, and with batched guards across many runs of
/// slots and their ends) has its guard page right below it, and its own lowest page is not
/// one: in the page tables for madvise guards (where pagemap shows them), in the mappings for
/// mprotect ones.
#[test]
fn every_stack_has_its_guard_page() {
    let page = page_size();
    let mut guards = vec![StackGuard::Mprotect];
    if guard_install_works() && pagemap_shows_guards() {
        guards.push(StackGuard::Madvise);
    }
    for guard in guards {
        let cfg = Config {
            stack_guard: guard,
            ..Config::default()
        };
        let arena = StackArena::new(&cfg).unwrap();
        let stacks: Vec<ArenaStack> = (0..500).map(|_| arena.alloc().unwrap()).collect();
        let none = inaccessible_mappings();
        let is_guard = |addr: usize| match guard {
            StackGuard::Mprotect => none.iter().any(|&(lo, hi)| lo <= addr && addr < hi),
            _ => pagemap(addr) & PM_GUARD_REGION != 0,
        };
        for (i, s) in stacks.iter().enumerate() {
            let lo = s.limit().get();
            assert!(
                is_guard(lo),
                "{guard}: stack {i} has no guard page at {lo:#x}"
            );
            assert!(
                !is_guard(lo + page),
                "{guard}: stack {i}'s lowest page is a guard page"
            );
        }
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
