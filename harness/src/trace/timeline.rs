//! The timeline picture: a short window of each scheduler's trace, one lane per M, goroutines
//! as bars coloured by goroutine id, syscalls, sleeps and spins drawn apart, stop-the-world
//! shaded across the lanes; several schedulers one above the other in one picture, each on
//! its own axis in microseconds from the start of its window. Drawn with plotters as SVG and
//! PNG (the PNG's text in the embedded DejaVu font, as the charts').

use super::lanes::{Activity, Lanes, Seg};
use crate::output::chart::COLORS;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// The picture's width, in pixels.
const WIDTH: u32 = 1400;
/// Room for the lane names on the left, and a margin on the right.
const LEFT: i32 = 150;
const RIGHT: i32 = 24;
/// A panel's title row, a lane, the gap between lanes, the axis under the lanes.
const TITLE: i32 = 30;
const LANE: i32 = 22;
const GAP: i32 = 4;
const AXIS: i32 = 40;
/// The legend row and the footnote.
const LEGEND: i32 = 34;
const FOOT: i32 = 26;
/// A bar at least this wide carries its goroutine's name.
const LABEL_MIN: i32 = 34;

/// Goroutine colours, by goroutine id modulo their number: Tableau 10 without its grey and
/// olive, which read as the sleep and spin shades, plus four darker tones.
const G_COLORS: [RGBColor; 12] = [
    COLORS[0],
    COLORS[1],
    COLORS[2],
    COLORS[3],
    COLORS[4],
    COLORS[5],
    COLORS[6],
    COLORS[9],
    RGBColor(0, 82, 132),
    RGBColor(166, 86, 0),
    RGBColor(0, 110, 60),
    RGBColor(120, 20, 90),
];
const SLEEP: RGBColor = RGBColor(196, 196, 196);
const SPIN: RGBColor = RGBColor(240, 200, 40);
const BASELINE: RGBColor = RGBColor(110, 110, 110);
const STW: RGBColor = RGBColor(214, 39, 40);

/// The colour of goroutine `g`.
pub fn g_color(g: u64) -> RGBColor {
    G_COLORS[(g % G_COLORS.len() as u64) as usize]
}

/// A goroutine's colour, paled for its syscalls.
fn pale(c: RGBColor) -> RGBColor {
    let mix = |v: u8| (255.0 - (255.0 - v as f64) * 0.35).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// One scheduler's window.
#[derive(Clone, Debug)]
pub struct Panel {
    pub title: String,
    /// From, to: ns since the tracer started.
    pub window: (u64, u64),
    /// (M name, its activities cut to the window), in the trace's order; M's with nothing in
    /// the window are left out.
    pub lanes: Vec<(String, Vec<Seg>)>,
    /// Stop-the-world intervals cut to the window.
    pub stws: Vec<(u64, u64)>,
}

impl Panel {
    /// The panel of `lanes` over `window`.
    pub fn new(title: String, lanes: &Lanes, window: (u64, u64)) -> Panel {
        let stws: Vec<(u64, u64)> = lanes.stws.iter().map(|s| (s.start, s.end)).collect();
        Panel::cut(
            title,
            lanes.lanes.iter().map(|l| (l.name.as_str(), &l.segs[..])),
            &stws,
            window,
        )
    }

    /// The same panel over a window inside its own.
    pub fn narrowed(&self, window: (u64, u64)) -> Panel {
        Panel::cut(
            self.title.clone(),
            self.lanes.iter().map(|(n, s)| (n.as_str(), &s[..])),
            &self.stws,
            window,
        )
    }

    fn cut<'a>(
        title: String,
        lanes: impl Iterator<Item = (&'a str, &'a [Seg])>,
        stws: &[(u64, u64)],
        window: (u64, u64),
    ) -> Panel {
        let (w0, w1) = window;
        let cut = |a: u64, b: u64| (b > w0 && a < w1).then(|| (a.max(w0), b.min(w1)));
        let ls = lanes
            .filter_map(|(name, segs)| {
                let segs: Vec<Seg> = segs
                    .iter()
                    .filter_map(|s| {
                        let (start, end) = cut(s.start, s.end)?;
                        Some(Seg { start, end, ..*s })
                    })
                    .collect();
                (!segs.is_empty()).then(|| (name.to_string(), segs))
            })
            .collect();
        let stws = stws.iter().filter_map(|&(a, b)| cut(a, b)).collect();
        Panel {
            title,
            window,
            lanes: ls,
            stws,
        }
    }

    fn height(&self) -> i32 {
        TITLE + self.lanes.len().max(1) as i32 * (LANE + GAP) + AXIS
    }
}

/// The picture's size for these panels.
pub fn size(panels: &[Panel]) -> (u32, u32) {
    let h: i32 = panels.iter().map(Panel::height).sum::<i32>() + LEGEND + FOOT + 8;
    (WIDTH, h as u32)
}

/// Draws the panels into `<dir>/<stem>.svg` and `<stem>.png`, with `foot` as the footnote.
pub fn draw(dir: &Path, stem: &str, panels: &[Panel], foot: &str) -> Result<(), String> {
    crate::output::chart::register_font();
    let size = size(panels);
    let svg = dir.join(format!("{stem}.svg"));
    let root = SVGBackend::new(&svg, size).into_drawing_area();
    draw_on(&root, panels, foot)?;
    root.present().map_err(err)?;
    let png = dir.join(format!("{stem}.png"));
    let root = BitMapBackend::new(&png, size).into_drawing_area();
    draw_on(&root, panels, foot)?;
    root.present().map_err(err)
}

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// A step of 1, 2 or 5 times a power of ten, giving about `n` ticks over `span`.
pub fn tick_step(span: f64, n: f64) -> f64 {
    let raw = (span / n).max(1e-9);
    let base = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|k| k * base)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * base)
}

fn draw_on<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    panels: &[Panel],
    foot: &str,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let mut y = 4;
    for p in panels {
        draw_panel(root, p, y)?;
        y += p.height();
    }
    draw_legend(root, y)?;
    let (_, h) = root.dim_in_pixel();
    root.draw(&Text::new(
        foot.to_string(),
        (10, h as i32 - FOOT + 6),
        ("sans-serif", 13).into_font().color(&RGBColor(90, 90, 90)),
    ))
    .map_err(err)
}

fn draw_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    p: &Panel,
    top: i32,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let right = WIDTH as i32 - RIGHT;
    let (w0, w1) = p.window;
    let span = (w1 - w0).max(1) as f64;
    let px = |t: u64| LEFT + ((t.saturating_sub(w0)) as f64 / span * (right - LEFT) as f64) as i32;
    root.draw(&Text::new(
        p.title.clone(),
        (10, top + 6),
        ("sans-serif", 16).into_font().color(&BLACK),
    ))
    .map_err(err)?;
    let lanes_top = top + TITLE;
    let lanes_bottom = lanes_top + p.lanes.len().max(1) as i32 * (LANE + GAP);
    if p.lanes.is_empty() {
        root.draw(&Text::new(
            "no events in this window",
            (LEFT + 8, lanes_top + 4),
            ("sans-serif", 13).into_font().color(&BASELINE),
        ))
        .map_err(err)?;
    }
    for (i, (name, segs)) in p.lanes.iter().enumerate() {
        let y0 = lanes_top + i as i32 * (LANE + GAP);
        let y1 = y0 + LANE;
        let mid = (y0 + y1) / 2;
        root.draw(&Text::new(
            name.clone(),
            (LEFT - 8, mid),
            ("sans-serif", 13)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Right, VPos::Center)),
        ))
        .map_err(err)?;
        // The M exists from its first known activity on: a thin line is the scheduler. Not
        // for sysmon, whose usleeps are no events: its lane shows only what it recorded.
        let sysmon = name.contains("sysmon");
        if let (Some(a), Some(b), false) = (
            segs.iter().find(|s| s.what != Activity::Unknown),
            segs.last(),
            sysmon,
        ) {
            root.draw(&Rectangle::new(
                [(px(a.start), mid - 1), (px(b.end), mid + 1)],
                BASELINE.filled(),
            ))
            .map_err(err)?;
        }
        for s in segs {
            let (x0, x1) = (px(s.start), px(s.end).max(px(s.start) + 1));
            let bar =
                |c: RGBColor, h: i32| Rectangle::new([(x0, mid - h), (x1, mid + h)], c.filled());
            match s.what {
                Activity::Running => {
                    root.draw(&bar(g_color(s.g), LANE / 2)).map_err(err)?;
                    if x1 - x0 >= LABEL_MIN {
                        root.draw(&Text::new(
                            format!("G{}", s.g),
                            ((x0 + x1) / 2, mid),
                            ("sans-serif", 11)
                                .into_font()
                                .color(&WHITE)
                                .pos(Pos::new(HPos::Center, VPos::Center)),
                        ))
                        .map_err(err)?;
                    }
                }
                Activity::Syscall => {
                    root.draw(&bar(pale(g_color(s.g)), LANE / 2)).map_err(err)?;
                    root.draw(&Rectangle::new(
                        [(x0, y1 - 3), (x1, y1)],
                        g_color(s.g).filled(),
                    ))
                    .map_err(err)?;
                }
                Activity::Asleep => root.draw(&bar(SLEEP, LANE / 3)).map_err(err)?,
                Activity::Spinning => root.draw(&bar(SPIN, LANE / 4)).map_err(err)?,
                Activity::Sched | Activity::Unknown => {}
            }
        }
    }
    for &(a, b) in &p.stws {
        root.draw(&Rectangle::new(
            [(px(a), lanes_top - 2), (px(b).max(px(a) + 1), lanes_bottom)],
            STW.mix(0.18).filled(),
        ))
        .map_err(err)?;
    }
    // The axis: microseconds from the window's start.
    let axis_y = lanes_bottom + 2;
    root.draw(&PathElement::new(
        vec![(LEFT, axis_y), (right, axis_y)],
        BLACK.stroke_width(1),
    ))
    .map_err(err)?;
    let span_us = span / 1000.0;
    let step = tick_step(span_us, 10.0);
    let mut k = 0.0;
    while k <= span_us + 1e-9 {
        let x = LEFT + (k / span_us * (right - LEFT) as f64) as i32;
        root.draw(&PathElement::new(
            vec![(x, axis_y), (x, axis_y + 5)],
            BLACK.stroke_width(1),
        ))
        .map_err(err)?;
        let label = if step >= 1.0 {
            format!("{k:.0}")
        } else {
            format!("{k:.2}")
        };
        root.draw(&Text::new(
            label,
            (x, axis_y + 7),
            ("sans-serif", 12)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(err)?;
        k += step;
    }
    root.draw(&Text::new(
        format!("µs from {:.1} µs into the trace", w0 as f64 / 1000.0),
        (right, axis_y + 22),
        ("sans-serif", 12)
            .into_font()
            .color(&BASELINE)
            .pos(Pos::new(HPos::Right, VPos::Top)),
    ))
    .map_err(err)?;
    Ok(())
}

fn draw_legend<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, top: i32) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let mid = top + LEGEND / 2;
    let mut x = LEFT;
    let font = ("sans-serif", 13).into_font().color(&BLACK);
    let item = |x: &mut i32, label: &str, draw: &dyn Fn(i32) -> Result<(), String>| {
        draw(*x)?;
        root.draw(&Text::new(
            label.to_string(),
            (*x + 30, mid),
            font.pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(err)?;
        *x += 30 + 9 * label.chars().count() as i32 + 24;
        Ok::<(), String>(())
    };
    let h = LANE / 2;
    item(&mut x, "running (a colour per goroutine)", &|x| {
        for (k, g) in [1u64, 2, 3].iter().enumerate() {
            let x = x + 8 * k as i32;
            root.draw(&Rectangle::new(
                [(x, mid - h), (x + 8, mid + h)],
                g_color(*g).filled(),
            ))
            .map_err(err)?;
        }
        Ok(())
    })?;
    item(&mut x, "in a syscall", &|x| {
        root.draw(&Rectangle::new(
            [(x, mid - h), (x + 24, mid + h)],
            pale(g_color(1)).filled(),
        ))
        .map_err(err)?;
        root.draw(&Rectangle::new(
            [(x, mid + h - 3), (x + 24, mid + h)],
            g_color(1).filled(),
        ))
        .map_err(err)
    })?;
    item(&mut x, "in the scheduler", &|x| {
        root.draw(&Rectangle::new(
            [(x, mid - 1), (x + 24, mid + 1)],
            BASELINE.filled(),
        ))
        .map_err(err)
    })?;
    item(&mut x, "spinning", &|x| {
        root.draw(&Rectangle::new(
            [(x, mid - LANE / 4), (x + 24, mid + LANE / 4)],
            SPIN.filled(),
        ))
        .map_err(err)
    })?;
    item(&mut x, "asleep", &|x| {
        root.draw(&Rectangle::new(
            [(x, mid - LANE / 3), (x + 24, mid + LANE / 3)],
            SLEEP.filled(),
        ))
        .map_err(err)
    })?;
    item(&mut x, "stop the world", &|x| {
        root.draw(&Rectangle::new(
            [(x, mid - h), (x + 24, mid + h)],
            STW.mix(0.18).filled(),
        ))
        .map_err(err)
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::testing::{ev, m_trace, trace};
    use schedcore::trace::Ev;

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(200.0, 10.0), 20.0);
        assert_eq!(tick_step(37.0, 10.0), 5.0);
        assert!((tick_step(1.0, 10.0) - 0.1).abs() < 1e-12);
    }

    #[test]
    fn a_panel_cuts_to_its_window_and_drops_empty_lanes() {
        let t = trace(vec![
            m_trace(
                0,
                0,
                vec![
                    ev(0, Ev::GoStart, 1, 0),
                    ev(100, Ev::StwStart, 0, 0),
                    ev(150, Ev::StwDone, 0, 0),
                    ev(300, Ev::GoEnd, 1, 0),
                ],
            ),
            m_trace(
                1,
                0,
                vec![ev(400, Ev::GoStart, 2, 0), ev(500, Ev::GoEnd, 2, 0)],
            ),
        ]);
        let lanes = Lanes::build(&t);
        let p = Panel::new("t".into(), &lanes, (50, 320));
        assert_eq!(p.lanes.len(), 1);
        let segs = &p.lanes[0].1;
        assert_eq!(
            (segs[0].start, segs[0].end, segs[0].what),
            (50, 300, Activity::Running)
        );
        assert_eq!(segs.last().unwrap().end, 320);
        assert_eq!(p.stws, vec![(100, 150)]);
        let q = p.narrowed((60, 200));
        assert_eq!(
            (q.lanes[0].1[0].start, q.lanes[0].1.last().unwrap().end),
            (60, 200)
        );
        assert_eq!(q.stws, vec![(100, 150)]);
        assert!(p.narrowed((310, 320)).stws.is_empty());
    }

    #[test]
    fn draws_svg_and_png() {
        let t = trace(vec![m_trace(
            0,
            0,
            vec![
                ev(0, Ev::GoStart, 1, 0),
                ev(50_000, Ev::GoSysCall, 1, 1),
                ev(80_000, Ev::GoSysExit, 1, 1),
                ev(120_000, Ev::GoBlock, 1, 0),
                ev(130_000, Ev::SpinStart, 0, 0),
                ev(140_000, Ev::SpinStop, 0, 0),
                ev(150_000, Ev::MSleep, 0, 0),
                ev(200_000, Ev::MWake, 0, 0),
            ],
        )]);
        let lanes = Lanes::build(&t);
        let panels = vec![
            Panel::new("one".into(), &lanes, (0, 200_000)),
            Panel::new("two".into(), &lanes, (300_000, 400_000)),
        ];
        let dir = tempfile::tempdir().unwrap();
        draw(dir.path(), "timeline", &panels, "foot").unwrap();
        let svg = std::fs::read_to_string(dir.path().join("timeline.svg")).unwrap();
        assert!(svg.contains("G1") && svg.contains("no events in this window"));
        let png = std::fs::read(dir.path().join("timeline.png")).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        assert_eq!(
            size(&panels).1 as i32,
            panels[0].height() + panels[1].height() + LEGEND + FOOT + 8
        );
    }
}
