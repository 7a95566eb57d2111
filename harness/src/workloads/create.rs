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

/// At most this many goroutines of `create-goroutines-single` are alive at once. Every
/// goroutine here holds a whole mmapped stack with a guard page (two kernel mappings), and
/// Linux allows 65530 mappings per process by default (`vm.max_map_count`): about 32k live
/// goroutines, where Go's small growable stacks allowed millions. 8192 keeps well clear of
/// that and still gives the idle P's a long queue to steal from.
pub const SINGLE_WAVE: u64 = 8192;

/// BenchmarkCreateGoroutinesSingle: main spawns N goroutines that each mark a WaitGroup done,
/// in waves of at most [`SINGLE_WAVE`] live goroutines (Go's benchmark spawns all N at once).
pub fn create_goroutines_single<S: Scheduler>(b: &mut B) {
    let mut left = b.n;
    let wg = WaitGroup::<S>::new();
    while left > 0 {
        let wave = left.min(SINGLE_WAVE);
        left -= wave;
        wg.add(wave as i64);
        for _ in 0..wave {
            let wg = wg.clone();
            S::go(move || wg.done());
        }
        wg.wait();
    }
}
