//! Go-scale goroutine counts: groups of goroutines that are all alive at once, each blocked on
//! one channel until a close releases the whole group, with the cost of a goroutine's life in
//! time (the round's ns per goroutine) and in memory (the Report's peak resident set over its
//! peak of live goroutines).

use super::B;
use schedcore::{Chan, Scheduler, WaitGroup};

/// Goroutines alive at once in `goroutines-alive-10k`.
pub const ALIVE_10K: u64 = 10_000;
/// Goroutines alive at once in `goroutines-alive-100k`.
pub const ALIVE_100K: u64 = 100_000;
/// Goroutines alive at once in `goroutines-alive`: Go's scale, a million.
pub const ALIVE_1M: u64 = 1_000_000;

/// N goroutine lives in groups of `group` (the last group, or a round with N below it, has
/// what is left): main spawns the group's goroutines, each marks `ready` and blocks receiving
/// on the group's channel; once all are ready main closes the channel, which wakes them all,
/// and waits for every one to finish. The timer covers the whole life: spawn, park, wake-up,
/// exit.
pub fn alive<S: Scheduler>(n: u64, group: u64) {
    let mut left = n;
    while left > 0 {
        let k = left.min(group);
        left -= k;
        let release = Chan::<(), S>::new(0);
        let ready = WaitGroup::<S>::new();
        let done = WaitGroup::<S>::new();
        ready.add(k as i64);
        done.add(k as i64);
        for _ in 0..k {
            let (release, ready, done) = (release.clone(), ready.clone(), done.clone());
            S::go(move || {
                ready.done();
                release.recv();
                done.done();
            });
        }
        ready.wait();
        release.close();
        done.wait();
    }
}

/// `goroutines-alive-10k`: groups of 10^4 alive at once.
pub fn alive_10k<S: Scheduler>(b: &mut B) {
    alive::<S>(b.n, ALIVE_10K);
}

/// `goroutines-alive-100k`: groups of 10^5 alive at once.
pub fn alive_100k<S: Scheduler>(b: &mut B) {
    alive::<S>(b.n, ALIVE_100K);
}

/// `goroutines-alive`: groups of 10^6 alive at once.
pub fn alive_1m<S: Scheduler>(b: &mut B) {
    alive::<S>(b.n, ALIVE_1M);
}
