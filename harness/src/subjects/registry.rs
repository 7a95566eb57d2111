//! The one list of schedulers, workloads and peers that `lab list`, `lab compare`, the benches
//! and the conformance tests all read, and the [`Subject`], one of its schedulers or peers.
//! Adding a scheduler, a workload or a peer is one entry.
//!
//! The schedulers are listed through `schedcore::Scheduler`, the peers through their [`Peer`]
//! implementations ([`PeerInfo::of`]); the peers never name this file.
//!
//! Schedulers and workloads are types and generic functions, so the lists are macros that hand
//! their entries to a callback macro ([`for_each_scheduler!`](crate::for_each_scheduler),
//! [`for_each_workload!`](crate::for_each_workload)); the tables and the dispatch below are
//! generated from them, and a test or bench file can generate its own code from the same
//! entries. Dispatch by name ends in a function monomorphized for one scheduler and one
//! workload: no `dyn` inside a timed loop.

use super::peers::release::ReleasePeer;
use super::peers::{floor::Floor, go::Go, may::May, rayon::Rayon, tokio::Tokio};
use super::{Failure, Peer};
use crate::measure::runner::{self, Measurement, Settings};
use crate::workloads::{WorkloadInfo, B};
use schedcore::{LockKind, Scheduler};

/// Calls `$callback! { $(ident: Type, "about";)* }` with every scheduler of the lab, oldest
/// first (the first is the baseline of the deltas). The ident names the scheduler in generated
/// code (test modules, bench ids); the lab name is the type's `Scheduler::NAME`.
///
/// To add a scheduler: add its crate to harness/Cargo.toml, re-export it in lib.rs, and add
/// one line here, e.g.
/// `sched2013: $crate::sched2013::Sched2013, "Go 1.1 (2013): G-M-P, per-P locked run queues, stealing, sysmon";`
#[macro_export]
macro_rules! for_each_scheduler {
    ($callback:ident) => {
        $callback! {
            sched2011_lock: $crate::sched2011::Sched2011Lock, "Go before seed 002 (2011): the 2011 scheduler with the schedlock on every entersyscall/exitsyscall";
            sched2011: $crate::sched2011::Sched2011, "Go 1.0 (July 2011, seed 002): one schedlock, global run queue, lock-free syscall fast paths";
            sched2013: $crate::sched2013::Sched2013, "Go 1.1 (2013, seeds 000/003): G-M-P, per-P locked growable run queues, work stealing, sysmon";
            sched2014: $crate::sched2014::Sched2014, "Go 1.4 (late 2014, seeds 001/004): lock-free 256-slot per-P rings, preemption at preempt points, Gscan";
            sched2014_nopreempt: $crate::sched2014::Sched2014NoPreempt, "the 2014 scheduler with preemption turned off (Config switch), to show what it buys";
        }
    };
}

/// Calls `$callback! { $({ name: "..", run: module::function, go: "Benchmark..", core: bool,
/// batch: u64, hog: bool, about: ".." $(, max_n: u64)? $(, fresh_stacks: bool)? },)* }` with
/// every workload. `run` names a function in `crate::workloads` that is generic over
/// `S: Scheduler` and does `b.n` operations of a [`B`](crate::workloads::B); `go` is the row
/// name in tables and in bench.txt; `core` puts the workload in `lab compare`'s default set;
/// `batch` is the smallest N that does any work (the ramp goes on to at least that); `hog`
/// says a CPU hog in it can only be interrupted by preemption, so a generation without it
/// reports the workload starved; `max_n`, where given, is the largest N the ramp may reach (else
/// [`MAX_N`](crate::measure::ramp::MAX_N), testing.B's); `fresh_stacks: true` marks a workload
/// whose timed round keeps many goroutines alive at once, so that many of them get a fresh
/// stack (a gfree miss) and its figures carry their guard-page system calls (the table says
/// so beside them).
///
/// To add a workload: write `pub fn my_work<S: Scheduler>(b: &mut B)` in `workloads/` and add
/// one line here, e.g.
/// `{ name: "my-work", run: mine::my_work, go: "BenchmarkMyWork", core: false, batch: 1, hog: false, about: "what it does" },`
#[macro_export]
macro_rules! for_each_workload {
    ($callback:ident) => {
        $callback! {
            { name: "syscall", run: syscall::syscall, go: "BenchmarkSyscall", core: true, batch: 1000, hog: false, about: "GOMAXPROCS goroutines share N/1000 batches: a gosched, then 1000 empty entersyscall/exitsyscall pairs (seed 002); per-batch latency" },
            { name: "syscall-work", run: syscall::syscall_work, go: "BenchmarkSyscallWork", core: true, batch: 1000, hog: false, about: "as syscall, with 100 steps of foo*=2; foo/=2 inside each pair (seed 002)" },
            { name: "create-goroutines", run: create::create_goroutines, go: "BenchmarkCreateGoroutines", core: true, batch: 1, hog: false, about: "one chain: each goroutine spawns the next and exits; the last signals a channel" },
            { name: "create-goroutines-parallel", run: create::create_goroutines_parallel, go: "BenchmarkCreateGoroutinesParallel", core: true, batch: 1, hog: false, about: "GOMAXPROCS such chains of N/GOMAXPROCS at once" },
            { name: "ping-pong", run: chan::ping_pong, go: "BenchmarkPingPong", core: true, batch: 1, hog: false, about: "main and an echo goroutine over two unbuffered channels (ping <- true; <-pong), ns per round trip; wake-up latency from an untimed round" },
            { name: "chan-sync", run: chan::chan_sync, go: "BenchmarkChanSync", core: true, batch: 2000, hog: false, about: "Go's BenchmarkChanSync: two goroutines alternate over one unbuffered channel in batches of 1000, ns per exchange: the hand-off cost" },
            { name: "ping-pong-hog", run: chan::ping_pong_hog, go: "BenchmarkPingPongHog", core: true, batch: 1, hog: true, about: "at GOMAXPROCS 1, ping-pong beside a CPU hog that only preemption interrupts; starved without it" },
            { name: "gc-pause", run: gc::gc_pause, go: "BenchmarkGCPause", core: true, batch: 1, hog: false, about: "gc() while GOMAXPROCS goroutines spin (a preempt point every 2 us, a gosched every 1 ms); ns per gc, STW pause percentiles" },
            { name: "matmult", run: matmult::matmult_bench, go: "BenchmarkMatmult", core: true, batch: 1, hog: false, about: "Go's recursive fork-join matrix product with channels, N ~ side^3, result checked" },
            { name: "chain-spawn", run: tokio::chain_spawn, go: "BenchmarkChainSpawn", core: true, batch: 1, hog: false, about: "tokio's chained_spawn: a chain of 1000 goroutines per op" },
            { name: "yield-many", run: tokio::yield_many, go: "BenchmarkYieldMany", core: true, batch: 1, hog: false, about: "tokio's yield_many: 200 goroutines yield 1000 times each per op" },
            { name: "wakeup-spinning-5us", run: wakeup::spinning_5us, go: "BenchmarkWakeupParallelSpinning/5µs", core: true, batch: 1, hog: false, about: "Go's WakeupParallelSpinning: two goroutines alternate, spinning 5 us (+5 us for the sender) between hops; wake-up latency" },
            { name: "wakeup-syscall-5us", run: wakeup::syscall_5us, go: "BenchmarkWakeupParallelSyscall/5µs", core: true, batch: 1, hog: false, about: "as wakeup-spinning-5us, sleeping in a syscall instead of spinning" },
            { name: "wakeup-spinning-0us", run: wakeup::spinning_0us, go: "BenchmarkWakeupParallelSpinning/0s", core: false, batch: 1, hog: false, about: "the delay sweep's 0 us point" },
            { name: "wakeup-spinning-50us", run: wakeup::spinning_50us, go: "BenchmarkWakeupParallelSpinning/50µs", core: false, batch: 1, hog: false, about: "the delay sweep's 50 us point" },
            { name: "wakeup-syscall-0us", run: wakeup::syscall_0us, go: "BenchmarkWakeupParallelSyscall/0s", core: false, batch: 1, hog: false, about: "the delay sweep's 0 us point (a sched_yield syscall)" },
            { name: "wakeup-syscall-50us", run: wakeup::syscall_50us, go: "BenchmarkWakeupParallelSyscall/50µs", core: false, batch: 1, hog: false, about: "the delay sweep's 50 us point" },
            { name: "syscall-excess", run: syscall::syscall_excess, go: "BenchmarkSyscallExcess", core: false, batch: 1000, hog: false, about: "as syscall, with 4*GOMAXPROCS goroutines" },
            { name: "syscall-excess-work", run: syscall::syscall_excess_work, go: "BenchmarkSyscallExcessWork", core: false, batch: 1000, hog: false, about: "as syscall-work, with 4*GOMAXPROCS goroutines" },
            { name: "syscall-block", run: syscall::syscall_block, go: "BenchmarkSyscallBlock", core: false, batch: 10, hog: false, about: "GOMAXPROCS goroutines, batches of 10 syscalls that each really block (a 20 us sleep)" },
            { name: "create-goroutines-single", run: create::create_goroutines_single, go: "BenchmarkCreateGoroutinesSingle", core: false, batch: 1, hog: false, about: "main spawns all N goroutines, each marking a WaitGroup done, and waits (N at most 10^6: at procs 1 all are alive at once)", max_n: 1_000_000, fresh_stacks: true },
            { name: "goroutines-alive-10k", run: alive::alive_10k, go: "BenchmarkGoroutinesAlive/10k", core: false, batch: 10_000, hog: false, about: "as goroutines-alive, 10^4 alive at once", fresh_stacks: true },
            { name: "goroutines-alive-100k", run: alive::alive_100k, go: "BenchmarkGoroutinesAlive/100k", core: false, batch: 100_000, hog: false, about: "as goroutines-alive, 10^5 alive at once", fresh_stacks: true },
            { name: "goroutines-alive", run: alive::alive_1m, go: "BenchmarkGoroutinesAlive/1M", core: false, batch: 1_000_000, hog: false, about: "10^6 goroutines alive at once, all blocked on one channel, then released by a close; ns per goroutine, and RSS per goroutine in lab run and the JSON", fresh_stacks: true },
        }
    };
}

/// A scheduler of the registry.
#[derive(Debug)]
pub struct SchedInfo {
    /// The lab name (`Scheduler::NAME`).
    pub name: &'static str,
    pub about: &'static str,
    /// The generation's limit on procs.
    pub max_procs: usize,
    /// [`runner::measure`] for this scheduler, looking the workload up by name.
    measure: fn(&WorkloadInfo, &Settings) -> Option<Result<Measurement, schedcore::RunError>>,
    /// Whether the generation preempts (`Scheduler::PREEMPTIVE`).
    pub preemptive: bool,
    /// The runtime lock of the generation's era (`Scheduler::ERA_LOCK`).
    pub era_lock: LockKind,
}

/// A peer of the registry: measured in place of a scheduler, added with `--peers`.
#[derive(Debug)]
pub struct PeerInfo {
    pub name: &'static str,
    pub about: &'static str,
    pub max_procs: usize,
    /// Measures a workload by name; `NotApplicable` where the peer cannot express it.
    pub measure: fn(&WorkloadInfo, &Settings) -> Result<Measurement, Failure>,
}

impl PeerInfo {
    /// The entry of the peer `P`, from its [`Peer`] implementation.
    pub const fn of<P: Peer>() -> PeerInfo {
        PeerInfo {
            name: P::NAME,
            about: P::ABOUT,
            max_procs: P::MAX_PROCS,
            measure: P::measure,
        }
    }
}

/// Every peer. To add one: a module in `peers/` with a type that implements [`Peer`], and one
/// entry here.
pub const PEERS: &[PeerInfo] = &[
    PeerInfo::of::<Floor>(),
    PeerInfo::of::<Rayon>(),
    PeerInfo::of::<Go>(),
    PeerInfo::of::<May>(),
    PeerInfo::of::<Tokio>(),
    // The historical releases, in `history::release::RELEASES`' order (a test checks each is
    // here).
    PeerInfo::of::<ReleasePeer<0>>(),
    PeerInfo::of::<ReleasePeer<1>>(),
    PeerInfo::of::<ReleasePeer<2>>(),
    PeerInfo::of::<ReleasePeer<3>>(),
    PeerInfo::of::<ReleasePeer<4>>(),
];

/// Visits a scheduler type chosen at run time: `visit::<S>` is monomorphized for each one.
pub trait SchedVisitor {
    type Out;
    fn visit<S: Scheduler>(self) -> Self::Out;
}

macro_rules! scheduler_tables {
    ($($id:ident: $ty:ty, $about:literal;)*) => {
        /// Every scheduler, oldest first.
        pub const SCHEDULERS: &[SchedInfo] = &[$(SchedInfo {
            name: <$ty as Scheduler>::NAME,
            about: $about,
            max_procs: <$ty as Scheduler>::MAX_PROCS,
            measure: measure_by_name::<$ty>,
            preemptive: <$ty as Scheduler>::PREEMPTIVE,
            era_lock: <$ty as Scheduler>::ERA_LOCK,
        },)*];

        /// Calls `v.visit::<S>()` with the scheduler named `name`; `None` if there is none.
        pub fn with_scheduler<V: SchedVisitor>(name: &str, v: V) -> Option<V::Out> {
            $(if name == <$ty as Scheduler>::NAME {
                return Some(v.visit::<$ty>());
            })*
            None
        }
    };
}
for_each_scheduler!(scheduler_tables);

/// A workload's `max_n`, or testing.B's bound when it gives none.
macro_rules! max_n_or_default {
    () => {
        $crate::measure::ramp::MAX_N
    };
    ($max:literal) => {
        $max
    };
}

macro_rules! workload_tables {
    ($({ name: $name:literal, run: $m:ident :: $f:ident, go: $go:literal, core: $core:literal, batch: $batch:literal, hog: $hog:literal, about: $about:literal $(, max_n: $max:literal)? $(, fresh_stacks: $fresh:literal)? },)*) => {
        /// Every workload, in the order tables show them.
        pub const WORKLOADS: &[WorkloadInfo] = &[$(WorkloadInfo {
            name: $name,
            go_name: $go,
            core: $core,
            batch: $batch,
            hog: $hog,
            about: $about,
            max_n: max_n_or_default!($($max)?),
            fresh_stacks: false $(|| $fresh)?,
        },)*];

        /// The workload named `name`, monomorphized for `S`.
        pub fn workload_fn<S: Scheduler>(name: &str) -> Option<fn(&mut B)> {
            match name {
                $($name => Some($crate::workloads::$m::$f::<S>),)*
                _ => None,
            }
        }
    };
}
for_each_workload!(workload_tables);

fn measure_by_name<S: Scheduler>(
    bench: &WorkloadInfo,
    settings: &Settings,
) -> Option<Result<Measurement, schedcore::RunError>> {
    workload_fn::<S>(bench.name)
        .map(|f| runner::measure::<S>(f, bench.batch, bench.max_n, settings))
}

impl SchedInfo {
    /// One measurement of the workload named `bench`; `None` if there is no such workload.
    pub fn measure(
        &self,
        bench: &WorkloadInfo,
        settings: &Settings,
    ) -> Option<Result<Measurement, schedcore::RunError>> {
        (self.measure)(bench, settings)
    }
}

pub fn scheduler(name: &str) -> Option<&'static SchedInfo> {
    SCHEDULERS.iter().find(|s| s.name == name)
}

pub fn workload(name: &str) -> Option<&'static WorkloadInfo> {
    WORKLOADS.iter().find(|w| w.name == name)
}

pub fn peer(name: &str) -> Option<&'static PeerInfo> {
    PEERS.iter().find(|p| p.name == name)
}

/// A column of the table: a scheduler generation or a peer.
#[derive(Clone, Copy, Debug)]
pub enum Subject {
    Sched(&'static SchedInfo),
    Peer(&'static PeerInfo),
}

impl Subject {
    pub fn name(&self) -> &'static str {
        match self {
            Subject::Sched(s) => s.name,
            Subject::Peer(p) => p.name,
        }
    }

    pub fn is_peer(&self) -> bool {
        matches!(self, Subject::Peer(_))
    }

    pub fn max_procs(&self) -> usize {
        match self {
            Subject::Sched(s) => s.max_procs,
            Subject::Peer(p) => p.max_procs,
        }
    }

    /// The runtime lock this subject runs on when the plan asks for `lock` (`None`: each
    /// generation's era lock); `None` for a peer, which has locks of its own.
    pub fn lock(&self, lock: Option<LockKind>) -> Option<LockKind> {
        match self {
            Subject::Sched(s) => Some(lock.unwrap_or(s.era_lock)),
            Subject::Peer(_) => None,
        }
    }

    /// One measurement (one fresh runtime, or one peer run).
    pub fn measure(
        &self,
        bench: &WorkloadInfo,
        settings: &Settings,
    ) -> Result<Measurement, Failure> {
        match self {
            Subject::Sched(s) => s
                .measure(bench, settings)
                .expect("every registry workload exists for every scheduler")
                .map_err(Failure::Run),
            Subject::Peer(p) => (p.measure)(bench, settings),
        }
    }
}
