//! The `--procs` argument: ranges and lists of GOMAXPROCS values (`1..8`, `1,2,4,8`, `1..2,8`).

use std::fmt;

/// Why a `--procs` value was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProcsError {
    Empty,
    NotANumber(String),
    Zero,
    BackwardsRange(usize, usize),
    TooMany(usize),
}

/// No scheduler of the lab accepts more procs than this; it also keeps a typo like `1..10000`
/// from planning ten thousand runs.
pub const PROCS_LIMIT: usize = 1024;

impl fmt::Display for ProcsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProcsError::Empty => f.write_str("no procs given (expected e.g. 1..4 or 1,2,4)"),
            ProcsError::NotANumber(s) => write!(f, "{s:?} is not a number of procs"),
            ProcsError::Zero => f.write_str("procs must be at least 1, got 0"),
            ProcsError::BackwardsRange(a, b) => write!(f, "range {a}..{b} runs backwards"),
            ProcsError::TooMany(n) => {
                write!(f, "procs {n} is over the lab's limit of {PROCS_LIMIT}")
            }
        }
    }
}

impl std::error::Error for ProcsError {}

/// Parses a comma-separated list of numbers and inclusive ranges `a..b` (also `a..=b`), in the
/// order given, without duplicates.
pub fn parse_procs(s: &str) -> Result<Vec<usize>, ProcsError> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim) {
        if part.is_empty() {
            return Err(ProcsError::Empty);
        }
        let (a, b) = match part.split_once("..") {
            Some((a, b)) => {
                let b = b.strip_prefix('=').unwrap_or(b);
                (number(a)?, number(b)?)
            }
            None => {
                let n = number(part)?;
                (n, n)
            }
        };
        if a > b {
            return Err(ProcsError::BackwardsRange(a, b));
        }
        for n in a..=b {
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    Ok(out)
}

fn number(s: &str) -> Result<usize, ProcsError> {
    let s = s.trim();
    let n: usize = s
        .parse()
        .map_err(|_| ProcsError::NotANumber(s.to_string()))?;
    match n {
        0 => Err(ProcsError::Zero),
        n if n > PROCS_LIMIT => Err(ProcsError::TooMany(n)),
        n => Ok(n),
    }
}
