//! The spread of `--count` runs (median, min, max, which run is the median one), the
//! Mann-Whitney U test that says whether two columns differ (benchstat's), and latency
//! percentiles.

/// Median, min and max of a set of figures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// The index (in the input) of the run taken as the median one: the middle run, or for an
    /// even count the lower of the two middle runs. Its counters stand for the set.
    pub median_run: usize,
}

impl Spread {
    /// `None` for no figures. An even count's median is the mean of the two middle figures.
    pub fn of(values: &[f64]) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        let k = values.len();
        let lo = order[(k - 1) / 2];
        let hi = order[k / 2];
        Some(Spread {
            median: (values[lo] + values[hi]) / 2.0,
            min: values[order[0]],
            max: values[order[k - 1]],
            median_run: lo,
        })
    }

    /// The larger distance from the median to min or max, as a fraction of the median.
    pub fn rel_spread(&self) -> f64 {
        if self.median > 0.0 {
            (self.max - self.median).max(self.median - self.min) / self.median
        } else {
            0.0
        }
    }
}

/// The percentiles of a latency histogram, in nanoseconds, as the JSON shows them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Percentiles {
    /// How many latencies were recorded.
    pub count: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    #[serde(rename = "p99.9")]
    pub p999: u64,
    pub max: u64,
}

impl Percentiles {
    /// The percentiles of `h`; `None` when it is empty.
    pub fn of(h: &hdrhistogram::Histogram<u64>) -> Option<Percentiles> {
        (!h.is_empty()).then(|| Percentiles {
            count: h.len(),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        })
    }

    /// (label, value) in order, for tables and charts.
    pub fn labelled(&self) -> [(&'static str, u64); 5] {
        [
            ("p50", self.p50),
            ("p90", self.p90),
            ("p99", self.p99),
            ("p99.9", self.p999),
            ("max", self.max),
        ]
    }
}

/// benchstat's significance level: a delta with p at or above it is printed `~`.
pub const ALPHA: f64 = 0.05;

/// Up to this many runs in each column the p-value is exact, as in benchstat
/// (`MannWhitneyExactLimit`); above it, the normal approximation.
pub const EXACT_LIMIT: usize = 50;

/// The same when runs tie (benchstat's `MannWhitneyTiesExactLimit`).
pub const TIES_EXACT_LIMIT: usize = 25;

/// The two-sided Mann-Whitney U test of two sets of runs, as benchstat runs it on the runs of
/// two columns: the p-value of "the two come from the same distribution". `None` when either
/// set is empty.
///
/// With at most [`EXACT_LIMIT`] runs in each column ([`TIES_EXACT_LIMIT`] when some runs tie,
/// as in benchstat) the p-value is exact ([`mann_whitney_exact`]): the permutation
/// distribution of U over the pooled midranks, counted over every way of drawing `x.len()` of
/// the pooled runs. Without ties that is the exact distribution of U; with ties it is the exact
/// distribution given the ties seen (benchstat computes the same with Klotz's algorithm), so
/// ties need no approximation. Above the limits, the normal approximation with tie and
/// continuity correction ([`mann_whitney_normal`]), as benchstat.
///
/// Where benchstat returns an error (every run of both columns the same figure), this returns
/// 1: nothing tells the columns apart; benchstat prints `~` there too.
pub fn mann_whitney_u(x: &[f64], y: &[f64]) -> Option<f64> {
    let (_, ties) = doubled_midranks(x, y);
    let limit = if ties.iter().any(|&t| t > 1) {
        TIES_EXACT_LIMIT
    } else {
        EXACT_LIMIT
    };
    if x.len() <= limit && y.len() <= limit {
        mann_whitney_exact(x, y)
    } else {
        mann_whitney_normal(x, y)
    }
}

/// The smallest p-value [`mann_whitney_u`] can return for samples of `n1` and `n2` runs
/// without ties (the two fully separated): 2 / C(n1+n2, n1), at most 1. 3 runs against 3
/// give 0.1, never below [`ALPHA`]; 4 against 4 give 2/70 ≈ 0.029; 5 against 5, 2/252 ≈ 0.0079.
pub fn mann_whitney_min_p(n1: usize, n2: usize) -> f64 {
    let mut c = 1.0f64; // C(n1+n2, n1), built as a product of ratios
    for i in 1..=n1 {
        c = c * (n2 + i) as f64 / i as f64;
    }
    (2.0 / c).min(1.0)
}

/// The pooled runs' midranks, doubled so they are integers (a tie over ranks i..=j has the
/// doubled midrank i + j), x's first; and the tie sizes.
fn doubled_midranks(x: &[f64], y: &[f64]) -> (Vec<u64>, Vec<u64>) {
    let pooled: Vec<f64> = x.iter().chain(y).copied().collect();
    let mut order: Vec<usize> = (0..pooled.len()).collect();
    order.sort_by(|&a, &b| pooled[a].total_cmp(&pooled[b]));
    let mut ranks = vec![0u64; pooled.len()];
    let mut ties = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && pooled[order[j + 1]] == pooled[order[i]] {
            j += 1;
        }
        // 1-based ranks i+1 ..= j+1; doubled midrank (i+1) + (j+1).
        for &k in &order[i..=j] {
            ranks[k] = (i + j + 2) as u64;
        }
        ties.push((j - i + 1) as u64);
        i = j + 1;
    }
    (ranks, ties)
}

/// The exact two-sided p-value: the share of the C(n1+n2, n1) ways of drawing n1 of the
/// pooled midranks whose U lies at least as far from its mean n1·n2/2 as the observed U.
/// Counted with a table of rank sums (doubled, so integer: distances compare exactly), in
/// O((n1+n2) · n1 · (n1+n2)²).
///
/// benchstat doubles the lower tail instead (2·P(U ≤ min(U1, U2)), and 1 when U1 = U2). The
/// two are the same whenever the distribution of U is symmetric: always without ties, and with
/// ties whenever both columns have as many runs (the lab's case: `--count` runs each). With
/// ties and unequal counts, counting both tails keeps p at or below 1.
pub fn mann_whitney_exact(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.is_empty() || y.is_empty() {
        return None;
    }
    // The smaller sample drawn: the same p-value (U1 - mean = mean - U2), a smaller table.
    let (x, y) = if x.len() <= y.len() { (x, y) } else { (y, x) };
    let (n1, n) = (x.len(), x.len() + y.len());
    let (ranks, _) = doubled_midranks(x, y);
    // 2U = 2R - n1(n1+1), with 2R the doubled rank sum of x; the mean of 2U is n1·n2.
    let base = (n1 * (n1 + 1)) as i64;
    let mean = (n1 * (n - n1)) as i64;
    let observed: u64 = ranks[..n1].iter().sum();
    let dist = |sum: usize| (sum as i64 - base - mean).abs();
    let far = dist(observed as usize);
    let max_sum: usize = ranks.iter().map(|&r| r as usize).sum();
    // ways[k][s]: subsets of k of the runs seen so far with doubled rank sum s. f64 counts:
    // exact up to 2^53, and the ratio is all that matters beyond.
    let mut ways = vec![vec![0f64; max_sum + 1]; n1 + 1];
    ways[0][0] = 1.0;
    for (seen, &r) in ranks.iter().enumerate() {
        let r = r as usize;
        for k in (1..=n1.min(seen + 1)).rev() {
            let (lo, hi) = ways.split_at_mut(k);
            let (from, to) = (&lo[k - 1], &mut hi[0]);
            for s in (r..=max_sum).rev() {
                to[s] += from[s - r];
            }
        }
    }
    let (mut total, mut tail) = (0.0, 0.0);
    for (s, &w) in ways[n1].iter().enumerate() {
        total += w;
        if w > 0.0 && dist(s) >= far {
            tail += w;
        }
    }
    Some((tail / total).min(1.0))
}

/// The normal approximation of the two-sided p-value, with the tie correction of the variance
/// and a continuity correction of 1/2 (what benchstat uses above its exact limit).
pub fn mann_whitney_normal(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.is_empty() || y.is_empty() {
        return None;
    }
    let (n1, n2) = (x.len() as f64, y.len() as f64);
    let n = n1 + n2;
    let (ranks, ties) = doubled_midranks(x, y);
    let r1 = ranks[..x.len()].iter().sum::<u64>() as f64 / 2.0;
    let u = r1 - n1 * (n1 + 1.0) / 2.0;
    let mean = n1 * n2 / 2.0;
    let tie_sum: f64 = ties.iter().map(|&t| (t * t * t - t) as f64).sum();
    let var = n1 * n2 / 12.0 * ((n + 1.0) - tie_sum / (n * (n - 1.0)));
    if var <= 0.0 {
        return Some(1.0); // every run the same figure
    }
    let z = ((u - mean).abs() - 0.5).max(0.0) / var.sqrt();
    Some(erfc(z / std::f64::consts::SQRT_2).min(1.0))
}

/// The complementary error function, from its Chebyshev fit (Numerical Recipes' `erfcc`):
/// relative error below 1.2e-7, plenty for a p-value compared with 0.05.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}
