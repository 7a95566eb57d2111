//! Two builds of the lab, compared run for run: the `lab compare --format json` outputs of an
//! old and a new binary (harness/profile/ab.sh runs them alternately), pooled per side. For
//! every combination both sides measured: the median of each pool, new over old, and the
//! table's Mann-Whitney U test on the two pools.

use crate::measure::stats::{mann_whitney_u, Spread, ALPHA};
use crate::output::results::Results;
use std::collections::BTreeMap;
use std::fmt::Write;

/// One combination (workload, procs, subject) and its pooled figures.
#[derive(Clone, Debug, PartialEq)]
pub struct Pooled {
    pub bench: String,
    pub procs: usize,
    pub sched: String,
    pub old: Vec<f64>,
    pub new: Vec<f64>,
}

impl Pooled {
    /// The medians of the two pools.
    pub fn medians(&self) -> (f64, f64) {
        let m = |v: &[f64]| Spread::of(v).map_or(f64::NAN, |s| s.median);
        (m(&self.old), m(&self.new))
    }

    /// The two-sided Mann-Whitney U p-value of new against old.
    pub fn p_value(&self) -> f64 {
        mann_whitney_u(&self.new, &self.old).unwrap_or(1.0)
    }
}

/// Every run of every row, per combination, per side; combinations only one side has are left
/// out. Ordered by workload, procs, subject.
pub fn pool(old: &[Results], new: &[Results]) -> Vec<Pooled> {
    type Key = (String, usize, String);
    let runs = |side: &[Results]| {
        let mut m: BTreeMap<Key, Vec<f64>> = BTreeMap::new();
        for row in side.iter().flat_map(|r| &r.rows) {
            let key = (row.bench.clone(), row.procs, row.sched.clone());
            m.entry(key).or_default().extend(&row.runs);
        }
        m
    };
    let (o, mut n) = (runs(old), runs(new));
    o.into_iter()
        .filter_map(|((bench, procs, sched), old)| {
            let new = n.remove(&(bench.clone(), procs, sched.clone()))?;
            (!old.is_empty() && !new.is_empty()).then_some(Pooled {
                bench,
                procs,
                sched,
                old,
                new,
            })
        })
        .collect()
}

/// The pooled table: medians, new/old, p, the runs of each side; `~` where p >= 0.05.
pub fn table(rows: &[Pooled]) -> String {
    let mut s = format!(
        "{:40} {:>10} {:>10} {:>8} {:>6}  runs\n",
        "combination", "old ns/op", "new ns/op", "new/old", "p"
    );
    for r in rows {
        let (mo, mn) = r.medians();
        let p = r.p_value();
        let name = format!("{}-{} {}", r.bench, r.procs, r.sched);
        let _ = writeln!(
            s,
            "{name:40} {:>10} {:>10} {:>8.2} {p:>6.3}  {}/{}{}",
            crate::output::benchfmt::format_ns(mo),
            crate::output::benchfmt::format_ns(mn),
            mn / mo,
            r.old.len(),
            r.new.len(),
            if p < ALPHA { "" } else { "  ~" }
        );
    }
    s.push_str("~: no significant difference (two-sided Mann-Whitney U, p >= 0.05)\n");
    s
}
