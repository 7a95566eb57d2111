//! The workloads, written once and generic over `S: Scheduler`: each is a function of a [`B`]
//! (Go's `*testing.B`) that runs inside a main goroutine and does `b.n` operations. Only the
//! time between the timer's start and stop is counted (by default, the whole body).
//! [`WorkloadInfo`] is what the registry says of one: its names, batch and largest N.

// `foo` is BenchmarkSyscallWork's own name for its variable; kept so the port reads alike.
#![allow(clippy::disallowed_names)]

pub mod alive;
pub mod chan;
pub mod create;
pub mod gc;
pub mod matmult;
pub mod syscall;
pub mod tokio;
pub mod wakeup;

use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The most goroutines a workload keeps alive at once, Go's scale: a million.
/// `create-goroutines-single` keeps all N alive at procs 1, so its ramp stops at this N (Go's
/// testing.B goes on toward 1e9: at benchtime 1s Go 1.19 reaches a few million goroutines
/// alive, a few GiB); the `goroutines-alive` workloads keep up to this many alive in each of
/// their groups.
pub const MAX_ALIVE: u64 = alive::ALIVE_1M;

/// How long a CPU hog goes on while the goroutines it competes with make no progress, before it
/// gives up and marks the round starved, when nothing else is said (`lab --starve-after`).
pub const DEFAULT_STARVE_AFTER: Duration = Duration::from_secs(1);

/// What the registry says of a workload (its entry in `for_each_workload!`): what every
/// subject is asked to run, by name, and how its ramp goes.
#[derive(Debug)]
pub struct WorkloadInfo {
    pub name: &'static str,
    /// The Go benchmark's name, used for table rows and bench.txt.
    pub go_name: &'static str,
    /// In the default set of `lab compare`.
    pub core: bool,
    /// The smallest N that does any work: the ramp goes on until N reaches it.
    pub batch: u64,
    /// Holds a CPU hog that only preemption interrupts: starved on generations without it.
    pub hog: bool,
    pub about: &'static str,
    /// The largest N the ramp may reach ([`crate::measure::ramp::MAX_N`] unless the workload
    /// says).
    pub max_n: u64,
    /// Many goroutines alive at once in the timed round, so many fresh stacks, each with its
    /// guard-page system call, which Go 1.0-1.4 did not make (the table marks the rows).
    pub fresh_stacks: bool,
}

/// One round of a workload, as Go's `*testing.B` is: N, the timer, and what the round
/// recorded besides its time (latency histograms, whether a hog starved the others).
pub struct B {
    /// The number of operations to do (Go's `b.N`).
    pub n: u64,
    /// Steps of local work in each syscall of the `*-work` workloads ([`LOCAL_WORK`] by
    /// default): one Go 1.0 step cost about four times a Rust one on this machine kind, so a
    /// reader can raise it to weigh the schedlock as the seed's machine did.
    pub work: u64,
    /// A CPU hog gives up once the goroutines it competes with have made no progress for this
    /// long; the round is then starved (see [`Stall`]).
    pub starve_after: Duration,
    started: Option<Instant>,
    elapsed: Duration,
    starved: bool,
    latencies: BTreeMap<&'static str, Histogram<u64>>,
}

impl B {
    /// A round of `n` operations, its timer stopped.
    pub fn new(n: u64, starve_after: Duration) -> B {
        B {
            n,
            work: LOCAL_WORK,
            starve_after,
            started: None,
            elapsed: Duration::ZERO,
            starved: false,
            latencies: BTreeMap::new(),
        }
    }

    /// Go's `b.StartTimer`.
    pub fn start_timer(&mut self) {
        if self.started.is_none() {
            self.started = Some(Instant::now());
        }
    }

    /// Go's `b.StopTimer`: the time since the last start counts, what follows does not.
    pub fn stop_timer(&mut self) {
        if let Some(t) = self.started.take() {
            self.elapsed += t.elapsed();
        }
    }

    /// Go's `b.ResetTimer`: forgets the time so far (and restarts it if it runs).
    pub fn reset_timer(&mut self) {
        self.elapsed = Duration::ZERO;
        if self.started.is_some() {
            self.started = Some(Instant::now());
        }
    }

    /// The time counted so far.
    pub fn elapsed(&self) -> Duration {
        self.elapsed + self.started.map_or(Duration::ZERO, |t| t.elapsed())
    }

    /// Marks the round starved: a hog had to give up for the others to finish, so its time
    /// says nothing about the scheduler but that it cannot preempt.
    pub fn set_starved(&mut self) {
        self.starved = true;
    }

    pub fn starved(&self) -> bool {
        self.starved
    }

    /// Adds `h` to the latency histogram named `name` (in nanoseconds).
    pub fn record(&mut self, name: &'static str, h: &Histogram<u64>) {
        self.latencies
            .entry(name)
            .or_insert_with(schedcore::report::latency_histogram)
            .add(h)
            .expect("latency histograms share their bounds");
    }

    /// The latency histograms recorded in this round.
    pub fn latencies(&self) -> &BTreeMap<&'static str, Histogram<u64>> {
        &self.latencies
    }

    /// Takes the histograms out.
    pub fn take_latencies(&mut self) -> BTreeMap<&'static str, Histogram<u64>> {
        std::mem::take(&mut self.latencies)
    }
}

/// What a hop of a channel workload carries: `bool` in the timed round (Go's `chan bool`,
/// nothing recorded), `Instant` in the untimed latency round (the send instant, whose age the
/// receiver records). Both rounds are the same code, monomorphized for each.
pub trait Stamp: Copy + Send + 'static {
    /// The value a sender sends.
    fn now() -> Self;
    /// A latency histogram for a receiver, if this kind of hop records one.
    fn histogram() -> Option<Box<Histogram<u64>>>;
    /// At the receiver: record the hop's latency into `h`.
    fn record(self, h: &mut Option<Box<Histogram<u64>>>);
}

impl Stamp for bool {
    #[inline(always)]
    fn now() -> bool {
        true
    }
    #[inline(always)]
    fn histogram() -> Option<Box<Histogram<u64>>> {
        None
    }
    #[inline(always)]
    fn record(self, _: &mut Option<Box<Histogram<u64>>>) {}
}

impl Stamp for Instant {
    #[inline(always)]
    fn now() -> Instant {
        Instant::now()
    }
    fn histogram() -> Option<Box<Histogram<u64>>> {
        Some(Box::new(schedcore::report::latency_histogram()))
    }
    #[inline(always)]
    fn record(self, h: &mut Option<Box<Histogram<u64>>>) {
        if let Some(h) = h {
            h.saturating_record(self.elapsed().as_nanos() as u64);
        }
    }
}

/// How a CPU hog knows it is starving the others: they bump `progress` as they go, and the hog
/// checks in its own loop whether it moved within `starve_after`; if not, it gives up and
/// says so. A deadline that slides with progress never cuts a slow but progressing round
/// short (a preemptive generation lets the others run every 10 ms), and always ends a round
/// on a generation where the hog keeps its CPU.
pub struct Stall {
    progress: AtomicU64,
    starved: std::sync::atomic::AtomicBool,
    starve_after: Duration,
}

impl Stall {
    pub fn new(starve_after: Duration) -> Stall {
        Stall {
            progress: AtomicU64::new(0),
            starved: std::sync::atomic::AtomicBool::new(false),
            starve_after,
        }
    }

    /// The others made progress. Cheap: one relaxed add on a word the hog only reads.
    #[inline(always)]
    pub fn progress(&self) {
        self.progress.fetch_add(1, Ordering::Relaxed);
    }

    /// A watch for the hog's loop.
    pub fn watch(&self) -> StallWatch<'_> {
        StallWatch {
            stall: self,
            seen: self.progress.load(Ordering::Relaxed),
            since: Instant::now(),
            tick: 0,
        }
    }

    /// Whether some hog gave up.
    pub fn starved(&self) -> bool {
        self.starved.load(Ordering::Relaxed)
    }
}

/// A hog's view of a [`Stall`].
pub struct StallWatch<'a> {
    stall: &'a Stall,
    seen: u64,
    since: Instant,
    tick: u32,
}

impl StallWatch<'_> {
    /// True once the others have made no progress for `starve_after` (and then marks the
    /// stall starved). Reads the clock only every 64th call.
    #[inline]
    pub fn starving(&mut self) -> bool {
        self.tick = self.tick.wrapping_add(1);
        if self.tick % 64 != 0 {
            return false;
        }
        let p = self.stall.progress.load(Ordering::Relaxed);
        if p != self.seen {
            self.seen = p;
            self.since = Instant::now();
            return false;
        }
        if self.since.elapsed() >= self.stall.starve_after {
            self.stall.starved.store(true, Ordering::Relaxed);
            return true;
        }
        false
    }
}

/// BenchmarkSyscallWork's LocalWork: steps of `foo *= 2; foo /= 2` in each syscall, unless
/// `lab --work` says otherwise.
pub const LOCAL_WORK: u64 = 100;

/// The "syscall" of `syscall-work`: `steps` iterations of BenchmarkSyscallWork's
/// `foo *= 2; foo /= 2`. `black_box` keeps the compiler from folding the loop away; `foo`
/// comes back unchanged (42 in, 42 out), which the workload checks.
#[inline(always)]
pub fn local_work(foo: &mut i64, steps: u64) {
    let mut f = *foo;
    for _ in 0..steps {
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
