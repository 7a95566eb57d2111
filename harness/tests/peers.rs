//! The peers beside the generations: the child-process line parser, the `go` peer end to end
//! (skipped, with the reason printed, when no `go` is on PATH), and `may` and `tokio` on every
//! workload they claim at procs 1 and 2. Every measurement runs at a tiny benchtime and under a
//! watchdog.

use harness::measure::ramp::{predict_n, round_up, Round};
use harness::measure::runner::{Measurement, Settings};
use harness::subjects::peers::{child, go, may, tokio};
use harness::subjects::registry::{self, WORKLOADS};
use harness::subjects::Failure;
use harness::workloads::WorkloadInfo;
use std::time::Duration;

/// A tiny benchtime: the ramp still runs its rounds, each short.
const BENCHTIME: Duration = Duration::from_millis(2);
/// A hog in a test gives up after this long without progress of the others.
const STARVE_AFTER: Duration = Duration::from_millis(100);

fn settings(procs: usize) -> Settings {
    Settings {
        starve_after: STARVE_AFTER,
        ..Settings::new(procs, BENCHTIME)
    }
}

/// `measure` on a thread, failing the test if it takes more than a minute.
fn bounded(
    what: String,
    measure: fn(&WorkloadInfo, &Settings) -> Result<Measurement, Failure>,
    w: &'static WorkloadInfo,
    procs: usize,
) -> Result<Measurement, Failure> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(measure(w, &settings(procs)));
    });
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{what} did not finish in 60 s"))
}

/// A measurement that did the work: at least one round, the last with N at least the batch
/// and a time above zero.
fn check_measured(what: &str, w: &WorkloadInfo, m: &Measurement) {
    let last = m.ramp.last();
    assert!(last.n >= w.batch, "{what}: last N {} < batch", last.n);
    assert!(!last.elapsed.is_zero(), "{what}: a round of no time");
    assert!(m.ns_per_op() > 0.0, "{what}");
}

#[test]
fn child_line_parses() {
    let out = "noise\n{\"peer\":\"go\",\"version\":\"go1.19.8\",\"bench\":\"syscall\",\"procs\":2,\
               \"rounds\":[{\"n\":1,\"ns\":900},{\"n\":100,\"ns\":4000}],\"counters\":{\"gc\":3}}\n";
    let (line, m) = child::parse(out, "syscall", 2).unwrap();
    assert_eq!(line.version, "go1.19.8");
    assert_eq!(m.ramp.rounds.len(), 2);
    assert_eq!(m.iterations(), 100);
    assert_eq!(m.ns_per_op(), 40.0);
    assert_eq!(m.counters["gc"], 3);
    assert!(!m.starved && m.latencies.is_empty());

    // Latencies become histograms; starved comes through.
    let out = r#"{"peer":"may","bench":"gc-pause","procs":1,"rounds":[{"n":2,"ns":10}],"latencies":{"stw_pause":[100,300]},"starved":true}"#;
    let (_, m) = child::parse(out, "gc-pause", 1).unwrap();
    assert!(m.starved);
    assert_eq!(m.latencies["stw_pause"].len(), 2);
    assert!(m.latencies["stw_pause"].max() >= 300);
    assert_eq!(m.memory, None);

    // Memory: the resident set per goroutine follows from the peak over the goroutines.
    let out = r#"{"peer":"go","bench":"goroutines-alive","procs":1,"rounds":[{"n":1,"ns":10}],"memory":{"rss_start":1000,"rss_peak":5001000,"peak_goroutines":1000}}"#;
    let (_, m) = child::parse(out, "goroutines-alive", 1).unwrap();
    let mem = m.memory.unwrap();
    assert_eq!((mem.rss_start_bytes, mem.rss_peak_bytes), (1000, 5_001_000));
    assert_eq!(mem.peak_goroutines, Some(1000));
    assert_eq!(mem.rss_per_goroutine_bytes, Some(5000.0));
    assert_eq!(mem.stacks_mapped, None);
    let out = r#"{"peer":"go","bench":"syscall","procs":1,"rounds":[{"n":1,"ns":10}],"memory":{"rss_start":1000,"rss_peak":2000}}"#;
    let mem = child::parse(out, "syscall", 1).unwrap().1.memory.unwrap();
    assert_eq!(mem.peak_goroutines, None);
    assert_eq!(mem.rss_per_goroutine_bytes, None);

    // What is not a measurement says why.
    use child::ParseError::*;
    assert_eq!(child::parse("", "syscall", 1).unwrap_err(), NoLine);
    assert!(matches!(child::parse("{nope", "syscall", 1), Err(Json(_))));
    assert_eq!(
        child::parse(r#"{"error":"syscall failed its check"}"#, "syscall", 1).unwrap_err(),
        Child("syscall failed its check".into())
    );
    let other = r#"{"peer":"go","bench":"matmult","procs":1,"rounds":[{"n":1,"ns":1}]}"#;
    assert!(matches!(
        child::parse(other, "syscall", 1),
        Err(Mismatch(_))
    ));
    assert!(matches!(
        child::parse(other, "matmult", 2),
        Err(Mismatch(_))
    ));
    let empty = r#"{"peer":"go","bench":"matmult","procs":1,"rounds":[]}"#;
    assert!(matches!(
        child::parse(empty, "matmult", 1),
        Err(Mismatch(_))
    ));
    let zero = r#"{"peer":"go","bench":"matmult","procs":1,"rounds":[{"n":0,"ns":5}]}"#;
    assert!(matches!(child::parse(zero, "matmult", 1), Err(Mismatch(_))));
}

#[test]
fn child_line_round_trips() {
    let m = Measurement {
        ramp: harness::measure::ramp::Ramp {
            rounds: vec![Round {
                n: 7,
                elapsed: Duration::from_nanos(70),
            }],
        },
        counters: [("x".to_string(), 1)].into(),
        latencies: Default::default(),
        starved: true,
        memory: None,
        method: None,
    };
    let line = child::Line::of("may", "", "ping-pong-hog", 1, &m);
    let (back, m2) = child::parse(&line.to_json(), "ping-pong-hog", 1).unwrap();
    assert_eq!(back, line);
    assert_eq!(m2.ramp, m.ramp);
    assert!(m2.starved);
}

#[test]
fn every_peer_is_listed() {
    for name in [go::NAME, may::NAME, tokio::NAME] {
        assert!(registry::peer(name).is_some(), "{name}");
    }
}

/// The Go program, or the reason there is none (printed, and the test returns).
fn go_program() -> Option<&'static go::Program> {
    match go::program() {
        Ok(p) => Some(p),
        Err(why) => {
            println!("skipped: the go peer is not available here ({why}); harness/peers/go/install.sh installs Go");
            None
        }
    }
}

#[test]
fn go_program_has_the_workloads_the_lab_expects() {
    let Some(p) = go_program() else { return };
    let out = std::process::Command::new(&p.path)
        .arg("-list")
        .output()
        .unwrap();
    assert!(out.status.success());
    let listed: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(
        listed,
        go::WORKLOADS,
        "harness/peers/go and go::WORKLOADS differ"
    );
    assert!(p.version.starts_with("go version go"), "{}", p.version);
}

#[test]
fn go_peer_measures_every_workload_it_claims() {
    let Some(_) = go_program() else { return };
    let peer = registry::peer(go::NAME).unwrap();
    for w in WORKLOADS {
        for procs in [1, 2] {
            let what = format!("go on {} at procs {procs}", w.name);
            match bounded(what.clone(), peer.measure, w, procs) {
                Ok(m) => {
                    assert!(
                        go::WORKLOADS.contains(&w.name),
                        "{what}: measured unclaimed"
                    );
                    check_measured(&what, w, &m);
                    assert!(!m.starved, "{what}: Go preempts, so nothing starves");
                    assert!(m.counters.contains_key("threads"), "{what}");
                    let mem = m.memory.unwrap_or_else(|| panic!("{what}: no memory"));
                    assert!(mem.rss_peak_bytes >= mem.rss_start_bytes, "{what}: {mem:?}");
                    if w.name.starts_with("goroutines-alive") {
                        // The group was sampled alive at once (main and the group).
                        let peak = mem.peak_goroutines.unwrap_or(0);
                        assert!(peak > w.batch, "{what}: {mem:?}");
                        assert!(mem.rss_per_goroutine_bytes.unwrap() > 0.0, "{what}");
                    }
                    if w.name == "gc-pause" {
                        assert!(m.counters["gc"] >= m.ramp.total_ops(), "{what}");
                        assert!(!m.latencies["stw_pause"].is_empty(), "{what}");
                    } else {
                        // The Go program ramps as the lab does (ramp.go ports ramp.rs): each
                        // N follows from the round before it. (gc-pause ramps on wall time and
                        // reports pauses, so only its N's are visible.)
                        for pair in m.ramp.rounds.windows(2) {
                            let mut want = predict_n(BENCHTIME, &pair[0]).min(w.max_n);
                            if pair[0].elapsed >= BENCHTIME {
                                want = want.max(round_up(w.batch)).min(w.max_n);
                            }
                            assert_eq!(pair[1].n, want, "{what}: ramp {:?}", m.ramp);
                        }
                    }
                }
                Err(Failure::NotApplicable(why)) => {
                    assert!(!go::WORKLOADS.contains(&w.name), "{what}: n/a ({why})");
                }
                Err(e) => panic!("{what}: {e}"),
            }
        }
    }
}

/// may and tokio measure every workload they claim at procs 1 and 2 (the counts are checked
/// inside each workload: chains signal once per chain, the single spawner's counter reaches 0,
/// ping-pong's value counts 2N hops, matmult's product is checked), starve on ping-pong-hog
/// (neither can preempt), and say why for the rest.
fn rust_peer_measures_every_workload_it_claims(
    name: &str,
    not_applicable: fn(&str) -> Option<&'static str>,
) {
    let peer = registry::peer(name).unwrap();
    for w in WORKLOADS {
        let claimed = not_applicable(w.name).is_none();
        for procs in [1, 2] {
            let what = format!("{name} on {} at procs {procs}", w.name);
            match bounded(what.clone(), peer.measure, w, procs) {
                Ok(m) => {
                    assert!(claimed, "{what}: measured unclaimed");
                    if w.name == "ping-pong-hog" {
                        assert!(m.starved, "{what}: no preemption, so the hog starves");
                    } else {
                        assert!(!m.starved, "{what}");
                        check_measured(&what, w, &m);
                    }
                }
                Err(Failure::NotApplicable(why)) => {
                    assert!(!claimed, "{what}: n/a ({why})");
                    assert!(!why.is_empty());
                }
                Err(e) => panic!("{what}: {e}"),
            }
        }
    }
}

#[test]
fn may_peer_measures_every_workload_it_claims() {
    // The may child is the `lab` binary cargo builds for these tests, found one folder above
    // this test binary (child::lab_binary).
    let lab = child::lab_binary().expect("the lab binary beside the tests");
    assert_eq!(lab, std::path::Path::new(env!("CARGO_BIN_EXE_lab")));
    rust_peer_measures_every_workload_it_claims(may::NAME, may::not_applicable);
}

#[test]
fn tokio_peer_measures_every_workload_it_claims() {
    rust_peer_measures_every_workload_it_claims(tokio::NAME, tokio::not_applicable);
}

#[test]
fn syscalls_and_gc_are_not_applicable_to_may_and_tokio() {
    for na in [may::not_applicable, tokio::not_applicable] {
        for w in ["syscall", "syscall-work", "syscall-block", "gc-pause"] {
            assert!(na(w).is_some(), "{w}");
        }
        if cfg!(feature = "peers") {
            for w in ["create-goroutines", "ping-pong", "matmult", "yield-many"] {
                assert_eq!(na(w), None, "{w}");
            }
        }
    }
}
