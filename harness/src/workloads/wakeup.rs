//! Port of Go's benchmarkWakeupParallel (BenchmarkWakeupParallelSpinning and
//! BenchmarkWakeupParallelSyscall): two goroutines take turns as sender and receiver; the
//! receiver spins (or sleeps in a syscall) for `delay` and then blocks on the channel, the
//! sender for `delay + 5 us` and then sends, so the receiver is usually parked when the value
//! comes and the op measures a wake-up across procs. Go skips it at GOMAXPROCS 1; it runs
//! here at every procs (meaningful from 2). The timed round sends `bool`s as Go's does; the
//! send-to-receive time of each hop goes into the `wakeup` histogram from a second, untimed
//! round of the same protocol.

use super::{Stamp, B};
use hdrhistogram::Histogram;
use schedcore::{Chan, Scheduler};
use std::time::{Duration, Instant};

/// Go's wakeDelay: the sender's head start for the receiver to block.
pub const WAKE_DELAY: Duration = Duration::from_micros(5);

/// Spins for `d`, through preempt points (Go's loop calls time.Now, a function with a
/// prologue).
#[inline(always)]
fn spin<S: Scheduler>(d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end {
        S::preempt_point();
    }
}

/// Sleeps for `d` in a syscall (Go's nanosleep). A zero delay still makes a syscall that
/// returns at once (sched_yield), as Go's nanosleep(0) does.
#[inline(always)]
fn sleep<S: Scheduler>(d: Duration) {
    S::entersyscall();
    if d.is_zero() {
        std::thread::yield_now();
    } else {
        std::thread::sleep(d);
    }
    S::exitsyscall();
}

/// Ops of the untimed round that samples the wake-up latency (fewer when N is).
pub const LATENCY_OPS: u64 = 200;

fn wakeup_parallel<S: Scheduler>(b: &mut B, delay: Duration, wait: fn(Duration)) {
    alternate::<S, bool>(b.n, delay, wait);
    b.stop_timer();
    for h in alternate::<S, Instant>(b.n.min(LATENCY_OPS), delay, wait)
        .into_iter()
        .flatten()
    {
        b.record("wakeup", &h);
    }
}

/// `n` ops of the protocol with hops carrying `T` (the timed round: `bool`, as Go's channels;
/// the latency round: `Instant`); the histograms of both goroutines, if `T` records.
#[inline(always)]
fn alternate<S: Scheduler, T: Stamp>(
    n: u64,
    delay: Duration,
    wait: fn(Duration),
) -> [Option<Box<Histogram<u64>>>; 2] {
    let ch1 = Chan::<T, S>::new(0);
    let ch2 = Chan::<T, S>::new(0);
    let done = Chan::<Option<Box<Histogram<u64>>>, S>::new(2);
    {
        let (ch1, ch2, done) = (ch1.clone(), ch2.clone(), done.clone());
        S::go(move || {
            let mut lat = T::histogram();
            for _ in 0..n {
                // sender
                wait(delay + WAKE_DELAY);
                ch1.send(T::now());
                // receiver
                wait(delay);
                ch2.recv().expect("never closed").record(&mut lat);
            }
            done.send(lat);
        });
    }
    {
        let done = done.clone();
        S::go(move || {
            let mut lat = T::histogram();
            for _ in 0..n {
                // receiver
                wait(delay);
                ch1.recv().expect("never closed").record(&mut lat);
                // sender
                wait(delay + WAKE_DELAY);
                ch2.send(T::now());
            }
            done.send(lat);
        });
    }
    [
        done.recv().expect("never closed"),
        done.recv().expect("never closed"),
    ]
}

macro_rules! sweep {
    ($($spinning:ident, $syscall:ident, $us:literal;)*) => {$(
        #[doc = concat!("BenchmarkWakeupParallelSpinning with a delay of ", $us, " us.")]
        pub fn $spinning<S: Scheduler>(b: &mut B) {
            wakeup_parallel::<S>(b, Duration::from_micros($us), spin::<S>);
        }
        #[doc = concat!("BenchmarkWakeupParallelSyscall with a delay of ", $us, " us.")]
        pub fn $syscall<S: Scheduler>(b: &mut B) {
            wakeup_parallel::<S>(b, Duration::from_micros($us), sleep::<S>);
        }
    )*};
}

// Go sweeps 0, 1, 2, 5, 10, 20, 50 and 100 us; three points keep the lab's run short.
sweep! {
    spinning_0us, syscall_0us, 0;
    spinning_5us, syscall_5us, 5;
    spinning_50us, syscall_50us, 50;
}
