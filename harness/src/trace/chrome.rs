//! A trace as Chrome trace-event JSON, the format Perfetto (ui.perfetto.dev) and
//! chrome://tracing open: one process per scheduler, one thread track per M (goroutine slices,
//! with their syscalls, sleeps and spins nested), one per P where the generation has P's (who
//! held it), one for stop-the-world; instant markers for the other events, and flow arrows
//! from each unblock (or create) to the start it caused. Timestamps are microseconds from the
//! start of each scheduler's window, so the schedulers line up at 0.
//!
//! Written as a stream, one scheduler at a time, so a long trace is never held as text.

use super::lanes::{Kind, Lanes};
use super::starts::Start;
use schedcore::trace::{Ev, Event, Trace};
use serde::Serialize;
use serde_json::{json, Value};
use std::io::{self, Write};

/// The thread id of the stop-the-world track.
const STW_TID: u64 = 1;
/// P `p`'s track is `P_TID + p`; M `i` (index in the trace) is `M_TID + i`.
const P_TID: u64 = 100;
const M_TID: u64 = 100_000;

/// One event of the format.
#[derive(Serialize)]
struct Ce<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    cat: &'a str,
    ph: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ts: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dur: Option<f64>,
    pid: u32,
    tid: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bp: Option<&'static str>,
    #[serde(skip_serializing_if = "Value::is_null")]
    args: Value,
}

impl<'a> Ce<'a> {
    fn new(name: &'a str, ph: &'static str, pid: u32, tid: u64) -> Ce<'a> {
        Ce {
            name,
            cat: "",
            ph,
            ts: None,
            dur: None,
            pid,
            tid,
            s: None,
            id: None,
            bp: None,
            args: Value::Null,
        }
    }
}

/// One scheduler's part of the file.
pub struct Process<'a> {
    /// The process's name in the viewer, e.g. "2013: ping-pong, procs 2".
    pub title: &'a str,
    pub trace: &'a Trace,
    pub lanes: &'a Lanes,
    pub starts: &'a [Start],
    /// What to write, in ns since the tracer started: slices are cut to it.
    pub window: (u64, u64),
}

/// A JSON file being written.
pub struct Writer<W: Write> {
    w: W,
    first: bool,
    next_flow: u64,
}

impl<W: Write> Writer<W> {
    pub fn new(mut w: W) -> io::Result<Writer<W>> {
        w.write_all(b"{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n")?;
        Ok(Writer {
            w,
            first: true,
            next_flow: 1,
        })
    }

    fn put(&mut self, e: &Ce) -> io::Result<()> {
        if !self.first {
            self.w.write_all(b",\n")?;
        }
        self.first = false;
        serde_json::to_writer(&mut self.w, e).map_err(io::Error::other)
    }

    fn meta(&mut self, what: &str, pid: u32, tid: u64, args: Value) -> io::Result<()> {
        let mut e = Ce::new(what, "M", pid, tid);
        e.args = args;
        self.put(&e)
    }

    /// Writes one scheduler as process `pid` (from 1, in the order of the picture).
    pub fn process(&mut self, pid: u32, p: &Process) -> io::Result<()> {
        let (w0, w1) = p.window;
        let us = |ts: u64| (ts.saturating_sub(w0)) as f64 / 1000.0;
        let within = |ts: u64| (w0..=w1).contains(&ts);
        let m_tid = |i: usize| M_TID + i as u64;
        self.meta("process_name", pid, 0, json!({ "name": p.title }))?;
        self.meta("process_sort_index", pid, 0, json!({ "sort_index": pid }))?;
        self.meta(
            "process_labels",
            pid,
            0,
            json!({ "labels": format!("window {:.1}..{:.1} us of the trace", w0 as f64 / 1e3, w1 as f64 / 1e3) }),
        )?;
        self.meta("thread_name", pid, STW_TID, json!({ "name": "STW" }))?;
        self.meta(
            "thread_sort_index",
            pid,
            STW_TID,
            json!({ "sort_index": 0 }),
        )?;
        if p.trace.has_ps {
            for k in 0..p.trace.procs as u64 {
                let tid = P_TID + k;
                self.meta("thread_name", pid, tid, json!({ "name": format!("P{k}") }))?;
                self.meta(
                    "thread_sort_index",
                    pid,
                    tid,
                    json!({ "sort_index": 1 + k }),
                )?;
            }
        }
        for (i, lane) in p.lanes.lanes.iter().enumerate() {
            let tid = m_tid(i);
            self.meta("thread_name", pid, tid, json!({ "name": lane.name }))?;
            self.meta(
                "thread_sort_index",
                pid,
                tid,
                json!({ "sort_index": 10_000 + i }),
            )?;
        }
        // Complete events cut to the window.
        let cut = |start: u64, end: u64| {
            let (a, b) = (start.max(w0), end.min(w1));
            (b >= a && end >= w0 && start <= w1).then_some((a, b))
        };
        for s in &p.lanes.stws {
            if let Some((a, b)) = cut(s.start, s.end) {
                let mut e = Ce::new("STW", "X", pid, STW_TID);
                e.cat = "gc";
                e.ts = Some(us(a));
                e.dur = Some((b - a) as f64 / 1000.0);
                e.args = json!({ "m": p.lanes.lanes[s.m].name });
                self.put(&e)?;
            }
        }
        if p.trace.has_ps {
            for h in &p.lanes.holds {
                if let Some((a, b)) = cut(h.start, h.end) {
                    let name = &p.lanes.lanes[h.m].name;
                    let mut e = Ce::new(name, "X", pid, P_TID + h.p);
                    e.cat = "p";
                    e.ts = Some(us(a));
                    e.dur = Some((b - a) as f64 / 1000.0);
                    self.put(&e)?;
                }
            }
        }
        for (i, lane) in p.lanes.lanes.iter().enumerate() {
            for s in &lane.slices {
                let Some((a, b)) = cut(s.start, s.end) else {
                    continue;
                };
                let gname;
                let (name, cat) = match s.kind {
                    Kind::Goroutine => {
                        gname = format!("G{}", s.g);
                        (gname.as_str(), "goroutine")
                    }
                    Kind::Syscall => ("syscall", "syscall"),
                    Kind::Sleep => ("asleep", "m"),
                    Kind::Spin => ("spinning", "m"),
                };
                let mut e = Ce::new(name, "X", pid, m_tid(i));
                e.cat = cat;
                e.ts = Some(us(a));
                e.dur = Some((b - a) as f64 / 1000.0);
                let mut args = serde_json::Map::new();
                if s.g != 0 {
                    args.insert("g".into(), json!(s.g));
                }
                if let Some(pp) = s.p {
                    args.insert("p".into(), json!(pp));
                }
                if let Some(ev) = s.end_ev {
                    args.insert("end".into(), json!(format!("{ev:?}")));
                }
                if s.cut_start || a > s.start {
                    args.insert("cut_start".into(), json!(true));
                }
                if b < s.end || (s.end_ev.is_none() && s.end == p.lanes.end) {
                    args.insert("cut_end".into(), json!(true));
                }
                if !args.is_empty() {
                    e.args = Value::Object(args);
                }
                self.put(&e)?;
            }
            for ev in p.trace.ms[i].events.iter().filter(|e| within(e.ts)) {
                if let Some((name, args)) = instant(ev) {
                    let mut e = Ce::new(name, "i", pid, m_tid(i));
                    e.cat = "event";
                    e.ts = Some(us(ev.ts));
                    e.s = Some("t");
                    e.args = args;
                    self.put(&e)?;
                }
            }
        }
        for st in p.starts.iter().filter(|s| within(s.ts)) {
            let Some(r) = st.ready else { continue };
            let name = match r.ev {
                Ev::GoUnblock => "unblock",
                Ev::GoCreate => "create",
                _ => continue,
            };
            if !within(r.ts) {
                continue;
            }
            let id = self.next_flow;
            self.next_flow += 1;
            let mut s = Ce::new(name, "s", pid, m_tid(r.m));
            s.cat = "flow";
            s.ts = Some(us(r.ts));
            s.id = Some(id);
            self.put(&s)?;
            let mut f = Ce::new(name, "f", pid, m_tid(st.m));
            f.cat = "flow";
            f.ts = Some(us(st.ts));
            f.id = Some(id);
            f.bp = Some("e");
            self.put(&f)?;
        }
        Ok(())
    }

    /// Closes the event list with `other` as the file's `otherData` and returns the writer.
    pub fn finish(mut self, other: Value) -> io::Result<W> {
        self.w.write_all(b"\n],\"otherData\":")?;
        serde_json::to_writer(&mut self.w, &other).map_err(io::Error::other)?;
        self.w.write_all(b"}\n")?;
        self.w.flush()?;
        Ok(self.w)
    }
}

/// The instant marker for an event the slices do not show, with its arguments by name.
fn instant(e: &Event) -> Option<(&'static str, Value)> {
    use Ev::*;
    Some(match e.ev {
        GoCreate => ("GoCreate", json!({ "g": e.g, "creator": e.arg })),
        GoUnblock => ("GoUnblock", json!({ "g": e.g, "waker": e.arg })),
        GoSysCall if e.arg == 0 => ("GoSysCall (slow)", json!({ "g": e.g })),
        GoSysExit if e.arg == 0 => ("GoSysExit (slow)", json!({ "g": e.g })),
        GoSysBlock => ("GoSysBlock", json!({ "g": e.g })),
        MHandoff => ("MHandoff", json!({ "g": e.g, "to_m": e.arg })),
        Steal => ("Steal", json!({ "victim_p": e.arg, "count": e.arg2 })),
        GlobPut => ("GlobPut", json!({ "count": e.arg, "g": e.g })),
        GlobGet => ("GlobGet", json!({ "count": e.arg })),
        Retake => ("Retake", json!({ "p": e.arg })),
        PreemptReq => ("PreemptReq", json!({ "g": e.g, "p": e.arg })),
        GcScanStart => ("GcScanStart", json!({ "goroutines": e.arg })),
        GcScanDone => ("GcScanDone", json!({ "words": e.arg })),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::starts::starts;
    use crate::trace::testing::{ev, m_trace, trace};

    fn write(t: &Trace, window: (u64, u64)) -> Value {
        let lanes = Lanes::build(t);
        let st = starts(t);
        let mut w = Writer::new(Vec::new()).unwrap();
        w.process(
            1,
            &Process {
                title: "test",
                trace: t,
                lanes: &lanes,
                starts: &st,
                window,
            },
        )
        .unwrap();
        let bytes = w.finish(json!({ "k": 1 })).unwrap();
        serde_json::from_slice(&bytes).expect("well-formed JSON")
    }

    fn events(v: &Value) -> &Vec<Value> {
        v["traceEvents"].as_array().unwrap()
    }

    #[test]
    fn slices_instants_flows_and_tracks() {
        let mut t = trace(vec![
            m_trace(
                0,
                0,
                vec![
                    ev(1000, Ev::GoStart, 1, 0),
                    ev(2000, Ev::GoCreate, 2, 1),
                    ev(3000, Ev::GoBlock, 1, 0),
                ],
            ),
            m_trace(
                1,
                0,
                vec![
                    ev(1000, Ev::ProcStart, 0, 1),
                    ev(2500, Ev::GoStart, 2, 1),
                    ev(2600, Ev::GoSysCall, 2, 0),
                    ev(2900, Ev::GoSysExit, 2, 1),
                    ev(4000, Ev::GoEnd, 2, 0),
                ],
            ),
        ]);
        t.procs = 2;
        let v = write(&t, (0, 4000));
        assert_eq!(v["otherData"]["k"], 1);
        let evs = events(&v);
        let named = |n: &str| evs.iter().filter(|e| e["name"] == n).collect::<Vec<_>>();
        let g2 = named("G2");
        assert_eq!(g2.len(), 1);
        assert_eq!(g2[0]["ph"], "X");
        assert_eq!(g2[0]["ts"], 2.5);
        assert_eq!(g2[0]["dur"], 1.5);
        assert_eq!(g2[0]["args"]["end"], "GoEnd");
        assert_eq!(g2[0]["args"]["p"], 1);
        let sys = named("syscall");
        assert_eq!(
            (sys[0]["ts"].as_f64(), sys[0]["dur"].as_f64()),
            (Some(2.6), Some(0.3))
        );
        assert_eq!(named("GoSysCall (slow)").len(), 1);
        assert_eq!(named("GoCreate")[0]["args"]["g"], 2);
        // The create on M0 flows to the start on M1.
        let s = evs.iter().find(|e| e["ph"] == "s").unwrap();
        let f = evs.iter().find(|e| e["ph"] == "f").unwrap();
        assert_eq!(s["id"], f["id"]);
        assert_eq!((s["ts"].as_f64(), f["ts"].as_f64()), (Some(2.0), Some(2.5)));
        assert_ne!(s["tid"], f["tid"]);
        // P1 is held by M1 to the end; P tracks are named.
        let hold = evs
            .iter()
            .find(|e| e["cat"] == "p" && e["ph"] == "X")
            .unwrap();
        assert_eq!(hold["name"], "M1");
        assert_eq!(hold["dur"], 3.0);
        let threads: Vec<&str> = evs
            .iter()
            .filter(|e| e["name"] == "thread_name")
            .map(|e| e["args"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(threads, vec!["STW", "P0", "P1", "M0", "M1"]);
    }

    #[test]
    fn a_window_cuts_slices_and_drops_what_lies_outside() {
        let t = trace(vec![m_trace(
            0,
            0,
            vec![
                ev(0, Ev::GoStart, 1, 0),
                ev(500, Ev::GoUnblock, 3, 1),
                ev(1000, Ev::GoSched, 1, 0),
                ev(2000, Ev::GoStart, 3, 0),
                ev(5000, Ev::GoEnd, 3, 0),
            ],
        )]);
        let v = write(&t, (800, 3000));
        let evs = events(&v);
        let g1 = evs.iter().find(|e| e["name"] == "G1").unwrap();
        assert_eq!(
            (g1["ts"].as_f64(), g1["dur"].as_f64()),
            (Some(0.0), Some(0.2))
        );
        assert_eq!(g1["args"]["cut_start"], true);
        let g3 = evs.iter().find(|e| e["name"] == "G3").unwrap();
        assert_eq!(
            (g3["ts"].as_f64(), g3["dur"].as_f64()),
            (Some(1.2), Some(1.0))
        );
        assert_eq!(g3["args"]["cut_end"], true);
        // The unblock lies before the window: no instant, no flow.
        assert!(evs.iter().all(|e| e["name"] != "GoUnblock"));
        assert!(evs.iter().all(|e| e["ph"] != "s" && e["ph"] != "f"));
    }
}
