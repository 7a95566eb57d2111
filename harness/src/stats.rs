//! The spread of `--count` runs: median, min, max, and which run is the median one.

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
