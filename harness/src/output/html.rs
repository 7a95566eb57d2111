//! What the lab's HTML pages share (a run's report.html, [`crate::output::report`], a trace's,
//! [`crate::trace::report`], and `lab report`'s page across runs, [`crate::output::across`]):
//! escaping, the page shell with its style sheet, the few lines of script that sort and filter
//! a table, the machine facts, and inline SVG.
//!
//! A page is one file that names no address: no font, script or picture is fetched, so it
//! opens the same from a disk, a mail attachment or a code host's raw view.

use crate::output::machine::Machine;
use std::fmt::Write;

/// `s` escaped for HTML text and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The SVG text of a chart (as plotters' SVG backend writes it) ready to sit inside HTML: the
/// XML namespace goes (an HTML parser puts `<svg>` in it anyway), so the page holds no URL.
pub fn inline_svg(svg: &str) -> String {
    let svg = svg.trim();
    let svg = match svg.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or(svg, |(_, r)| r.trim_start()),
        None => svg,
    };
    svg.replacen(r#" xmlns="http://www.w3.org/2000/svg""#, "", 1)
}

/// The style sheet: system fonts, tables with sticky headers, `~` cells pale.
const STYLE: &str = r#"
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em 2em; color: #222; max-width: 1500px; }
h1 { font-size: 1.5em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; } h3 { font-size: 1.05em; }
code, pre, td.num { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 13px; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: .6em 0; }
th, td { padding: .25em .6em; border-bottom: 1px solid #e4e4e4; }
th { background: #f3f5f8; position: sticky; top: 0; text-align: center; }
table.sortable thead tr:last-child th { cursor: pointer; }
table.sortable thead tr:last-child th:hover { background: #e3e9f2; }
td.num { text-align: right; white-space: nowrap; }
td.name { white-space: nowrap; }
th.group, td.group { border-left: 2px solid #b8c2d0; }
td.faster { color: #17632a; } td.slower { color: #a3251b; }
td.ns { color: #aaa; background: #fafafa; }
td.holds { color: #17632a; font-weight: 600; } td.flips { color: #a3251b; font-weight: 600; }
td.some { color: #8a5a00; } td.nowhere { color: #999; }
.controls { margin: .8em 0; display: flex; gap: 1.5em; align-items: center; }
.note { color: #555; font-size: .92em; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(600px, 1fr)); gap: 1em; }
figure { margin: 0; } figure svg { width: 100%; height: auto; border: 1px solid #eee; }
nav { margin: .5em 0 1em; } nav a { margin-right: 1em; color: #245; }
figcaption { color: #555; font-size: .9em; }
details { margin: .6em 0; } summary { cursor: pointer; color: #245; }
"#;

/// Sorting (click a column's header: its `data-v` numbers, else its text) and filtering (rows
/// by `data-bench`, cells by `data-s`, the scheduler or schedulers they belong to).
const SCRIPT: &str = r#"
document.querySelectorAll('table.sortable thead tr:last-child th').forEach(function (th) {
  th.addEventListener('click', function () {
    var body = th.closest('table').tBodies[0], i = th.cellIndex;
    var dir = th.dataset.dir = th.dataset.dir === 'up' ? 'down' : 'up';
    var key = function (r) { var c = r.cells[i]; if (!c) return ''; return c.dataset.v !== undefined ? parseFloat(c.dataset.v) : c.textContent; };
    Array.from(body.rows).sort(function (a, b) {
      var x = key(a), y = key(b);
      var d = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return dir === 'up' ? d : -d;
    }).forEach(function (r) { body.appendChild(r); });
  });
});
function labFilter() {
  var q = document.getElementById('filter-bench').value.toLowerCase();
  var s = document.getElementById('filter-sched').value;
  document.querySelectorAll('tr[data-bench]').forEach(function (r) { r.hidden = r.dataset.bench.toLowerCase().indexOf(q) < 0; });
  document.querySelectorAll('[data-s]').forEach(function (c) { c.hidden = s !== '' && c.dataset.s.split(' ').indexOf(s) < 0; });
}
"#;

/// The filter controls above a table: a benchmark text box and a scheduler list.
pub fn controls(scheds: &[String]) -> String {
    let mut s = String::from(
        "<div class=\"controls\"><label>benchmark <input id=\"filter-bench\" type=\"search\" \
         placeholder=\"e.g. syscall\" oninput=\"labFilter()\"></label><label>scheduler \
         <select id=\"filter-sched\" onchange=\"labFilter()\"><option value=\"\">all</option>",
    );
    for c in scheds {
        let _ = write!(s, "<option>{}</option>", esc(c));
    }
    s.push_str(
        "</select></label><span class=\"note\">click a column's header to sort by it</span></div>\n",
    );
    s
}

/// A whole page: `title` and `body` (already HTML).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n\
         <script>{SCRIPT}</script>\n</body>\n</html>\n",
        esc(title)
    )
}

/// A definition list of (term, HTML) pairs.
pub fn facts(items: &[(&str, String)]) -> String {
    let mut s = String::from("<dl class=\"facts\">\n");
    for (k, v) in items {
        let _ = writeln!(s, "<dt>{}</dt><dd>{v}</dd>", esc(k));
    }
    s.push_str("</dl>\n");
    s
}

/// The facts every page of a run opens with: the command and the machine it ran on (CPU,
/// cores, system, the rustc and commit that built the lab), as [`facts`] items.
pub fn machine_facts(command: &str, machine: &Machine) -> Vec<(&'static str, String)> {
    let commit = machine.git_commit.as_deref().unwrap_or("unknown");
    vec![
        ("command", format!("<code>{}</code>", esc(command))),
        ("CPU", esc(&machine.cpu_model)),
        ("cores", machine.cores.to_string()),
        (
            "system",
            format!(
                "{}, kernel {} ({})",
                esc(&machine.os),
                esc(&machine.kernel),
                esc(&machine.arch)
            ),
        ),
        (
            "built with",
            format!(
                "{}, commit <code>{}</code>",
                esc(&machine.rustc),
                esc(commit)
            ),
        ),
    ]
}

/// The class of a delta cell: pale when not significant, else by its direction.
pub fn delta_class(pct: f64, significant: bool) -> &'static str {
    if !significant {
        "num ns"
    } else if pct < 0.0 {
        "num faster"
    } else {
        "num slower"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_attributes() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn inline_svg_names_no_address() {
        let svg = "<?xml version=\"1.0\"?>\n<svg width=\"9\" xmlns=\"http://www.w3.org/2000/svg\">\n</svg>\n";
        assert_eq!(inline_svg(svg), "<svg width=\"9\">\n</svg>");
    }
}
