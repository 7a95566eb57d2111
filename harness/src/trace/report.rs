//! `report.html` of a `lab trace` run folder: one file with nothing fetched, as a compare run's
//! ([`crate::output::report`], whose shell, escaping and style it shares through
//! [`crate::output::html`]): the command and the machine, the table of schedulers, the
//! timeline picture as inline SVG, and per scheduler what summary.md says of it (its figures'
//! span, the scheduling latency by cause, each M's time) as tables. The cells are
//! [`summary`]'s, so the page and summary.md cannot disagree.

use super::summary::{self, Header, Row};
use super::SchedTrace;
use crate::output::html::{self, esc};
use crate::output::machine::Machine;
use std::fmt::Write;
use std::path::Path;

/// When and under which label the run was made (the run folder's name).
pub struct Run<'a> {
    /// UTC, RFC 3339.
    pub started: &'a str,
    pub label: &'a str,
    pub machine: &'a Machine,
}

/// Writes `report.html` into `dir`, embedding the `timeline.svg` drawn there (by
/// [`super::timeline::draw`]).
pub fn write(dir: &Path, h: &Header, run: &Run, runs: &[SchedTrace]) -> std::io::Result<()> {
    let svg = std::fs::read_to_string(dir.join("timeline.svg"))?;
    std::fs::write(dir.join("report.html"), render(h, run, runs, &svg))
}

/// The anchor of a scheduler's section.
fn anchor(sched: &str) -> String {
    format!("sched-{}", esc(sched))
}

/// The page, with the timeline's SVG text.
pub fn render(h: &Header, run: &Run, runs: &[SchedTrace], timeline_svg: &str) -> String {
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<h1>Trace {} <span class=\"note\">({})</span></h1>",
        esc(run.started),
        esc(run.label)
    );
    let _ = writeln!(
        b,
        "<p><strong>{}</strong> <code>{}</code> at procs {}: {}</p>",
        esc(h.go_name),
        esc(h.bench),
        h.procs,
        esc(h.about)
    );
    let n = summary::notes(h);
    let mut facts = html::machine_facts(h.command, run.machine);
    facts.push(("runs", esc(&n.runs)));
    facts.push(("figures", esc(n.figures)));
    facts.push(("timeline", esc(&n.timeline)));
    facts.push((
        "trace.json",
        format!(
            "{}; open it in Perfetto (ui.perfetto.dev, \"Open trace file\": the file stays in \
             the browser) or chrome://tracing",
            esc(&n.json)
        ),
    ));
    b.push_str(&html::facts(&facts));

    b.push_str("<nav><a href=\"#schedulers\">schedulers</a><a href=\"#timeline\">timeline</a>");
    for r in runs {
        let _ = write!(b, "<a href=\"#{}\">{}</a>", anchor(&r.sched), esc(&r.sched));
    }
    b.push_str("</nav>\n");

    let _ = writeln!(b, "<h2 id=\"schedulers\">Schedulers</h2>");
    b.push_str(&schedulers_table(runs));
    let _ = writeln!(
        b,
        "<p class=\"note\">{}. Click a column's header to sort by it.</p>",
        esc(summary::COLUMNS_NOTE)
    );

    let _ = writeln!(
        b,
        "<h2 id=\"timeline\">Timeline</h2>\n<figure data-chart=\"timeline.svg\">\n{}\n\
         <figcaption>{}, one scheduler above the other, a lane per M</figcaption>\n</figure>",
        html::inline_svg(timeline_svg),
        esc(&n.timeline)
    );

    for r in runs {
        let _ = writeln!(
            b,
            "<section id=\"{}\" data-sched=\"{}\">\n<h2>{} <span class=\"note\">({} lock)</span></h2>\n<ul>",
            anchor(&r.sched),
            esc(&r.sched),
            esc(&r.sched),
            esc(&r.lock)
        );
        for line in summary::sched_lines(r) {
            let _ = writeln!(b, "<li>{}</li>", esc(&line));
        }
        b.push_str("</ul>\n<h3>Scheduling latency (runnable to running, ns)</h3>\n");
        match summary::latency_rows(r) {
            Some(rows) => b.push_str(&table("latency", &summary::LATENCY_COLUMNS, &rows)),
            None => {
                let _ = writeln!(b, "<p>{}</p>", esc(summary::NO_LATENCY));
            }
        }
        b.push_str("<h3>Each M's time</h3>\n");
        b.push_str(&table(
            "split",
            &summary::SPLIT_COLUMNS,
            &summary::split_rows(r),
        ));
        b.push_str("</section>\n");
    }
    let _ = writeln!(
        b,
        "<p class=\"note\">Written by <code>lab trace</code>. Beside it: trace.json (Chrome \
         trace-event format), timeline.svg and timeline.png, figures.json (every figure above), \
         summary.md (the same as markdown), machine.json, command.txt.</p>"
    );
    html::page(
        &format!(
            "lab: trace of {} at procs {}, {} ({})",
            h.bench, h.procs, run.started, run.label
        ),
        &b,
    )
}

/// A cell's number for sorting: the cell's text without a `%`, where that is a number.
fn sort_value(cell: &str) -> String {
    cell.trim_end_matches('%')
        .parse::<f64>()
        .map(|v| format!(" data-v=\"{v}\""))
        .unwrap_or_default()
}

/// The table of every scheduler, one row each: [`summary::row`]'s cells, sortable.
fn schedulers_table(runs: &[SchedTrace]) -> String {
    let mut s = String::from(
        "<div class=\"scroll\"><table class=\"sortable\" id=\"schedulers-table\">\n<thead><tr>",
    );
    for c in summary::COLUMNS {
        let _ = write!(s, "<th>{}</th>", esc(c));
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for r in runs {
        let cells = summary::row(r);
        let _ = write!(
            s,
            "<tr data-sched=\"{}\"><td class=\"name\"><a href=\"#{}\">{}</a></td>",
            esc(&r.sched),
            anchor(&r.sched),
            esc(&cells[0])
        );
        for c in &cells[1..] {
            let _ = write!(s, "<td class=\"num\"{}>{}</td>", sort_value(c), esc(c));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table></div>\n");
    s
}

/// One of a scheduler's smaller tables: the first column names the row, the total's in bold.
fn table(class: &str, columns: &[&str], rows: &[Row]) -> String {
    let mut s = format!("<div class=\"scroll\"><table class=\"{class}\">\n<thead><tr>");
    for c in columns {
        let _ = write!(s, "<th>{}</th>", esc(c));
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for r in rows {
        let name = if r.total {
            format!("<strong>{}</strong>", esc(&r.name))
        } else {
            esc(&r.name)
        };
        let _ = write!(s, "<tr><td class=\"name\">{name}</td>");
        for c in &r.cells {
            let _ = write!(s, "<td class=\"num\">{}</td>", esc(c));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table></div>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::sort_value;

    #[test]
    fn cells_sort_by_their_number() {
        assert_eq!(sort_value("12.5%"), " data-v=\"12.5\"");
        assert_eq!(sort_value("1.23e-5"), " data-v=\"0.0000123\"");
        assert_eq!(sort_value("-"), "");
        assert_eq!(sort_value("2013"), " data-v=\"2013\"");
    }
}
