//! What a run reports: timings, named counters that say why a figure moved, and the
//! histogram of stop-the-world pauses.
//!
//! Counters are kept per M or per P ([`Counters`]) and summed when the run ends: a shared atomic
//! on a hot path would distort the very thing it counts.

use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

macro_rules! counters {
    ($($(#[$doc:meta])* $name:ident = $text:literal $(max $max:tt)?,)*) => {
        /// A named event count. Not every generation has every counter.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(usize)]
        pub enum Counter { $($(#[$doc])* $name,)* }

        impl Counter {
            pub const ALL: &'static [Counter] = &[$(Counter::$name,)*];
            pub const COUNT: usize = Counter::ALL.len();

            /// The name used in reports and JSON.
            pub const fn name(self) -> &'static str {
                match self { $(Counter::$name => $text,)* }
            }

            /// Whether the counter is a high-water mark (merged by max) rather than a sum.
            pub const fn is_max(self) -> bool {
                match self { $(Counter::$name => counters!(@max $($max)?),)* }
            }
        }
    };
    (@max) => { false };
    (@max $t:tt) => { true };
}

counters! {
    /// Goroutines created (newproc).
    GoroutinesCreated = "goroutines_created",
    /// Goroutines still alive when main returned (freed without running further).
    GoroutinesLeft = "goroutines_left",
    /// The most goroutines alive at once (main included), as seen when a G is created: every
    /// generation's newproc1 keeps it, where it already holds the scheduler lock.
    GoroutinesPeak = "goroutines_peak" max x,
    /// M's (OS threads) created, sysmon included.
    ThreadsCreated = "threads_created",
    /// Fresh goroutine stacks mapped (a gfree miss).
    StacksMapped = "stacks_mapped",
    /// Calls to gosched.
    Gosched = "gosched",
    /// Goroutines parked.
    Parks = "parks",
    /// entersyscall that took the lock-free path.
    SyscallEnterFast = "syscall_enter_fast",
    /// entersyscall that took the scheduler lock.
    SyscallEnterSlow = "syscall_enter_slow",
    /// exitsyscall that got a CPU (or P) back without the scheduler.
    SyscallExitFast = "syscall_exit_fast",
    /// exitsyscall that had to go through the scheduler.
    SyscallExitSlow = "syscall_exit_slow",
    /// Goroutines handed to a sleeping M through its note (2011's mnextg).
    MnextgHandoffs = "mnextg_handoffs",
    /// M's that went to sleep waiting for work.
    MSleeps = "m_sleeps",
    /// Steal attempts on another P's run queue.
    StealTries = "steal_tries",
    /// Steal attempts that took at least one goroutine.
    StealWins = "steal_wins",
    /// Goroutines taken by steals.
    GoroutinesStolen = "goroutines_stolen",
    /// Times a local run queue doubled (2013's runqgrow).
    Runqgrow = "runqgrow",
    /// The longest local run queue seen.
    RunqMax = "runq_max" max x,
    /// Times a full local ring spilled half to the global queue (2014's runqputslow).
    Runqputslow = "runqputslow",
    /// Goroutines put on the global run queue.
    GlobrunqPut = "globrunq_put",
    /// Goroutines taken from the global run queue.
    GlobrunqGet = "globrunq_get",
    /// Of those, taken by the every-61st-tick fairness check.
    GlobrunqGet61 = "globrunq_get_61",
    /// P's handed off (handoffp).
    Handoffp = "handoffp",
    /// P's retaken from syscalls by sysmon.
    Retakes = "retakes",
    /// Spinning M's woken or started to look for work.
    SpinningWoken = "spinning_woken",
    /// Preemption requests (preemptone).
    PreemptRequests = "preempt_requests",
    /// Preemptions honoured at a preempt point.
    Preemptions = "preemptions",
    /// Goroutines claimed by a scan through the Gscan bit.
    GscanClaims = "gscan_claims",
    /// Running goroutines that scanned their own stack at a preempt point.
    SelfScans = "self_scans",
    /// Collections (gc calls).
    Gcs = "gcs",
    /// Stop-the-world pauses.
    StwPauses = "stw_pauses",
    /// Stack words read by collections.
    StackWordsScanned = "stack_words_scanned",
    /// Of those, words that pointed into a goroutine stack.
    StackPointersFound = "stack_pointers_found",
}

/// One M's or one P's counters. Written by one thread at a time (the owner), read at the end
/// or by a monitor: relaxed loads and stores, no read-modify-write on the hot path.
pub struct Counters {
    slots: [AtomicU64; Counter::COUNT],
}

impl Default for Counters {
    fn default() -> Self {
        Counters::new()
    }
}

impl Counters {
    pub const fn new() -> Counters {
        Counters {
            slots: [const { AtomicU64::new(0) }; Counter::COUNT],
        }
    }

    /// Adds `n`. Only the owner of these counters may call it.
    #[inline(always)]
    pub fn add(&self, c: Counter, n: u64) {
        let s = &self.slots[c as usize];
        s.store(s.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
    }

    #[inline(always)]
    pub fn inc(&self, c: Counter) {
        self.add(c, 1);
    }

    /// Raises a high-water mark. Only the owner may call it.
    #[inline(always)]
    pub fn max(&self, c: Counter, v: u64) {
        let s = &self.slots[c as usize];
        if v > s.load(Ordering::Relaxed) {
            s.store(v, Ordering::Relaxed);
        }
    }

    pub fn get(&self, c: Counter) -> u64 {
        self.slots[c as usize].load(Ordering::Relaxed)
    }
}

/// Counters merged from many M's and P's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    values: BTreeMap<Counter, u64>,
}

impl Totals {
    /// Folds in one owner's counters, restricted to those the generation reports.
    pub fn merge(&mut self, c: &Counters, reported: &[Counter]) {
        for &k in reported {
            self.merge_one(k, c.get(k));
        }
    }

    pub fn merge_one(&mut self, k: Counter, v: u64) {
        let e = self.values.entry(k).or_insert(0);
        *e = if k.is_max() { (*e).max(v) } else { *e + v };
    }

    pub fn get(&self, k: Counter) -> u64 {
        self.values.get(&k).copied().unwrap_or(0)
    }
}

/// The result of one run of a runtime.
#[derive(Clone, Debug)]
pub struct Report {
    /// The scheduler's lab name.
    pub sched: &'static str,
    /// GOMAXPROCS at the start.
    pub procs: usize,
    /// The runtime lock every lock of the run was (`Config::lock`, or the era's).
    pub lock: crate::lock::LockKind,
    /// From the start of the main goroutine to its return.
    pub elapsed: Duration,
    /// Every counter the generation keeps, by name.
    pub counters: BTreeMap<&'static str, u64>,
    /// Stop-the-world pauses, stop to start, in nanoseconds.
    pub stw_pause_ns: Histogram<u64>,
    /// The execution trace, when `Config::trace` asked for one.
    pub trace: Option<crate::trace::Trace>,
    /// The process's resident set at boot and at its peak during the run (process-wide, see
    /// [`crate::memory`]); `None` where /proc cannot be read.
    pub memory: Option<crate::memory::Memory>,
}

impl Report {
    pub fn new(
        sched: &'static str,
        procs: usize,
        lock: crate::lock::LockKind,
        elapsed: Duration,
        totals: &Totals,
        pauses: Histogram<u64>,
    ) -> Report {
        let counters = totals.values.iter().map(|(k, v)| (k.name(), *v)).collect();
        Report {
            sched,
            procs,
            lock,
            elapsed,
            counters,
            stw_pause_ns: pauses,
            trace: None,
            memory: None,
        }
    }

    /// The most goroutines alive at once ([`Counter::GoroutinesPeak`]).
    pub fn peak_goroutines(&self) -> u64 {
        self.counter(Counter::GoroutinesPeak)
    }

    /// The resident set the run added at its peak, per goroutine alive at the peak, in bytes.
    pub fn rss_per_goroutine(&self) -> Option<f64> {
        self.memory?.per_goroutine(self.peak_goroutines())
    }

    /// A counter by its enum, 0 when the generation does not keep it.
    pub fn counter(&self, c: Counter) -> u64 {
        self.counters.get(c.name()).copied().unwrap_or(0)
    }
}

/// A histogram for pauses and latencies in nanoseconds: 1 ns to 100 s, 3 significant digits.
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 100_000_000_000, 3).expect("valid histogram bounds")
}
