//! `lab trace` end to end: on every scheduler, a real run's `trace.json` is well-formed Chrome
//! trace-event JSON, every slice is closed and slices nest, every goroutine's first start is
//! preceded by its create and every start after a block by an unblock, and every flow arrow
//! goes from an event to a goroutine's start; the run folder holds the pictures, figures.json,
//! summary.md and report.html (tests/report.rs reads the page). In process, the figures of a
//! real trace hold together (every start has its cause when no ring wrapped, each M's time
//! adds up).

use harness::measure::runner::{self, Settings};
use harness::schedcore::bounded::with_timeout;
use harness::schedcore::trace::Trace;
use harness::schedcore::Scheduler;
use harness::subjects::registry::{self, SchedVisitor};
use harness::trace::{figures, lanes::Lanes, starts};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Slack for comparing microsecond timestamps printed as decimals.
const EPS: f64 = 1e-6;

/// The complete slices of one track: start, end, the event.
type Slices<'a> = Vec<(f64, f64, &'a Value)>;

/// What the checker saw, so a test can ask that there was something to check.
#[derive(Debug, Default)]
struct Seen {
    slices: usize,
    goroutine_slices: usize,
    after_block: usize,
    flows: usize,
}

fn num(e: &Value, k: &str) -> Result<f64, String> {
    e[k].as_f64()
        .filter(|x| x.is_finite())
        .ok_or_else(|| format!("no number {k} in {e}"))
}

/// Checks a Chrome trace-event file as `lab trace` writes it (see the module doc).
fn check_chrome(v: &Value) -> Result<Seen, String> {
    let evs = v["traceEvents"].as_array().ok_or("no traceEvents array")?;
    let mut seen = Seen::default();
    // (pid, tid) -> slices (ts, end, event)
    let mut tracks: HashMap<(u64, u64), Slices> = HashMap::new();
    // pid -> g -> (ts, kind) of creates and unblocks
    let mut readies: HashMap<(u64, u64), Vec<(f64, &str)>> = HashMap::new();
    let mut flows: HashMap<u64, (Option<&Value>, Option<&Value>)> = HashMap::new();
    for e in evs {
        let ph = e["ph"].as_str().ok_or_else(|| format!("no ph in {e}"))?;
        let pid = e["pid"].as_u64().ok_or_else(|| format!("no pid in {e}"))?;
        let tid = e["tid"].as_u64().ok_or_else(|| format!("no tid in {e}"))?;
        e["name"]
            .as_str()
            .ok_or_else(|| format!("no name in {e}"))?;
        match ph {
            "M" => {}
            "X" => {
                let (ts, dur) = (num(e, "ts")?, num(e, "dur")?);
                if dur < 0.0 {
                    return Err(format!("negative duration: {e}"));
                }
                tracks
                    .entry((pid, tid))
                    .or_default()
                    .push((ts, ts + dur, e));
            }
            "i" => {
                num(e, "ts")?;
                let name = e["name"].as_str().unwrap();
                if name == "GoCreate" || name == "GoUnblock" {
                    let g = e["args"]["g"]
                        .as_u64()
                        .ok_or_else(|| format!("no g: {e}"))?;
                    readies
                        .entry((pid, g))
                        .or_default()
                        .push((num(e, "ts")?, name));
                }
            }
            "s" | "f" => {
                num(e, "ts")?;
                let id = e["id"].as_u64().ok_or_else(|| format!("no id: {e}"))?;
                let slot = flows.entry(id).or_default();
                let side = if ph == "s" { &mut slot.0 } else { &mut slot.1 };
                if side.replace(e).is_some() {
                    return Err(format!("flow {id} has two {ph} ends"));
                }
            }
            other => return Err(format!("unexpected phase {other}: {e}")),
        }
    }
    // Nesting on each track; every goroutine slice ends with a stop event or at the end.
    let mut per_g: HashMap<(u64, u64), Vec<(f64, &Value)>> = HashMap::new();
    let mut starts_at: HashMap<(u64, u64), Vec<f64>> = HashMap::new();
    for ((pid, tid), slices) in &mut tracks {
        slices.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
        let mut stack: Vec<f64> = Vec::new();
        for &(ts, end, e) in slices.iter() {
            seen.slices += 1;
            while stack.last().is_some_and(|&top| top <= ts + EPS) {
                stack.pop();
            }
            if let Some(&top) = stack.last() {
                if end > top + EPS {
                    return Err(format!("slice overlaps its parent (ends {top}): {e}"));
                }
            }
            stack.push(end);
            if e["cat"] == "goroutine" {
                seen.goroutine_slices += 1;
                let a = &e["args"];
                if a["end"].is_null() && a["cut_end"] != true {
                    return Err(format!("goroutine slice never stopped: {e}"));
                }
                let g = a["g"].as_u64().ok_or_else(|| format!("no g: {e}"))?;
                per_g.entry((*pid, g)).or_default().push((ts, e));
                starts_at.entry((*pid, *tid)).or_default().push(ts);
            }
        }
    }
    // Every start preceded by its create, and by an unblock after a block.
    for ((pid, g), mut slices) in per_g {
        slices.sort_by(|a, b| a.0.total_cmp(&b.0));
        let rs = readies.get(&(pid, g)).map_or(&[][..], |v| &v[..]);
        let (first, _) = slices[0];
        if !rs
            .iter()
            .any(|&(ts, k)| k == "GoCreate" && ts <= first + EPS)
        {
            return Err(format!(
                "goroutine {g} (process {pid}) starts at {first} before its GoCreate"
            ));
        }
        for w in slices.windows(2) {
            let ((prev, pe), (ts, _)) = (w[0], w[1]);
            if pe["args"]["end"] == "GoBlock" {
                seen.after_block += 1;
                // 2011's park may record the unblock before the block it answers: after the
                // previous start is what holds.
                if !rs
                    .iter()
                    .any(|&(t, k)| k == "GoUnblock" && t >= prev - EPS && t <= ts + EPS)
                {
                    return Err(format!(
                        "goroutine {g} (process {pid}) blocked and started again at {ts} with no unblock"
                    ));
                }
            }
        }
    }
    for (id, (s, f)) in flows {
        let (s, f) = (
            s.ok_or_else(|| format!("flow {id} has no start"))?,
            f.ok_or_else(|| format!("flow {id} has no end"))?,
        );
        if num(f, "ts")? + EPS < num(s, "ts")? {
            return Err(format!("flow {id} goes back in time"));
        }
        if f["bp"] != "e" {
            return Err(format!("flow {id} does not bind to its enclosing slice"));
        }
        let key = (f["pid"].as_u64().unwrap(), f["tid"].as_u64().unwrap());
        let ts = num(f, "ts")?;
        if !starts_at
            .get(&key)
            .is_some_and(|v| v.iter().any(|&t| (t - ts).abs() < EPS))
        {
            return Err(format!("flow {id} ends where no goroutine starts"));
        }
        seen.flows += 1;
    }
    Ok(seen)
}

#[test]
fn the_checker_catches_what_it_checks() {
    let x = |name: &str, tid: u64, ts: f64, dur: f64, args: Value| serde_json::json!({"name": name, "cat": if name.starts_with('G') { "goroutine" } else { "m" }, "ph": "X", "pid": 1, "tid": tid, "ts": ts, "dur": dur, "args": args});
    let i = |name: &str, ts: f64, g: u64| serde_json::json!({"name": name, "ph": "i", "s": "t", "pid": 1, "tid": 5, "ts": ts, "args": {"g": g}});
    let file = |evs: Vec<Value>| serde_json::json!({ "traceEvents": evs });
    let good = vec![
        i("GoCreate", 0.5, 7),
        x(
            "G7",
            5,
            1.0,
            2.0,
            serde_json::json!({"g": 7, "end": "GoBlock"}),
        ),
        x("syscall", 5, 1.5, 0.5, Value::Null),
        i("GoUnblock", 3.5, 7),
        x(
            "G7",
            6,
            4.0,
            1.0,
            serde_json::json!({"g": 7, "cut_end": true}),
        ),
    ];
    let seen = check_chrome(&file(good.clone())).unwrap();
    assert_eq!(
        (seen.slices, seen.goroutine_slices, seen.after_block),
        (3, 2, 1)
    );
    let broken = |k: usize, e: Value| {
        let mut v = good.clone();
        v[k] = e;
        check_chrome(&file(v)).unwrap_err()
    };
    assert!(broken(0, i("GoUnblock", 0.5, 7)).contains("before its GoCreate"));
    assert!(broken(3, i("GoCreate", 3.5, 7)).contains("no unblock"));
    assert!(broken(2, x("syscall", 5, 1.5, 5.0, Value::Null)).contains("overlaps"));
    assert!(broken(4, x("G7", 6, 4.0, 1.0, serde_json::json!({"g": 7}))).contains("never stopped"));
    let mut v = good.clone();
    v.push(
        serde_json::json!({"name": "unblock", "ph": "s", "pid": 1, "tid": 5, "ts": 3.5, "id": 1}),
    );
    assert!(check_chrome(&file(v.clone()))
        .unwrap_err()
        .contains("no end"));
    v.push(serde_json::json!({"name": "unblock", "ph": "f", "bp": "e", "pid": 1, "tid": 6, "ts": 4.0, "id": 1}));
    assert_eq!(check_chrome(&file(v)).unwrap().flows, 1);
    assert!(check_chrome(&serde_json::json!({"nope": 1})).is_err());
}

fn lab(args: Vec<String>) -> std::process::Output {
    with_timeout(240, move || {
        Command::new(env!("CARGO_BIN_EXE_lab"))
            .args(&args)
            .output()
            .expect("run lab")
    })
}

/// `lab trace` on `sched` for a short run of `bench` with the whole trace in the JSON: the run
/// folder's files, and the JSON checked. chan-sync: its ramp goes on to at least one batch of
/// 2000 blocking exchanges whatever the first round costs. The rings keep 1 << 22 events an M
/// (pages are touched only as they fill): 2011 at procs 2 can record half a million in a run
/// whose first round was fast, and the whole trace must fit for the JSON's checks.
fn lab_trace_is_valid(sched: &str, bench: &str) {
    let out = tempfile::tempdir().unwrap();
    let args: Vec<String> = [
        "trace",
        "--sched",
        sched,
        "--bench",
        bench,
        "--procs",
        "2",
        "--benchtime",
        "1ms",
        "--json-window",
        "all",
        "--events",
        "4194304",
        "--quiet",
        "--out",
        out.path().to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let o = lab(args);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.lines().any(|l| l.starts_with(sched)), "{stdout}");
    let dirs: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
    assert_eq!(dirs.len(), 1);
    let dir = dirs[0].as_ref().unwrap().path();
    check_folder(&dir, sched);
}

fn check_folder(dir: &Path, sched: &str) {
    for f in [
        "summary.md",
        "figures.json",
        "machine.json",
        "command.txt",
        "timeline.svg",
        "report.html",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing in {}", dir.display());
    }
    let png = std::fs::read(dir.join("timeline.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(summary.contains(&format!("## {sched} (")), "{summary}");
    let figs: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("figures.json")).unwrap()).unwrap();
    let s = &figs["schedulers"][0];
    assert_eq!(s["sched"], sched);
    assert_eq!(
        s["lost"], 0,
        "the ring wrapped: raise --events in this test"
    );
    assert!(s["events"].as_u64().unwrap() > 0);
    assert_eq!(s["figures"]["starts_without_cause"], 0, "{s}");
    let text = std::fs::read_to_string(dir.join("trace.json")).unwrap();
    let v: Value = serde_json::from_str(&text).expect("trace.json is well-formed JSON");
    let seen = check_chrome(&v).unwrap_or_else(|e| panic!("{sched}: {e}"));
    assert!(seen.goroutine_slices > 1000, "{seen:?}");
    assert!(seen.after_block > 0 && seen.flows > 0, "{seen:?}");
}

/// A real trace of `S`, in process, with its figures.
struct Traced {
    bench: &'static str,
}

impl SchedVisitor for Traced {
    type Out = Trace;
    fn visit<S: Scheduler>(self) -> Trace {
        let w = registry::workload(self.bench).unwrap();
        let f = registry::workload_fn::<S>(self.bench).unwrap();
        let settings = Settings::new(2, Duration::from_millis(1));
        let t = runner::measure_traced::<S>(f, w.batch, w.max_n, &settings, Some(1 << 20))
            .unwrap_or_else(|e| panic!("{} on {}: {e}", self.bench, S::NAME));
        // The rounds lie inside the trace, in order.
        let rounds = &t.rounds_ns;
        assert_eq!(rounds.len(), t.measurement.ramp.rounds.len());
        assert!(rounds.windows(2).all(|w| w[0].1 <= w[1].0));
        let trace = t
            .trace
            .unwrap_or_else(|| panic!("{} returned no trace", S::NAME));
        assert!(rounds.last().unwrap().1 <= trace.span_ns);
        trace
    }
}

/// The figures of a real trace hold together.
fn figures_hold_together(sched: &'static str, bench: &'static str) {
    let t = with_timeout(120, move || {
        registry::with_scheduler(sched, Traced { bench }).unwrap()
    });
    t.check().unwrap_or_else(|v| panic!("{sched} {bench}: {v}"));
    assert!(
        t.ms.iter().all(|m| m.lost == 0),
        "raise the events in this test"
    );
    let lanes = Lanes::build(&t);
    let st = starts::starts(&t);
    let f = figures::compute(&t, &lanes, &st, 0, lanes.end, Some(100.0));
    assert!(f.starts > 0);
    assert_eq!(f.starts_without_cause, 0, "{sched} {bench}");
    assert!(f.handoffs <= f.unblocks && f.migrations <= f.starts);
    for (lane, m) in lanes.lanes.iter().zip(&f.split) {
        // Contiguous activities from the M's first event to the end of the trace.
        assert!(
            lane.segs.windows(2).all(|w| w[0].end == w[1].start),
            "{}",
            lane.name
        );
        let first = t.ms.iter().find(|x| x.m == lane.m).unwrap().events.first();
        let covered = first.map_or(0, |e| lanes.end - e.ts);
        assert_eq!(m.ns.total(), covered, "{}", lane.name);
        assert_eq!(m.ns.unknown, 0, "{}", lane.name);
    }
    let l = f.latency.expect("latency samples");
    assert!(l.p50 <= l.p99 && l.p99 <= l.max);
}

macro_rules! per_scheduler {
    ($($id:ident: $ty:ty, $about:literal;)*) => {
        $(
            mod $id {
                use harness::schedcore::Scheduler;
                #[test]
                fn lab_trace_json_is_valid() {
                    super::lab_trace_is_valid(<$ty>::NAME, "chan-sync");
                }
                #[test]
                fn figures_hold_together_ping_pong() {
                    super::figures_hold_together(<$ty>::NAME, "ping-pong");
                }
                #[test]
                fn figures_hold_together_syscall() {
                    super::figures_hold_together(<$ty>::NAME, "syscall");
                }
            }
        )*
    };
}
harness::for_each_scheduler!(per_scheduler);
