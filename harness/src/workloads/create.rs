//! Go's goroutine-creation benchmarks: chains where each goroutine spawns the next and exits
//! (benchmarkCreateGoroutines), and one goroutine spawning N (BenchmarkCreateGoroutinesSingle).

use super::B;
use schedcore::{Chan, Scheduler, WaitGroup};

/// One link of a chain: spawn the rest of the chain and exit; the last link signals `done`.
pub(crate) fn chain<S: Scheduler>(n: u64, done: Chan<bool, S>) {
    if n == 0 {
        done.send(true);
        return;
    }
    S::go(move || chain::<S>(n - 1, done));
}

/// benchmarkCreateGoroutines: `chains` chains of N/chains goroutines; main waits for each.
fn chains<S: Scheduler>(n: u64, chains: usize) {
    let done = Chan::<bool, S>::new(0);
    for _ in 0..chains {
        let done = done.clone();
        let len = n / chains as u64;
        S::go(move || chain::<S>(len, done));
    }
    for _ in 0..chains {
        done.recv();
    }
}

/// BenchmarkCreateGoroutines: one chain of N.
pub fn create_goroutines<S: Scheduler>(b: &mut B) {
    chains::<S>(b.n, 1);
}

/// BenchmarkCreateGoroutinesParallel: GOMAXPROCS chains of N/GOMAXPROCS.
pub fn create_goroutines_parallel<S: Scheduler>(b: &mut B) {
    chains::<S>(b.n, S::gomaxprocs(0).max(1) as usize);
}

/// BenchmarkCreateGoroutinesSingle: main spawns all N goroutines, each marking a WaitGroup
/// done, and waits; at procs 1 all N are alive before the first one runs, as in Go. The ramp
/// stops at [`crate::workloads::MAX_ALIVE`] (the registry's `max_n`).
pub fn create_goroutines_single<S: Scheduler>(b: &mut B) {
    let wg = WaitGroup::<S>::new();
    wg.add(b.n as i64);
    for _ in 0..b.n {
        let wg = wg.clone();
        S::go(move || wg.done());
    }
    wg.wait();
}
