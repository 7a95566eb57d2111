//! What `lab fidelity` writes: its tables (the summary, the seed's table, port/real per cell,
//! the shapes, the release deltas) built once as cells and printed as text (the terminal and
//! summary.md) or HTML (report.html, with a chart per workload).

use crate::measure::fidelity::{Fidelity, Figure, PAIRS, SHAPE_TOLERANCE, STEPS};
use crate::measure::stats::ALPHA;
use crate::output::benchfmt::{format_ns, row_name};
use crate::output::chart::Chart;
use crate::output::html::{self, esc};
use crate::output::machine::Machine;
use crate::output::results::Results;
use crate::output::table::{self, align};
use crate::subjects::history::profile::Subsystem;
use std::fmt::Write;

/// A table: a title, a note under it, a header and rows of text cells.
pub struct Table {
    pub id: &'static str,
    pub title: String,
    pub note: String,
    pub head: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// As text: the title, the aligned cells, the note.
    pub fn text(&self) -> String {
        let mut lines = vec![self.head.clone()];
        lines.extend(self.rows.iter().cloned());
        let mut s = format!("{}\n{}", self.title, align(&lines));
        if !self.note.is_empty() {
            let _ = writeln!(s, "{}", self.note);
        }
        s
    }

    /// As a sortable HTML table.
    pub fn html(&self) -> String {
        let mut s = format!(
            "<h2 id=\"{}\">{}</h2>\n<div class=\"scroll\"><table class=\"sortable\">\n<thead><tr>",
            self.id,
            esc(&self.title)
        );
        for h in &self.head {
            let _ = write!(s, "<th>{}</th>", esc(h));
        }
        s.push_str("</tr></thead>\n<tbody>\n");
        for r in &self.rows {
            s.push_str("<tr>");
            for (j, c) in r.iter().enumerate() {
                let class = if j == 0 { "" } else { " class=\"num\"" };
                let _ = write!(s, "<td{class}>{}</td>", esc(c));
            }
            s.push_str("</tr>\n");
        }
        s.push_str("</tbody></table></div>\n");
        if !self.note.is_empty() {
            let _ = writeln!(s, "<p class=\"note\">{}</p>", esc(&self.note));
        }
        s
    }
}

fn fig(f: &Figure) -> String {
    if f.runs > 1 {
        format!("{} ±{:.0}%", format_ns(f.median), f.spread() * 100.0)
    } else {
        format_ns(f.median)
    }
}

fn pct(x: f64) -> String {
    format!("{:+.0}%", x * 100.0)
}

fn p(p: Option<f64>) -> String {
    match p {
        Some(p) if p < ALPHA => format!("p={p:.3}"),
        Some(p) => format!("~ p={p:.3}"),
        None => "~".into(),
    }
}

fn pair_name(i: usize) -> String {
    let p = &PAIRS[i];
    format!("{} ({}) / {}", p.column, p.lock.name(), p.real)
}

/// The summary's lines.
pub fn summary_lines(f: &Fidelity) -> Vec<String> {
    let s = &f.summary;
    vec![
        format!("CPU: {} ({} cores)", f.cpu, f.cores),
        format!(
            "cells where the port is at or below its real ancestor: {}",
            s.at_or_below
        ),
        format!(
            "shapes (ns/op at procs N over procs 1) within ±{:.0}% of the ancestor's: {} (same direction: {})",
            SHAPE_TOLERANCE * 100.0,
            s.shapes_within,
            s.shapes_same_direction
        ),
        format!(
            "release-to-release deltas whose sign agrees with history's: {} significant on both sides ({} left out as not significant on one side or both)",
            s.deltas_agree, s.deltas_left_out
        ),
        format!(
            "history's significant release deltas that the ports reproduce (significant, same sign): {}",
            s.history_reproduced
        ),
        format!(
            "the seed's table (CL 4723042), before -> CL: signs agree on {} rows significant on both sides",
            s.seed_agree
        ),
    ]
}

/// Every table, in the order the output shows them.
pub fn tables(f: &Fidelity) -> Vec<Table> {
    let mut out = Vec::new();
    let (b, c) = (&PAIRS[0], &PAIRS[1]);
    out.push(Table {
        id: "seed",
        title: format!(
            "The seed's table, real against port ({} and {} on {})",
            b.column,
            c.column,
            b.lock.name()
        ),
        note: if f.seed.is_empty() {
            "(no row: the run measured neither syscall nor syscall-work on the July-2011 pair)"
                .into()
        } else {
            format!(
                "real: the July-2011 trees either side of CL 4723042 ({} with the CL's benchmark added, {}); delta: CL over before, with the Mann-Whitney p of the runs",
                b.real, c.real
            )
        },
        head: [
            "benchmark",
            "real before",
            "real CL",
            "delta",
            "p",
            b.column,
            c.column,
            "delta",
            "p",
        ]
        .map(String::from)
        .to_vec(),
        rows: f
            .seed
            .iter()
            .map(|s| {
                vec![
                    row_name(&s.go_name, s.procs),
                    fig(&s.real_before),
                    fig(&s.real_cl),
                    pct(s.real_delta),
                    p(s.real_p),
                    fig(&s.port_before),
                    fig(&s.port_cl),
                    pct(s.port_delta),
                    p(s.port_p),
                ]
            })
            .collect(),
    });
    out.push(Table {
        id: "cells",
        title: "Port against real, per cell (ns/op, medians ± the larger distance to min or max)"
            .into(),
        note: "ratio: port over real; at or below 1 the port is as fast as its ancestor or faster. how: the real figure's way, the release's own runtime benchmark (go test) or the lab's go program built by it".into(),
        head: ["benchmark", "pair", "port", "real", "ratio", "p", "how (real)"]
            .map(String::from)
            .to_vec(),
        rows: f
            .cells
            .iter()
            .map(|c| {
                vec![
                    row_name(&c.go_name, c.procs),
                    pair_name(c.pair),
                    fig(&c.port),
                    fig(&c.real),
                    format!("{:.2}", c.ratio),
                    p(c.p_value),
                    match c.real_method.as_deref() {
                        Some(m) if m.contains("own runtime benchmark") => "go test".into(),
                        Some(_) => "program".into(),
                        None => String::new(),
                    },
                ]
            })
            .collect(),
    });
    out.push(Table {
        id: "shapes",
        title: "Shapes: ns/op at procs N over procs 1, port beside real".into(),
        note: format!(
            "within: the port's shape within ±{:.0}% of the real one's; direction: both up, both down, or both within 5% of flat",
            SHAPE_TOLERANCE * 100.0
        ),
        head: ["benchmark", "pair", "port", "real", "within", "direction"]
            .map(String::from)
            .to_vec(),
        rows: f
            .shapes
            .iter()
            .map(|s| {
                vec![
                    row_name(&s.go_name, s.procs),
                    pair_name(s.pair),
                    format!("{:.2}", s.port),
                    format!("{:.2}", s.real),
                    if s.within { "yes" } else { "no" }.into(),
                    if s.same_direction { "same" } else { "differs" }.into(),
                ]
            })
            .collect(),
    });
    out.push(Table {
        id: "deltas",
        title: "Release to release: the ports' delta beside history's".into(),
        note: format!(
            "a sign counts only where the delta is significant on both sides (Mann-Whitney p < {ALPHA}); `~` marks a side where it is not"
        ),
        head: ["benchmark", "ports", "delta", "p", "releases", "delta", "p", "signs"]
            .map(String::from)
            .to_vec(),
        rows: f
            .deltas
            .iter()
            .map(|d| {
                let s = &STEPS[d.step];
                vec![
                    row_name(&d.go_name, d.procs),
                    s.port_name(),
                    pct(d.port),
                    p(d.port_p),
                    s.real_name(),
                    pct(d.real),
                    p(d.real_p),
                    match d.agree {
                        Some(true) => "agree".into(),
                        Some(false) => "DISAGREE".into(),
                        None => "~".into(),
                    },
                ]
            })
            .collect(),
    });
    if !f.splits.is_empty() {
        let mut head = vec!["benchmark".to_string(), "releases".to_string()];
        head.extend(Subsystem::ALL.iter().map(|s| s.name().to_string()));
        head.extend(["real".to_string(), "ports".to_string()]);
        out.push(Table {
            id: "splits",
            title: "Release deltas split by runtime subsystem (ns/op; perf, one run of each release)".into(),
            note: "each cell: the subsystem's ns/op in the later release less the earlier one's (its share of the perf samples times the profiled run's ns/op); real: the profiled runs' change; ports: the change of the ports' medians in the main run".into(),
            head,
            rows: f
                .splits
                .iter()
                .map(|sp| {
                    let mut r = vec![
                        row_name(&sp.go_name, sp.procs),
                        STEPS[sp.step].real_name(),
                    ];
                    r.extend(Subsystem::ALL.iter().map(|&s| format!("{:+.0}", sp.delta(s))));
                    r.push(format!("{:+.0}", sp.to.ns_per_op - sp.from.ns_per_op));
                    r.push(sp.port_ns.map_or(String::new(), |d| format!("{d:+.0}")));
                    r
                })
                .collect(),
        });
    }
    out
}

/// The pairs, a line each.
fn pair_lines() -> Vec<String> {
    PAIRS
        .iter()
        .map(|p| {
            format!(
                "{} on {} against {}: {}",
                p.column,
                p.lock.name(),
                p.real,
                p.what
            )
        })
        .collect()
}

/// What the terminal prints: the summary, the seed's table first, then the rest.
pub fn render_text(f: &Fidelity) -> String {
    let mut s = String::from("fidelity: each port against its real ancestor\n");
    for l in summary_lines(f) {
        let _ = writeln!(s, "  {l}");
    }
    for t in tables(f) {
        let _ = write!(s, "\n{}", t.text());
    }
    if !f.left_out.is_empty() {
        s.push_str("\nleft out (no pair shares them):\n");
        for (b, why) in &f.left_out {
            let _ = writeln!(s, "  {b}: {why}");
        }
    }
    s.push_str("\npairs:\n");
    for l in pair_lines() {
        let _ = writeln!(s, "  {l}");
    }
    s
}

/// summary.md.
pub fn render_md(f: &Fidelity, res: &Results, machine: &Machine, charts: &[Chart]) -> String {
    let mut s = format!("# Fidelity run {} ({})\n\n", res.started, res.label);
    let _ = writeln!(s, "- command: `{}`", res.command);
    let _ = writeln!(
        s,
        "- machine: {}",
        crate::output::chart::machine_line(machine)
    );
    let _ = writeln!(
        s,
        "- benchtime {}, count {}",
        humantime::format_duration(std::time::Duration::from_nanos(res.benchtime_ns)),
        res.count
    );
    for l in summary_lines(f) {
        let _ = writeln!(s, "- {l}");
    }
    let _ = writeln!(s, "\n## Pairs\n");
    for l in pair_lines() {
        let _ = writeln!(s, "- {l}");
    }
    for t in tables(f) {
        let _ = writeln!(s, "\n## {}\n\n```text\n{}```", t.title, t.text());
    }
    let _ = writeln!(s, "\n## Every column\n\n```text\n{}```", table::render(res));
    for c in charts {
        let _ = writeln!(s, "\n![{}]({})", c.title, c.svg());
    }
    s
}

/// report.html: the summary, every table, a chart per workload, the whole table of the run.
pub fn render_html(
    f: &Fidelity,
    res: &Results,
    machine: &Machine,
    charts: &[(&Chart, &str)],
) -> String {
    let mut b = format!(
        "<h1>Fidelity run {} <span class=\"note\">({})</span></h1>\n",
        esc(&res.started),
        esc(&res.label)
    );
    let mut facts = html::machine_facts(&res.command, machine);
    facts.push((
        "runs",
        format!(
            "benchtime {}, count {}, interleaved",
            humantime::format_duration(std::time::Duration::from_nanos(res.benchtime_ns)),
            res.count
        ),
    ));
    for (peer, version) in &machine.peers {
        facts.push(("release", format!("{}: {}", esc(peer), esc(version))));
    }
    b.push_str(&html::facts(&facts));
    b.push_str("<h2 id=\"summary\">Summary</h2>\n<ul>\n");
    for l in summary_lines(f) {
        let _ = writeln!(b, "<li>{}</li>", esc(&l));
    }
    b.push_str("</ul>\n<h3>Pairs</h3>\n<ul>\n");
    for l in pair_lines() {
        let _ = writeln!(b, "<li>{}</li>", esc(&l));
    }
    b.push_str("</ul>\n");
    for t in tables(f) {
        b.push_str(&t.html());
    }
    if !charts.is_empty() {
        b.push_str(
            "<h2 id=\"charts\">Each workload: ports (solid) and their ancestors (dashed)</h2>\n<div class=\"charts\">\n",
        );
        for (c, svg) in charts {
            let _ = writeln!(
                b,
                "<figure data-chart=\"{}\">\n{}\n<figcaption>{}</figcaption>\n</figure>",
                esc(&c.svg()),
                html::inline_svg(svg),
                esc(&c.title)
            );
        }
        b.push_str("</div>\n");
    }
    let _ = writeln!(
        b,
        "<h2 id=\"all\">Every column</h2>\n<pre>{}</pre>",
        esc(&table::render(res))
    );
    let _ = writeln!(
        b,
        "<p class=\"note\">Written by <code>lab fidelity</code>. Beside it: fidelity.json (every figure above), results.json and results.csv (every row), bench.txt (benchstat), machine.json, command.txt, summary.md.</p>"
    );
    html::page(
        &format!("lab: fidelity {} ({})", res.started, res.label),
        &b,
    )
}
