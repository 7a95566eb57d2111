//! criterion benches: every workload of the registry on every scheduler of the registry, at
//! procs 1 and 2 (and the core count when it is above 2), named `workload/sched/procs`, so that
//! `cargo bench -p harness -- --save-baseline before` then `--baseline before` reports
//! regressions the usual criterion way.
//!
//! A criterion iteration runs inside one runtime: `iter_custom` boots a runtime per sample and
//! times only the workload's loop over all the sample's iterations, as the lab's runner does.
//! For workloads that work in batches (syscall: 1000 calls), a sample of `iters` iterations
//! runs `iters` batches and reports the time per call, so criterion's figure is ns/op.

use criterion::{criterion_group, criterion_main, Criterion};
use harness::measure::runner;
use harness::schedcore::{Config, Scheduler};
use harness::subjects::registry::{workload_fn, WORKLOADS};
use harness::workloads::DEFAULT_STARVE_AFTER;
use std::time::Duration;

/// The largest group of goroutines alive at once a bench iteration may hold.
const BENCH_MAX_GROUP: u64 = 10_000;

/// The procs every workload is measured at.
fn procs() -> Vec<usize> {
    let cores = harness::output::machine::cores();
    let mut p = vec![1, 2];
    if cores > 2 {
        p.push(cores);
    }
    p
}

fn bench_scheduler<S: Scheduler>(c: &mut Criterion) {
    for w in WORKLOADS {
        // Without preemption the hog starves the others: there is no figure to regress.
        if w.hog && !S::PREEMPTIVE {
            continue;
        }
        // One iteration of these keeps 10^5 or 10^6 goroutines alive (GiBs, seconds): their
        // code is goroutines-alive-10k's, which stays.
        if w.name.starts_with("goroutines-alive") && w.batch > BENCH_MAX_GROUP {
            continue;
        }
        let f = workload_fn::<S>(w.name).expect("every workload exists for every scheduler");
        let batch = w.batch.max(1);
        for p in procs().into_iter().filter(|&p| p <= S::MAX_PROCS) {
            c.bench_function(&format!("{}/{}/{p}", w.name, S::NAME), |b| {
                b.iter_custom(|iters| {
                    let (elapsed, _) = S::run(&Config::new(p), move || {
                        let b = runner::round(
                            f,
                            iters * batch,
                            DEFAULT_STARVE_AFTER,
                            harness::workloads::LOCAL_WORK,
                        );
                        assert!(!b.starved(), "{} starved on {}", w.name, S::NAME);
                        b.elapsed()
                    })
                    .unwrap_or_else(|e| panic!("{} on {} at procs {p}: {e}", w.name, S::NAME));
                    elapsed / batch as u32
                })
            });
        }
    }
}

macro_rules! every_scheduler {
    ($($id:ident: $ty:ty, $about:literal;)*) => {
        fn workloads(c: &mut Criterion) {
            $(bench_scheduler::<$ty>(c);)*
        }
    };
}
harness::for_each_scheduler!(every_scheduler);

criterion_group! {
    name = benches;
    // Short: each sample boots a runtime, and a regression check wants the whole set in
    // minutes. Raise them on the command line (--measurement-time) for a finer figure.
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    targets = workloads
}
criterion_main!(benches);
