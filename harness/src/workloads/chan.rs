//! Channel ping-pong: two goroutines passing a value back and forth over unbuffered channels,
//! alone (`ping-pong`), beside a CPU hog on one proc (Go's BenchmarkPingPongHog, which only a
//! preemptive scheduler gets through), and Go's BenchmarkChanSync (two goroutines alternating
//! over one unbuffered channel).

use super::{Stall, Stamp, B};
use hdrhistogram::Histogram;
use schedcore::{Chan, Scheduler};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Hops of the untimed round that samples `ping-pong`'s wake-up latency (fewer when N is).
pub const LATENCY_HOPS: u64 = 10_000;

/// `ping-pong`: N round trips between the benchmark's goroutine and an echo goroutine over two
/// unbuffered channels. The timed loop is the plain two-channel loop (`ping <- true; <-pong`)
/// and nothing else; the `wakeup` histogram (send to the receiver running: for a parked
/// receiver `ready`, the run queue and the switch) comes from a second, untimed round of the
/// same loop whose hops carry their send instant.
pub fn ping_pong<S: Scheduler>(b: &mut B) {
    ping_pong_round::<S, bool>(b.n);
    b.stop_timer();
    if let Some(h) = ping_pong_round::<S, Instant>(b.n.min(LATENCY_HOPS)) {
        b.record("wakeup", &h);
    }
}

/// `trips` round trips of `ping-pong` carrying `T`; the latencies both sides recorded, if `T`
/// records any.
#[inline(always)]
fn ping_pong_round<S: Scheduler, T: Stamp>(trips: u64) -> Option<Box<Histogram<u64>>> {
    let ping = Chan::<T, S>::new(0);
    let pong = Chan::<T, S>::new(0);
    let done = Chan::<Option<Box<Histogram<u64>>>, S>::new(1);
    {
        let (ping, pong, done) = (ping.clone(), pong.clone(), done.clone());
        S::go(move || {
            let mut lat = T::histogram();
            for _ in 0..trips {
                ping.recv().expect("ping is never closed").record(&mut lat);
                pong.send(T::now());
            }
            done.send(lat);
        });
    }
    let mut lat = T::histogram();
    for _ in 0..trips {
        ping.send(T::now());
        pong.recv().expect("pong is never closed").record(&mut lat);
    }
    let echo = done.recv().expect("done is never closed");
    if let (Some(l), Some(e)) = (&mut lat, echo) {
        l.add(*e).expect("latency histograms share their bounds");
    }
    lat
}

/// BenchmarkChanSync's CallsPerSched: exchanges per claimed batch.
pub const CHAN_SYNC_CALLS: u64 = 1000;

/// Port of Go's BenchmarkChanSync (chan_test.go, every release from Go 1.0 on): two goroutines
/// claim batches of 1000 from a shared counter and, batch by batch, alternate over one
/// unbuffered channel: on an even batch receive then send, on an odd one send then receive.
/// One op is one exchange. Go fixes the goroutines at two whatever GOMAXPROCS is, and rounds
/// the batches down to an even count so both sides always meet.
pub fn chan_sync<S: Scheduler>(b: &mut B) {
    const PROCS: u64 = 2;
    let left = Arc::new(AtomicI64::new(
        (b.n / CHAN_SYNC_CALLS / PROCS * PROCS) as i64,
    ));
    let c = Chan::<bool, S>::new(PROCS as usize);
    let myc = Chan::<i32, S>::new(0);
    for _ in 0..PROCS {
        let (left, c, myc) = (left.clone(), c.clone(), myc.clone());
        S::go(move || {
            loop {
                let i = left.fetch_sub(1, Ordering::SeqCst) - 1;
                if i < 0 {
                    break;
                }
                for _ in 0..CHAN_SYNC_CALLS {
                    if i % 2 == 0 {
                        myc.recv();
                        myc.send(0);
                    } else {
                        myc.send(0);
                        myc.recv();
                    }
                }
            }
            c.send(true);
        });
    }
    for _ in 0..PROCS {
        c.recv();
    }
}

/// Port of BenchmarkPingPongHog: at GOMAXPROCS 1 (set and restored inside, as Go's benchmark
/// does), a CPU hog spins through preempt points while two goroutines ping-pong N times over
/// unbuffered channels; ns per round trip. Go's hog polls a `stop` channel with a `select`
/// default; here it polls a flag, and it also watches the ping-pong's progress: when there
/// has been none for `b.starve_after` (a generation that cannot preempt it), it gives up and
/// the round is reported starved, so the run always ends.
pub fn ping_pong_hog<S: Scheduler>(b: &mut B) {
    if b.n == 0 {
        return;
    }
    b.stop_timer();
    let n = b.n;
    let prev = S::gomaxprocs(1);
    let stall = Arc::new(Stall::new(b.starve_after));
    let stop = Arc::new(AtomicBool::new(false));
    let done = Chan::<(), S>::new(0);
    {
        let (stall, stop, done) = (stall.clone(), stop.clone(), done.clone());
        S::go(move || {
            let mut watch = stall.watch();
            while !stop.load(Ordering::Relaxed) {
                S::preempt_point();
                if watch.starving() {
                    break;
                }
            }
            done.send(());
        });
    }
    let ping = Chan::<bool, S>::new(0);
    let pong = Chan::<bool, S>::new(0);
    let finished = Chan::<(), S>::new(0);
    {
        let (ping, pong, done, stall) = (ping.clone(), pong.clone(), done.clone(), stall.clone());
        let finished = finished.clone();
        S::go(move || {
            for _ in 0..n {
                pong.send(ping.recv().expect("ping is never closed"));
                stall.progress();
            }
            // close(stop)
            stop.store(true, Ordering::Relaxed);
            finished.send(());
            done.send(());
        });
    }
    {
        let (ping, pong, done) = (ping.clone(), pong.clone(), done.clone());
        S::go(move || {
            for _ in 0..n {
                ping.send(pong.recv().expect("pong is never closed"));
            }
            done.send(());
        });
    }
    b.reset_timer();
    b.start_timer();
    ping.send(true); // start the ping-pong
    finished.recv();
    b.stop_timer();
    ping.recv(); // let the last ponger exit
    for _ in 0..3 {
        done.recv();
    }
    S::gomaxprocs(prev);
    if stall.starved() {
        b.set_starved();
    }
}
