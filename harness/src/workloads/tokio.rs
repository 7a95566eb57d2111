//! Two of tokio's scheduler benchmarks (benches/rt_multi_threaded.rs), as tokio measures
//! them: one op is one whole iteration of tokio's loop, not one spawn or one yield.

use super::B;
use schedcore::{Chan, Scheduler};

/// tokio's chained_spawn: spawns in a chain this long per iteration.
pub const CHAIN: u64 = 1_000;
/// tokio's yield_many: tasks per iteration…
pub const YIELD_TASKS: usize = 200;
/// …and yields per task.
pub const YIELDS: usize = 1_000;

/// chained_spawn: each op, main starts a chain of 1000 goroutines (each spawns the next and
/// exits) and waits for the last one's signal.
pub fn chain_spawn<S: Scheduler>(b: &mut B) {
    let done = Chan::<bool, S>::new(1);
    for _ in 0..b.n {
        let d = done.clone();
        S::go(move || super::create::chain::<S>(CHAIN, d));
        done.recv();
    }
}

/// yield_many: each op, 200 goroutines yield 1000 times each and signal; main waits for all.
pub fn yield_many<S: Scheduler>(b: &mut B) {
    let done = Chan::<(), S>::new(YIELD_TASKS);
    for _ in 0..b.n {
        for _ in 0..YIELD_TASKS {
            let d = done.clone();
            S::go(move || {
                for _ in 0..YIELDS {
                    S::gosched();
                }
                d.send(());
            });
        }
        for _ in 0..YIELD_TASKS {
            done.recv();
        }
    }
}
