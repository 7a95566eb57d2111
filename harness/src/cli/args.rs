//! The arguments several subcommands share: `--procs` lists, `--lock`, `--stack-guard`,
//! durations, `--format`, what every measured runtime is booted with ([`RuntimeArgs`]) and
//! which combinations to measure ([`Selection`]).

use crate::measure::procs::{parse_procs, ProcsError};
use clap::{Args, ValueEnum};
use schedcore::{LockKind, StackGuard};
use std::time::Duration;

/// A `--procs` value: numbers and ranges (`1..4`, `1,2,4,8`, `1..2,8`).
#[derive(Clone, Debug)]
pub(super) struct ProcsList(pub(super) Vec<usize>);

pub(super) fn procs_arg(s: &str) -> Result<ProcsList, ProcsError> {
    parse_procs(s).map(ProcsList)
}

/// The procs asked for, or 1 up to the machine's cores.
pub(super) fn procs_or_cores(procs: Option<ProcsList>, cores: usize) -> Vec<usize> {
    procs.map_or_else(|| (1..=cores).collect(), |p| p.0)
}

/// A `--lock` value: `era` (`None`: each generation's own) or a lock kind.
#[derive(Clone, Copy, Debug)]
pub(super) struct LockChoice(pub(super) Option<LockKind>);

fn lock_arg(s: &str) -> Result<LockChoice, String> {
    if s == "era" {
        return Ok(LockChoice(None));
    }
    LockKind::from_name(s)
        .map(|k| LockChoice(Some(k)))
        .ok_or_else(|| {
            let names: Vec<&str> = LockKind::ALL.iter().map(|k| k.name()).collect();
            format!("expected era, {}", names.join(" or "))
        })
}

fn guard_arg(s: &str) -> Result<StackGuard, String> {
    StackGuard::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = StackGuard::ALL.iter().map(|g| g.name()).collect();
        format!("expected {}", names.join(", "))
    })
}

pub(super) fn duration_arg(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e} (expected e.g. 250ms, 1s)"))?;
    if d.is_zero() {
        return Err("must be above zero".into());
    }
    Ok(d)
}

#[derive(Clone, Copy, ValueEnum)]
pub(super) enum Format {
    Table,
    Json,
}

/// What every measured runtime is booted with, the same for `compare` and `run`.
#[derive(Args)]
pub(super) struct RuntimeArgs {
    /// The runtime lock every generation runs on: era (each its own era's: futex2011 for
    /// both 2011 columns, spin for 2013 and 2014), futex2011 (July 2011's blocking futex lock)
    /// or spin (lock_futex.c's spin-then-futex lock, Go 1.0 on)
    #[arg(long, default_value = "era", value_parser = lock_arg)]
    pub(super) lock: LockChoice,
    /// Steps of `foo *= 2; foo /= 2` in each syscall of syscall-work and syscall-excess-work
    /// (BenchmarkSyscallWork's LocalWork). A step costs about four times more in Go 1.0's code
    /// than here: 400 weighs the schedlock as the seed's machine did
    #[arg(long, default_value_t = crate::workloads::LOCAL_WORK, value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    pub(super) work: u64,
    /// How the guard page under each goroutine stack is made: auto (madvise where the kernel
    /// has MADV_GUARD_INSTALL, Linux 6.13+, else mprotect), madvise, or mprotect (two kernel
    /// mappings a stack, so vm.max_map_count bounds the goroutines alive: older kernels' way)
    #[arg(long, default_value = "auto", value_parser = guard_arg)]
    pub(super) stack_guard: StackGuard,
    /// The most goroutines with a stack at once in every runtime; past it the run ends with a
    /// clear error [default: what the memory available at boot allows]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub(super) max_goroutines: Option<u64>,
}

/// Which combinations to measure, the same words for `compare`, `overhead` and `trace`.
#[derive(Args)]
pub(super) struct Selection {
    /// Schedulers, comma-separated; in `compare` the first is the baseline of the deltas, in
    /// `trace` the top timeline [default: all]
    #[arg(long, value_delimiter = ',')]
    pub(super) sched: Vec<String>,
    /// Workloads, comma-separated (`overhead` takes core ones, `trace` exactly one) [default:
    /// the core set, see `lab list`]
    #[arg(long, value_delimiter = ',')]
    pub(super) bench: Vec<String>,
    /// GOMAXPROCS values: ranges and lists, e.g. 1..4 or 1,2,4,8 (`trace` takes one)
    /// [default: 1..<cores>; `trace`: <cores>]
    #[arg(long, value_parser = procs_arg)]
    pub(super) procs: Option<ProcsList>,
}
