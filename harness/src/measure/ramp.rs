//! How many iterations to time: Go's `testing.B` ramp (run N=1, predict N toward the
//! benchtime from the last round, grow at most 100x and at least by one, round up).

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Go's testing.B stops growing N here (`n < 1e9`): past it a round would take minutes on any
/// workload slow enough to need it, and N must stay a sane loop bound.
pub const MAX_N: u64 = 1_000_000_000;

/// One timed execution of a workload's loop with a given N.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Round {
    pub n: u64,
    pub elapsed: Duration,
}

/// One round of a ramp, as the JSON shows it (results.json, a peer child's line).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RoundJson {
    pub n: u64,
    pub ns: u64,
}

/// Every round of one ramp, the last being the one that counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ramp {
    pub rounds: Vec<Round>,
}

impl Ramp {
    /// The round whose figure is reported (the last).
    pub fn last(&self) -> Round {
        *self.rounds.last().expect("a ramp has at least one round")
    }

    /// ns/op of the last round: its elapsed time over its N, as Go's `b.NsPerOp` (as a float).
    pub fn ns_per_op(&self) -> f64 {
        let r = self.last();
        r.elapsed.as_nanos() as f64 / r.n as f64
    }

    /// The operations of every round together (to show counters per op).
    pub fn total_ops(&self) -> u64 {
        self.rounds.iter().map(|r| r.n).sum()
    }
}

/// Runs `round(n)` (which returns the time of the loop body only) with N = 1, then with N
/// predicted from the previous round, until a round lasts at least `benchtime` or N reaches
/// `max_n` (at most [`MAX_N`]). Port of testing.B's `launch` loop, with two additions: the ramp
/// also goes on while N is below `min_n`, the workload's batch (BenchmarkSyscall does N/1000
/// batches, so a round with N < 1000 does nothing at all, and a slow first round must not end
/// the ramp on a figure of no work); and it stops at the workload's `max_n` where Go's goes on
/// to 1e9 (create-goroutines-single keeps all N goroutines alive at once).
///
/// With [`Aim::Times`] (Go's `-benchtime Nx`) there is no ramp: the N = 1 round, then one round
/// of exactly that N, whatever `min_n` and `max_n` say, as `testing.B` does.
pub fn ramp(
    aim: impl Into<Aim>,
    min_n: u64,
    max_n: u64,
    mut round: impl FnMut(u64) -> Duration,
) -> Ramp {
    ramp_until(aim, min_n, max_n, |n| (round(n), false))
}

/// What a ramp aims for: Go's `-benchtime`, either a duration or `Nx`, a number of iterations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aim {
    /// Grow N until a round lasts this long.
    Time(Duration),
    /// Time exactly this N (after the N = 1 round): the same work on every run, for counting
    /// instructions or comparing two builds op for op.
    Times(u64),
}

impl From<Duration> for Aim {
    fn from(d: Duration) -> Aim {
        Aim::Time(d)
    }
}

/// [`ramp`], where a round may also end the ramp: `round(n)` returns its time and whether to
/// stop (a starved round: a longer one would say no more).
pub fn ramp_until(
    aim: impl Into<Aim>,
    min_n: u64,
    max_n: u64,
    mut round: impl FnMut(u64) -> (Duration, bool),
) -> Ramp {
    let mut n = 1;
    let (elapsed, mut stop) = round(n);
    let mut rounds = vec![Round { n, elapsed }];
    let benchtime = match aim.into() {
        Aim::Time(d) => d,
        Aim::Times(times) => {
            if times > 1 && !stop {
                let (elapsed, _) = round(times);
                rounds.push(Round { n: times, elapsed });
            }
            return Ramp { rounds };
        }
    };
    let max_n = max_n.clamp(1, MAX_N);
    while !stop && (rounds.last().unwrap().elapsed < benchtime || n < min_n) && n < max_n {
        let last = rounds.last().unwrap();
        n = predict_n(benchtime, last).min(max_n);
        if last.elapsed >= benchtime {
            // Only here because N is below the batch: go straight to it rather than creep up
            // by one per (long) round.
            n = n.max(round_up(min_n)).min(max_n);
        }
        let (elapsed, s) = round(n);
        stop = s;
        rounds.push(Round { n, elapsed });
    }
    Ramp { rounds }
}

/// The next N after round `last`: aim for `benchtime` plus a fifth, at most 100 times the last
/// N, at least one more, rounded up to 1, 2, 3 or 5 times a power of ten, at most [`MAX_N`].
///
/// Go computes the prediction from the integer `NsPerOp`, which is 0 for loops under a
/// nanosecond and hides an order of magnitude; like Go since 1.16 this multiplies first
/// (benchtime * N / elapsed), in 128 bits so nothing overflows.
pub fn predict_n(benchtime: Duration, last: &Round) -> u64 {
    let prev_ns = last.elapsed.as_nanos().max(1);
    let mut n = benchtime.as_nanos() * u128::from(last.n) / prev_ns;
    // Run more iterations than the prediction (1.2x): the last round should not fall short.
    n += n / 5;
    // Do not grow too fast in case the previous round was timed badly.
    n = n.min(100 * u128::from(last.n));
    // Always one more than last time, so the ramp ends.
    n = n.max(u128::from(last.n) + 1);
    round_up(n.min(u128::from(MAX_N)) as u64).min(MAX_N)
}

/// The largest power of ten not above `n` (1 for 0). Port of testing's `roundDown10`.
pub fn round_down10(mut n: u64) -> u64 {
    let mut result = 1;
    while n >= 10 {
        n /= 10;
        result *= 10;
    }
    result
}

/// `n` rounded up to 1, 2, 3 or 5 times a power of ten. Port of testing's `roundUp`.
pub fn round_up(n: u64) -> u64 {
    let base = round_down10(n);
    if n <= base {
        base
    } else if n <= 2 * base {
        2 * base
    } else if n <= 3 * base {
        3 * base
    } else if n <= 5 * base {
        5 * base
    } else {
        10 * base
    }
}
