//! report.html and `lab report`, read the way a browser reads them: the pages are parsed as
//! HTML (scraper, html5ever's parser) and checked for their parts: every chart summary.md
//! lists as one inline SVG, every row of the table, the machine and the command, no address
//! that a browser would fetch; and across two runs, both column groups and the marks. A
//! `lab trace` folder's report.html likewise: the timeline inline, a row and a section per
//! traced scheduler, the figures of figures.json.

use harness::output::benchfmt::row_name;
use harness::output::results::Results;
use scraper::{Html, Selector};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn lab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lab"))
        .args(args)
        .output()
        .expect("run lab")
}

fn ok(args: &[&str]) -> Output {
    let o = lab(args);
    assert!(
        o.status.success(),
        "lab {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

/// A small real run: 2013 and 2014 on create-goroutines, into a folder of `out`.
fn small_run(out: &Path, label: &str, procs: &str, benchtime: &str) -> PathBuf {
    ok(&[
        "compare",
        "--sched",
        "2013,2014",
        "--bench",
        "create-goroutines",
        "--procs",
        procs,
        "--count",
        "1",
        "--benchtime",
        benchtime,
        "--quiet",
        "--label",
        label,
        "--out",
        out.to_str().unwrap(),
    ]);
    let dirs: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().ends_with(label))
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

fn results(dir: &Path) -> Results {
    serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap()
}

/// Nothing a browser would fetch: no URL at all, no `src`, no style sheet or font linked.
fn assert_self_contained(html: &str, doc: &Html) {
    let lower = html.to_ascii_lowercase();
    for needle in ["http:", "https:", "//www.", "url(", "@import"] {
        assert!(!lower.contains(needle), "the page holds {needle:?}");
    }
    assert_eq!(
        doc.select(&sel("[src], link, iframe, object, embed"))
            .count(),
        0
    );
    for script in doc.select(&sel("script")) {
        assert!(script.value().attr("src").is_none());
    }
}

#[test]
fn compare_writes_a_self_contained_report() {
    let out = tempfile::tempdir().unwrap();
    let dir = small_run(out.path(), "report", "1", "5ms");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let doc = Html::parse_document(&html);
    assert_self_contained(&html, &doc);
    let res = results(&dir);

    // The command and the machine.
    let text: String = doc.root_element().text().collect();
    assert!(text.contains(&res.command), "no command");
    assert!(text.contains(&res.machine.cpu_model), "no CPU");
    assert!(text.contains(&res.machine.kernel), "no kernel");

    // One inline SVG per chart file that summary.md lists, in a figure named after it.
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    let listed: Vec<&str> = summary
        .split("](")
        .skip(1)
        .filter_map(|s| s.split_once(')').map(|(f, _)| f))
        .filter(|f| f.ends_with(".svg"))
        .collect();
    assert!(listed.len() >= 2, "summary.md lists {listed:?}");
    for f in &listed {
        let figs: Vec<_> = doc
            .select(&sel(&format!("figure[data-chart=\"{f}\"]")))
            .collect();
        assert_eq!(figs.len(), 1, "{f}");
        assert_eq!(figs[0].select(&sel("svg")).count(), 1, "{f}");
        assert!(
            figs[0].select(&sel("svg text")).count() > 3,
            "{f} has no text"
        );
    }
    assert_eq!(doc.select(&sel("svg")).count(), listed.len());

    // Every row of the table: its name, a ns/op cell per column, the delta `~` and pale.
    let rows: Vec<_> = doc.select(&sel("table#runs tbody tr")).collect();
    let mut keys: Vec<(String, usize)> = res
        .rows
        .iter()
        .map(|r| (row_name(&r.go_name, r.procs), r.procs))
        .collect();
    keys.dedup();
    assert_eq!(rows.len(), keys.len());
    for ((name, _), tr) in keys.iter().zip(&rows) {
        let cells: Vec<String> = tr
            .select(&sel("td"))
            .map(|td| td.text().collect::<String>())
            .collect();
        assert_eq!(cells[0], *name);
        assert_eq!(cells.len(), 1 + 2 * res.columns.len() - 1, "{cells:?}");
        assert!(cells[1].parse::<f64>().is_ok(), "{cells:?}");
        // One run a column: the delta cannot be significant.
        assert!(cells[3].starts_with('~'), "{cells:?}");
    }
    assert!(doc.select(&sel("table#runs td.ns")).count() >= 1);
    let heads: Vec<String> = doc
        .select(&sel("table#runs thead th"))
        .map(|th| th.text().collect())
        .collect();
    assert_eq!(heads, ["benchmark", "2013 ns/op", "2014 ns/op", "delta"]);
    // The controls that filter the table, and the scheduler list has every column.
    assert_eq!(doc.select(&sel("input#filter-bench")).count(), 1);
    let opts: Vec<String> = doc
        .select(&sel("select#filter-sched option"))
        .map(|o| o.text().collect())
        .collect();
    assert_eq!(opts, ["all", "2013", "2014"]);

    // The counters that explain the figure, where the run has any.
    let any = res.rows.iter().any(|r| {
        harness::output::report::EXPLAINING
            .iter()
            .any(|n| r.counters_per_op.get(*n).is_some_and(|v| *v > 0.0))
    });
    assert_eq!(doc.select(&sel("table.counters")).count() > 0, any);

    // lab plot redraws it from results.json, the same bytes.
    std::fs::remove_file(dir.join("report.html")).unwrap();
    let o = ok(&["plot", dir.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("report.html"));
    assert_eq!(
        std::fs::read_to_string(dir.join("report.html")).unwrap(),
        html
    );
}

/// A copy of `from` (results.json, machine.json) as run folder `name` in `out`, with the runs
/// of 2013 and 2014 at procs 1 set to five figures around `a` and `b` (apart enough for
/// p = 0.008).
fn with_runs(from: &Path, out: &Path, name: &str, a: f64, b: f64) -> PathBuf {
    let dir = out.join(name);
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(from.join("machine.json"), dir.join("machine.json")).unwrap();
    let mut res = results(from);
    for r in res.rows.iter_mut().filter(|r| r.procs == 1) {
        let m = if r.sched == "2013" { a } else { b };
        r.runs = (0..5).map(|i| m + i as f64).collect();
        r.ns_per_op = Some(m + 2.0);
        r.min = Some(m);
        r.max = Some(m + 4.0);
    }
    res.count = 5;
    std::fs::write(dir.join("results.json"), res.to_json()).unwrap();
    dir
}

/// The mark column of the page's table, by row name.
fn marks(page: &Path) -> Vec<(String, String)> {
    let html = std::fs::read_to_string(page).unwrap();
    let doc = Html::parse_document(&html);
    assert_self_contained(&html, &doc);
    doc.select(&sel("table#across tbody tr"))
        .map(|tr| {
            let cells: Vec<String> = tr.select(&sel("td")).map(|c| c.text().collect()).collect();
            (cells[0].clone(), cells.last().unwrap().clone())
        })
        .collect()
}

#[test]
fn report_puts_runs_side_by_side() {
    let out = tempfile::tempdir().unwrap();
    let a = small_run(out.path(), "one", "1", "5ms");
    let b = small_run(out.path(), "two", "1,2", "6ms");
    let page = out.path().join("across.html");
    ok(&[
        "report",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        page.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(&page).unwrap();
    let doc = Html::parse_document(&html);
    // A column group per run, named after its folder, and the group of marks.
    let groups: Vec<String> = doc
        .select(&sel("table#across thead tr:first-child th.group"))
        .map(|th| th.text().collect())
        .collect();
    assert_eq!(groups.len(), 3, "{groups:?}");
    for (g, dir) in groups.iter().zip([&a, &b]) {
        let name = dir.file_name().unwrap().to_string_lossy();
        assert!(g.starts_with(&*name), "{g:?} is not {name}");
    }
    assert_eq!(groups[2], "on every run");
    // Both rows; procs 2 only in the second run, and the benchtimes differ: both said.
    let m = marks(&page);
    let names: Vec<&str> = m.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["BenchmarkCreateGoroutines", "BenchmarkCreateGoroutines-2"]
    );
    // One run a column: nothing is significant anywhere.
    assert_eq!(m[0].1, "~");
    let items: Vec<String> = doc
        .select(&sel("li"))
        .map(|li| li.text().collect())
        .collect();
    assert!(
        items
            .iter()
            .any(|l| l.starts_with("BenchmarkCreateGoroutines-2 on 2013, 2014: only in")),
        "{items:?}"
    );
    assert!(
        items
            .iter()
            .any(|l| l.starts_with("different settings") && l.contains("benchtime 6ms")),
        "{items:?}"
    );

    // Runs made significant: faster on both, holds; faster on one and slower on the other,
    // flips; faster on one and the same on the other, some.
    let faster = with_runs(&a, out.path(), "faster", 100.0, 50.0);
    let faster2 = with_runs(&a, out.path(), "faster2", 200.0, 120.0);
    let slower = with_runs(&a, out.path(), "slower", 100.0, 150.0);
    let same = with_runs(&a, out.path(), "same", 100.0, 100.0);
    for (x, y, want) in [
        (&faster, &faster2, "holds"),
        (&faster, &slower, "flips"),
        (&faster, &same, "some"),
    ] {
        ok(&[
            "report",
            x.to_str().unwrap(),
            y.to_str().unwrap(),
            "--out",
            page.to_str().unwrap(),
        ]);
        assert_eq!(marks(&page)[0].1, want, "{x:?} {y:?}");
    }
}

/// `lab trace` on three schedulers, a short run: its report.html, parsed, against its
/// figures.json, command.txt and machine.json.
#[test]
fn trace_writes_a_self_contained_report() {
    let out = tempfile::tempdir().unwrap();
    let scheds = ["2011", "2013", "2014"];
    ok(&[
        "trace",
        "--sched",
        &scheds.join(","),
        "--bench",
        "ping-pong",
        "--procs",
        "2",
        "--benchtime",
        "1ms",
        "--json-window",
        "1ms",
        "--quiet",
        "--label",
        "trace-report",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    let dirs: Vec<PathBuf> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let dir = &dirs[0];
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let doc = Html::parse_document(&html);
    assert_self_contained(&html, &doc);
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    let figures: serde_json::Value = serde_json::from_str(&read("figures.json")).unwrap();
    let machine: harness::output::machine::Machine =
        serde_json::from_str(&read("machine.json")).unwrap();

    // The title, the workload, the command and the machine.
    let title: String = doc
        .select(&sel("head title"))
        .next()
        .unwrap()
        .text()
        .collect();
    assert!(
        title.starts_with("lab: trace of ping-pong at procs 2") && title.contains("trace-report"),
        "{title}"
    );
    let h1: String = doc.select(&sel("h1")).next().unwrap().text().collect();
    assert!(
        h1.starts_with("Trace ") && h1.contains("trace-report"),
        "{h1}"
    );
    let text: String = doc.root_element().text().collect();
    assert!(text.contains("BenchmarkPingPong"), "no workload");
    let command = read("command.txt");
    let command = command.trim();
    assert!(
        command.contains("trace --sched 2011,2013,2014"),
        "{command}"
    );
    assert!(text.contains(command), "no command");
    assert!(text.contains(&machine.cpu_model), "no CPU");
    assert!(text.contains(&machine.kernel), "no kernel");

    // The timeline, inline, the one picture of the page, with a panel per scheduler.
    let figs: Vec<_> = doc
        .select(&sel("figure[data-chart=\"timeline.svg\"]"))
        .collect();
    assert_eq!(figs.len(), 1);
    assert_eq!(figs[0].select(&sel("svg")).count(), 1);
    assert_eq!(doc.select(&sel("svg")).count(), 1);
    assert_eq!(doc.select(&sel("img")).count(), 0);
    let svg_text: String = figs[0]
        .select(&sel("svg text"))
        .flat_map(|t| t.text())
        .collect();
    for s in scheds {
        assert!(svg_text.contains(&format!("{s} (")), "no panel of {s}");
    }

    // A row per scheduler, in order, with figures.json's ns/op; the columns of the terminal's.
    let heads: Vec<String> = doc
        .select(&sel("table#schedulers-table thead th"))
        .map(|th| th.text().collect())
        .collect();
    assert_eq!(heads, harness::trace::summary::COLUMNS);
    let rows: Vec<Vec<String>> = doc
        .select(&sel("table#schedulers-table tbody tr"))
        .map(|tr| {
            tr.select(&sel("td"))
                .map(|td| td.text().collect())
                .collect()
        })
        .collect();
    let traced = figures["schedulers"].as_array().unwrap();
    assert_eq!(rows.len(), scheds.len());
    assert_eq!(traced.len(), scheds.len());
    for ((row, s), t) in rows.iter().zip(scheds).zip(traced) {
        assert_eq!(row[0], s);
        assert_eq!(row.len(), heads.len());
        let ns = |k: &str| {
            t[k].as_f64()
                .map_or("-".into(), harness::output::benchfmt::format_ns)
        };
        assert_eq!(row[1], ns("ns_per_op_untraced"), "{row:?}");
        assert_eq!(row[2], ns("ns_per_op_traced"), "{row:?}");

        // Its section: the latency table (or why there is none) and a row per M plus the total.
        let section = doc
            .select(&sel(&format!("section[data-sched=\"{s}\"]")))
            .next()
            .unwrap_or_else(|| panic!("no section for {s}"));
        let split: Vec<String> = section
            .select(&sel("table.split tbody tr td:first-child"))
            .map(|td| td.text().collect())
            .collect();
        let ms = t["figures"]["split"].as_array().unwrap();
        assert_eq!(split.len(), ms.len() + 1, "{split:?}");
        assert_eq!(split.last().unwrap(), "all but sysmon");
        let has_latency = !t["figures"]["latency"].is_null();
        assert_eq!(
            section.select(&sel("table.latency")).count(),
            has_latency as usize
        );
    }
}

#[test]
fn report_bad_input_is_one_line_and_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    std::fs::write(bad.join("results.json"), "{ not json").unwrap();
    let missing = tmp.path().join("missing");
    for (args, needle) in [
        (vec!["report"], "RUN_DIR"),
        (
            vec!["report", missing.to_str().unwrap()],
            "not a run folder",
        ),
        (vec!["report", bad.to_str().unwrap()], "results.json"),
    ] {
        let o = lab(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err:?}");
        assert!(err.contains(needle), "{args:?}: {err:?}");
        assert!(o.stdout.is_empty());
    }
}
