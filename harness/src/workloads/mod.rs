//! The workloads, written once and generic over `S: Scheduler`: each is a function of N that
//! runs inside a main goroutine and does N operations (Go's `b.N`). Only its body is timed.

// `foo` is BenchmarkSyscallWork's own name for its variable; kept so the port reads alike.
#![allow(clippy::disallowed_names)]

pub mod create;
pub mod syscall;

/// The "syscall" of `syscall-work`: BenchmarkSyscallWork's 100 iterations of
/// `foo *= 2; foo /= 2`. `black_box` keeps the compiler from folding the loop away; `foo`
/// comes back unchanged (42 in, 42 out), which the workload checks.
#[inline(always)]
pub fn local_work(foo: &mut i64) {
    /// BenchmarkSyscallWork's LocalWork.
    const LOCAL_WORK: usize = 100;
    let mut f = *foo;
    for _ in 0..LOCAL_WORK {
        f = std::hint::black_box(f * 2);
        f /= 2;
    }
    *foo = f;
}

/// The "syscall" of `syscall-block`: a real blocking call. A 20 us sleep asks the kernel for a
/// timer; with Linux's default 50 us timer slack it returns after about 60-80 us.
#[inline(always)]
pub fn blocking_call(_: &mut i64) {
    std::thread::sleep(BLOCK_FOR);
}

/// How long `syscall-block` asks to sleep in each call.
pub const BLOCK_FOR: std::time::Duration = std::time::Duration::from_micros(20);

/// The "syscall" of `syscall`: nothing at all.
#[inline(always)]
pub fn no_work(_: &mut i64) {}
