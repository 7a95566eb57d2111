//! The charts of a run, drawn with plotters as SVG and PNG from its results and machine: per
//! workload, ns/op against procs (one line per scheduler, peers dashed, log scale where the
//! spread needs it); the delta chart (each generation against the one before it, per procs,
//! bars in percent: the seed's delta column drawn, pale where the two columns' runs do not
//! differ significantly, as the table's `~`); latency percentiles where recorded.
//!
//! Text in SVG is left to the viewer; in PNG it is drawn with ab_glyph from the DejaVu Sans
//! font embedded in the binary (the `dejavu` crate), so nothing is asked of the system.

use crate::output::benchfmt::{format_ns, row_name};
use crate::output::machine::Machine;
use crate::output::results::{significant, Results, Row};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;
use std::sync::Once;

/// Every chart is this size, in pixels.
const SIZE: (u32, u32) = (960, 600);
/// The footnote's strip at the bottom.
const FOOT: u32 = 26;
/// Above this ratio of largest to smallest figure the ns/op axis is logarithmic.
const LOG_SPREAD: f64 = 10.0;

/// Line colors, one per column in the results' order (Tableau 10).
pub(crate) const COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// What a chart shows, for the summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    NsPerOp,
    Delta,
    /// Percentiles of the named histogram at the given procs.
    Latency {
        hist: String,
        procs: usize,
    },
}

/// A chart written into a run folder: `<stem>.svg` and `<stem>.png`.
#[derive(Clone, Debug)]
pub struct Chart {
    pub bench: String,
    pub kind: Kind,
    pub stem: String,
    pub title: String,
}

impl Chart {
    pub fn svg(&self) -> String {
        format!("{}.svg", self.stem)
    }
    pub fn png(&self) -> String {
        format!("{}.png", self.stem)
    }
    /// What it shows, in a few words (summary.md's alt text, report.html's caption).
    pub fn what(&self) -> String {
        match &self.kind {
            Kind::NsPerOp => "ns/op".to_string(),
            Kind::Delta => "delta".to_string(),
            Kind::Latency { hist, procs } => format!("{hist} latency at procs {procs}"),
        }
    }
}

type DrawResult = Result<(), String>;

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Registers the embedded font as plotters' "sans-serif", once per process.
pub(crate) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .is_err()
        {
            panic!("the embedded DejaVu Sans font does not load");
        }
    });
}

/// The machine as one line, for footnotes.
pub fn machine_line(m: &Machine) -> String {
    let commit = m
        .git_commit
        .as_deref()
        .map(|c| format!(", commit {}", &c[..c.len().min(12)]))
        .unwrap_or_default();
    format!(
        "{} ({} cores), {}, {}{}",
        m.cpu_model, m.cores, m.os, m.rustc, commit
    )
}

/// The workloads of a run, in the order of its rows.
fn benches(res: &Results) -> Vec<(&str, &str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for r in &res.rows {
        if !out.iter().any(|(b, _)| *b == r.bench) {
            out.push((&r.bench, &r.go_name));
        }
    }
    out
}

fn procs_of(res: &Results, bench: &str) -> Vec<usize> {
    let mut p: Vec<usize> = res
        .rows
        .iter()
        .filter(|r| r.bench == bench)
        .map(|r| r.procs)
        .collect();
    p.sort_unstable();
    p.dedup();
    p
}

fn find<'a>(res: &'a Results, bench: &str, sched: &str, procs: usize) -> Option<&'a Row> {
    res.rows
        .iter()
        .find(|r| r.bench == bench && r.sched == sched && r.procs == procs)
}

/// Draws every chart of `res` into `dir` (SVG and PNG), with `machine` in the footnotes, and
/// returns what was drawn, in the order the summary shows it.
pub fn draw_all(res: &Results, machine: &Machine, dir: &Path) -> Result<Vec<Chart>, String> {
    register_font();
    let foot = format!("measured on {}", machine_line(machine));
    let mut charts = Vec::new();
    for (bench, go) in benches(res) {
        let c = Chart {
            bench: bench.to_string(),
            kind: Kind::NsPerOp,
            stem: bench.to_string(),
            title: format!("{go}: ns/op against procs"),
        };
        if draw_both(dir, &c, |a| ns_chart(a, res, bench, &c.title, &foot))? {
            charts.push(c);
        }
        let c = Chart {
            bench: bench.to_string(),
            kind: Kind::Delta,
            stem: format!("{bench}-delta"),
            title: format!("{go}: each generation against the one before it"),
        };
        if draw_both(dir, &c, |a| delta_chart(a, res, bench, &c.title, &foot))? {
            charts.push(c);
        }
        let mut hists: Vec<&str> = res
            .rows
            .iter()
            .filter(|r| r.bench == bench)
            .flat_map(|r| r.latency.keys().map(String::as_str))
            .collect();
        hists.sort_unstable();
        hists.dedup();
        for hist in hists {
            for procs in procs_of(res, bench) {
                let c = Chart {
                    bench: bench.to_string(),
                    kind: Kind::Latency {
                        hist: hist.to_string(),
                        procs,
                    },
                    stem: format!("{bench}-{hist}-procs{procs}"),
                    title: format!(
                        "{}: {} latency percentiles (median run)",
                        row_name(go, procs),
                        hist.replace('_', " ")
                    ),
                };
                if draw_both(dir, &c, |a| {
                    latency_chart(a, res, bench, hist, procs, &c.title, &foot)
                })? {
                    charts.push(c);
                }
            }
        }
    }
    Ok(charts)
}

/// Draws one chart as SVG and as PNG; false (and no file) when it has nothing to show.
fn draw_both<F>(dir: &Path, c: &Chart, draw: F) -> Result<bool, String>
where
    F: Fn(&mut dyn FnMut(&mut dyn Canvas) -> DrawResult) -> Result<bool, String>,
{
    // Find out first whether there is anything to draw, without touching a file.
    if !draw(&mut |_| Ok(()))? {
        return Ok(false);
    }
    let svg = dir.join(c.svg());
    draw(&mut |canvas| canvas.svg(&svg))?;
    let png = dir.join(c.png());
    draw(&mut |canvas| canvas.png(&png))?;
    Ok(true)
}

/// A chart ready to be drawn on either backend.
trait Canvas {
    fn svg(&self, path: &Path) -> DrawResult;
    fn png(&self, path: &Path) -> DrawResult;
}

/// One drawing, generic over the backend.
trait Drawing {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static;
}

struct On<'a, D: Drawing>(&'a D);

impl<D: Drawing> Canvas for On<'_, D> {
    fn svg(&self, path: &Path) -> DrawResult {
        let root = SVGBackend::new(path, SIZE).into_drawing_area();
        self.0.draw(&root)?;
        root.present().map_err(err)
    }
    fn png(&self, path: &Path) -> DrawResult {
        let root = BitMapBackend::new(path, SIZE).into_drawing_area();
        self.0.draw(&root)?;
        root.present().map_err(err)
    }
}

/// Fills the background, writes the footnote, and returns the area above it.
fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    foot: &str,
) -> Result<DrawingArea<DB, Shift>, String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let (upper, lower) = root.split_vertically(SIZE.1 - FOOT);
    lower
        .draw(&Text::new(
            foot.to_string(),
            (10, 6),
            ("sans-serif", 13).into_font().color(&RGBColor(90, 90, 90)),
        ))
        .map_err(err)?;
    Ok(upper)
}

/// One line of the ns/op chart.
struct Line {
    name: String,
    peer: bool,
    color: RGBColor,
    points: Vec<(f64, f64)>,
}

/// Draws `lines` on `chart` (peers dashed, a dot per point) and the legend, whatever the
/// chart's coordinates (linear or log).
fn draw_lines<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    lines: &[Line],
) -> DrawResult
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for l in lines {
        let color = l.color;
        let style = color.stroke_width(2);
        let pts = l.points.clone();
        // A dashed legend mark is short, so that it reads as a dash.
        let mark = if l.peer { 8 } else { 20 };
        let legend = move |(x, y): (i32, i32)| {
            PathElement::new(vec![(x, y), (x + mark, y)], color.stroke_width(2))
        };
        if l.peer {
            chart
                .draw_series(DashedLineSeries::new(pts.clone(), 8, 5, style))
                .map_err(err)?
                .label(&l.name)
                .legend(legend);
        } else {
            chart
                .draw_series(LineSeries::new(pts.clone(), style))
                .map_err(err)?
                .label(&l.name)
                .legend(legend);
        }
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled())))
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(err)
}

struct NsChart {
    title: String,
    foot: String,
    lines: Vec<Line>,
    x: (f64, f64),
    y: (f64, f64),
    log: bool,
}

impl Drawing for NsChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let area = frame(root, &self.foot)?;
        let x_range = self.x.0..self.x.1;
        let xticks = (self.x.1 - self.x.0).round() as usize + 1;
        let int_label = |x: &f64| {
            if (x - x.round()).abs() < 1e-6 {
                format!("{x:.0}")
            } else {
                String::new()
            }
        };
        macro_rules! body {
            ($yr:expr, $ydesc:expr) => {{
                let mut chart = ChartBuilder::on(&area)
                    .caption(&self.title, ("sans-serif", 22))
                    .margin(16)
                    .x_label_area_size(44)
                    .y_label_area_size(80)
                    .build_cartesian_2d(x_range.clone(), $yr)
                    .map_err(err)?;
                chart
                    .configure_mesh()
                    .x_desc("procs (GOMAXPROCS)")
                    .y_desc($ydesc)
                    .x_labels(xticks.max(2))
                    .x_label_formatter(&int_label)
                    .y_label_formatter(&|y: &f64| format_ns(*y))
                    .draw()
                    .map_err(err)?;
                draw_lines(&mut chart, &self.lines)?;
            }};
        }
        if self.log {
            body!((self.y.0..self.y.1).log_scale(), "ns/op (log scale)");
        } else {
            body!(self.y.0..self.y.1, "ns/op");
        }
        Ok(())
    }
}

type Draw<'a> = &'a mut dyn FnMut(&mut dyn Canvas) -> DrawResult;

/// A note on a legend entry for a column without a figure at some procs.
fn gaps(res: &Results, bench: &str, sched: &str) -> String {
    let rows: Vec<&Row> = res
        .rows
        .iter()
        .filter(|r| r.bench == bench && r.sched == sched)
        .collect();
    let starved: Vec<String> = rows
        .iter()
        .filter(|r| r.starved)
        .map(|r| r.procs.to_string())
        .collect();
    if rows.iter().all(|r| r.na.is_some()) {
        " (n/a)".into()
    } else if !starved.is_empty() {
        format!(" (starved at procs {})", starved.join(","))
    } else {
        String::new()
    }
}

/// The ns/op line of column `col` on `bench` (`None` where it has no row there), dashed for
/// a peer.
fn column_line(res: &Results, bench: &str, col: &str, color: RGBColor) -> Option<Line> {
    if !res.rows.iter().any(|r| r.sched == col && r.bench == bench) {
        return None;
    }
    let points: Vec<(f64, f64)> = procs_of(res, bench)
        .iter()
        .filter_map(|&p| {
            let r = find(res, bench, col, p)?;
            Some((p as f64, r.ns_per_op?))
        })
        .collect();
    Some(Line {
        name: format!("{col}{}", gaps(res, bench, col)),
        peer: res.rows.iter().any(|r| r.sched == col && r.peer),
        color,
        points,
    })
}

fn ns_chart(
    draw: Draw,
    res: &Results,
    bench: &str,
    title: &str,
    foot: &str,
) -> Result<bool, String> {
    let lines = res
        .columns
        .iter()
        .enumerate()
        .filter_map(|(i, col)| column_line(res, bench, col, COLORS[i % COLORS.len()]))
        .collect();
    ns_lines_chart(draw, lines, &procs_of(res, bench), title, foot)
}

/// `lab fidelity`'s chart per workload: each pair of `pairs` (port column, real column) in a
/// color of its own, the port solid and its ancestor dashed (the release columns are peers).
pub fn draw_pairs(
    res: &Results,
    machine: &Machine,
    dir: &Path,
    pairs: &[(&str, &str)],
) -> Result<Vec<Chart>, String> {
    register_font();
    let foot = format!("measured on {}", machine_line(machine));
    let mut charts = Vec::new();
    for (bench, go) in benches(res) {
        let c = Chart {
            bench: bench.to_string(),
            kind: Kind::NsPerOp,
            stem: format!("{bench}-fidelity"),
            title: format!("{go}: each port (solid) and its real ancestor (dashed), ns/op"),
        };
        let lines = || {
            pairs
                .iter()
                .enumerate()
                .flat_map(|(i, (port, real))| {
                    let color = COLORS[i % COLORS.len()];
                    [port, real]
                        .into_iter()
                        .filter_map(move |col| column_line(res, bench, col, color))
                })
                .collect::<Vec<Line>>()
        };
        let procs = procs_of(res, bench);
        if draw_both(dir, &c, |a| {
            ns_lines_chart(a, lines(), &procs, &c.title, &foot)
        })? {
            charts.push(c);
        }
    }
    Ok(charts)
}

/// Draws ns/op `lines` against `procs` (log scale where they spread widely); false when there
/// is no figure.
fn ns_lines_chart(
    draw: Draw,
    lines: Vec<Line>,
    procs: &[usize],
    title: &str,
    foot: &str,
) -> Result<bool, String> {
    let ys: Vec<f64> = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .filter(|y| *y > 0.0)
        .collect();
    if ys.is_empty() {
        return Ok(false);
    }
    let lo = ys.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ys.iter().copied().fold(0.0, f64::max);
    let log = hi / lo > LOG_SPREAD;
    let y = if log {
        (lo / 1.5, hi * 1.5)
    } else {
        (0.0, hi * 1.15)
    };
    let x = (
        *procs.first().unwrap() as f64 - 0.3,
        *procs.last().unwrap() as f64 + 0.3,
    );
    let c = NsChart {
        title: title.to_string(),
        foot: foot.to_string(),
        lines,
        x,
        y,
        log,
    };
    draw(&mut On(&c))?;
    Ok(true)
}

struct Bars {
    name: String,
    color: RGBColor,
    /// (group index, percent, significant)
    values: Vec<(usize, f64, bool)>,
}

/// How much of a non-significant bar's color is kept (the rest is white).
const PALE: f64 = 0.3;

/// The pale version of `c`, for bars whose delta is not significant.
fn pale(c: RGBColor) -> RGBColor {
    let mix = |v: u8| (255.0 - (255.0 - v as f64) * PALE).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// The legend entry of the pale bars.
const PALE_LEGEND: &str = "pale: no significant difference (Mann-Whitney U, p >= 0.05)";

struct DeltaChart {
    title: String,
    foot: String,
    groups: Vec<String>,
    bars: Vec<Bars>,
    y: (f64, f64),
}

impl Drawing for DeltaChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let area = frame(root, &self.foot)?;
        let ng = self.groups.len();
        let groups = self.groups.clone();
        let label = move |x: &f64| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < groups.len() {
                groups[i as usize].clone()
            } else {
                String::new()
            }
        };
        let mut chart = ChartBuilder::on(&area)
            .caption(&self.title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(80)
            .build_cartesian_2d(-0.5..(ng as f64 - 0.5), self.y.0..self.y.1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc("procs (GOMAXPROCS)")
            .y_desc("change in ns/op (%, negative = faster)")
            .x_labels(2 * ng + 1)
            .x_label_formatter(&label)
            .y_label_formatter(&|y: &f64| format!("{y:+.0}%"))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                vec![(-0.5, 0.0), (ng as f64 - 0.5, 0.0)],
                BLACK.stroke_width(1),
            ))
            .map_err(err)?;
        let nb = self.bars.len().max(1) as f64;
        let width = 0.8 / nb;
        for (k, b) in self.bars.iter().enumerate() {
            let color = b.color;
            let x0 = |g: usize| g as f64 - 0.4 + k as f64 * width;
            let corners = |g: usize, v: f64| [(x0(g) + 0.01, 0.0), (x0(g) + width - 0.01, v)];
            chart
                .draw_series(b.values.iter().map(|&(g, v, sig)| {
                    let fill = if sig { color } else { pale(color) };
                    Rectangle::new(corners(g, v), fill.filled())
                }))
                .map_err(err)?
                .label(&b.name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled())
                });
            // A pale bar keeps an outline in its pair's color, so it stays readable.
            chart
                .draw_series(
                    b.values
                        .iter()
                        .filter(|&&(_, _, sig)| !sig)
                        .map(|&(g, v, _)| Rectangle::new(corners(g, v), color.stroke_width(1))),
                )
                .map_err(err)?;
            chart
                .draw_series(b.values.iter().map(|&(g, v, sig)| {
                    let (dy, anchor) = if v >= 0.0 {
                        (-4, VPos::Bottom)
                    } else {
                        (4, VPos::Top)
                    };
                    let style = ("sans-serif", 12)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Center, anchor));
                    let text = if sig {
                        format!("{v:+.0}%")
                    } else {
                        format!("{v:+.0}% ~")
                    };
                    EmptyElement::at((x0(g) + width / 2.0, v)) + Text::new(text, (0, dy), style)
                }))
                .map_err(err)?;
        }
        if self.bars.iter().flat_map(|b| &b.values).any(|v| !v.2) {
            let grey = RGBColor(110, 110, 110);
            chart
                .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())
                .map_err(err)?
                .label(PALE_LEGEND)
                .legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + Rectangle::new([(0, -5), (14, 5)], pale(grey).filled())
                        + Rectangle::new([(0, -5), (14, 5)], grey.stroke_width(1))
                });
        }
        chart
            .configure_series_labels()
            .label_font(("sans-serif", 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(err)?;
        Ok(())
    }
}

/// The delta chart: for each scheduler column after the first (peers left out), its change in
/// ns/op against the column before it, at each procs; pale where the two columns' runs do not
/// differ significantly (p >= 0.05, the table's `~`).
fn delta_chart(
    draw: Draw,
    res: &Results,
    bench: &str,
    title: &str,
    foot: &str,
) -> Result<bool, String> {
    let scheds: Vec<&String> = res
        .columns
        .iter()
        .filter(|c| !res.rows.iter().any(|r| r.sched == **c && r.peer))
        .collect();
    let procs = procs_of(res, bench);
    let mut bars = Vec::new();
    for (k, pair) in scheds.windows(2).enumerate() {
        let values: Vec<(usize, f64, bool)> = procs
            .iter()
            .enumerate()
            .filter_map(|(g, &p)| {
                let (b, r) = (find(res, bench, pair[0], p)?, find(res, bench, pair[1], p)?);
                let (base, v) = (b.ns_per_op?, r.ns_per_op?);
                let sig = significant(r.p_against(b));
                (base > 0.0).then(|| (g, (v - base) / base * 100.0, sig))
            })
            .collect();
        bars.push(Bars {
            name: format!("{} vs {}", pair[1], pair[0]),
            color: COLORS[(k + 1) % COLORS.len()],
            values,
        });
    }
    if bars.iter().all(|b| b.values.is_empty()) {
        return Ok(false);
    }
    let vs: Vec<f64> = bars
        .iter()
        .flat_map(|b| b.values.iter().map(|v| v.1))
        .collect();
    let lo = vs.iter().copied().fold(0.0, f64::min);
    let hi = vs.iter().copied().fold(0.0, f64::max);
    // Room above the bars for their labels and the legend.
    let pad = ((hi - lo) * 0.15).max(5.0);
    let top = hi + ((hi - lo) * 0.45).max(10.0);
    let c = DeltaChart {
        title: title.to_string(),
        foot: foot.to_string(),
        groups: procs.iter().map(|p| p.to_string()).collect(),
        bars,
        y: (lo - if lo < 0.0 { pad } else { 0.0 }, top),
    };
    draw(&mut On(&c))?;
    Ok(true)
}

const PERCENTILES: [&str; 5] = ["p50", "p90", "p99", "p99.9", "max"];

struct LatencyChart {
    title: String,
    foot: String,
    lines: Vec<Line>,
    y: (f64, f64),
}

impl Drawing for LatencyChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let area = frame(root, &self.foot)?;
        let label = |x: &f64| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && (0.0..5.0).contains(&i) {
                PERCENTILES[i as usize].to_string()
            } else {
                String::new()
            }
        };
        let mut chart = ChartBuilder::on(&area)
            .caption(&self.title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(80)
            .build_cartesian_2d(-0.3..4.3, (self.y.0..self.y.1).log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("percentile")
            .y_desc("latency (ns, log scale)")
            .x_labels(11)
            .x_label_formatter(&label)
            .y_label_formatter(&|y: &f64| format_ns(*y))
            .draw()
            .map_err(err)?;
        draw_lines(&mut chart, &self.lines)
    }
}

fn latency_chart(
    draw: Draw,
    res: &Results,
    bench: &str,
    hist: &str,
    procs: usize,
    title: &str,
    foot: &str,
) -> Result<bool, String> {
    let mut lines = Vec::new();
    for (i, col) in res.columns.iter().enumerate() {
        let Some(r) = find(res, bench, col, procs) else {
            continue;
        };
        if r.starved {
            continue;
        }
        let Some(p) = r.latency.get(hist) else {
            continue;
        };
        lines.push(Line {
            name: format!("{col} ({} samples)", p.count),
            peer: r.peer,
            color: COLORS[i % COLORS.len()],
            points: p
                .labelled()
                .iter()
                .enumerate()
                .map(|(x, (_, v))| (x as f64, (*v).max(1) as f64))
                .collect(),
        });
    }
    if lines.is_empty() {
        return Ok(false);
    }
    let ys = lines.iter().flat_map(|l| l.points.iter().map(|p| p.1));
    let lo = ys.clone().fold(f64::INFINITY, f64::min);
    let hi = ys.fold(1.0, f64::max);
    let c = LatencyChart {
        title: title.to_string(),
        foot: foot.to_string(),
        lines,
        y: (lo / 2.0, hi * 2.0),
    };
    draw(&mut On(&c))?;
    Ok(true)
}
