//! The process's memory as the kernel counts it (Linux's /proc): the resident set now and at
//! its peak, what the machine has available, and a run's record of both.
//!
//! The peak is process-wide: `VmHWM`, which a run resets to the current resident set when it
//! boots (writing 5 to /proc/self/clear_refs), so that it covers that run. Several runtimes
//! alive in one process at once (cargo's parallel tests) share it and reset it for each other;
//! `lab` runs one at a time.

/// A run's memory, process-wide (see the module's doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory {
    /// The resident set when the runtime booted, in bytes (VmRSS).
    pub rss_start: u64,
    /// The peak resident set from boot to teardown, in bytes (VmHWM, reset at boot).
    pub rss_peak: u64,
    /// Whether the peak could be reset at boot; if not, it is the process's since it started.
    pub peak_reset: bool,
}

impl Memory {
    /// The resident set the run added at its peak, over `goroutines` (the peak of live
    /// goroutines): what a live goroutine cost, everything of the run included.
    pub fn per_goroutine(&self, goroutines: u64) -> Option<f64> {
        (goroutines > 0)
            .then(|| self.rss_peak.saturating_sub(self.rss_start) as f64 / goroutines as f64)
    }
}

/// Started when a runtime boots, finished at its teardown.
#[derive(Debug)]
pub struct MemoryWatch {
    rss_start: Option<u64>,
    peak_reset: bool,
}

impl MemoryWatch {
    /// Resets the process's peak and reads the resident set.
    pub fn start() -> MemoryWatch {
        let peak_reset = reset_peak();
        MemoryWatch {
            rss_start: status_bytes("VmRSS:"),
            peak_reset,
        }
    }

    /// The run's memory, read before the runtime frees its stacks; `None` without /proc.
    pub fn finish(&self) -> Option<Memory> {
        Some(Memory {
            rss_start: self.rss_start?,
            rss_peak: status_bytes("VmHWM:")?,
            peak_reset: self.peak_reset,
        })
    }
}

/// Resets the process's peak resident set (VmHWM) to the current one. Returns whether it could.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The process's resident set now, in bytes.
pub fn rss() -> Option<u64> {
    status_bytes("VmRSS:")
}

/// The process's peak resident set, in bytes.
pub fn rss_peak() -> Option<u64> {
    status_bytes("VmHWM:")
}

/// The machine's MemAvailable, in bytes.
pub fn mem_available() -> Option<u64> {
    kb_field("/proc/meminfo", "MemAvailable:")
}

/// The machine's MemTotal, in bytes.
pub fn mem_total() -> Option<u64> {
    kb_field("/proc/meminfo", "MemTotal:")
}

/// Gives the allocator's free memory back to the kernel (glibc's malloc_trim), so that a run
/// that follows a larger one in the same process starts from a resident set without it.
pub fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases memory the allocator holds free.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn status_bytes(field: &str) -> Option<u64> {
    kb_field("/proc/self/status", field)
}

/// A `Name:   1234 kB` line of a /proc file, in bytes.
fn kb_field(path: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line[field.len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// Bytes for a message: `512 B`, `4.0 KiB`, `1.5 GiB`.
pub fn fmt_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_well() {
        assert_eq!(fmt_bytes(512), "512 B");
        assert_eq!(fmt_bytes(4096), "4.0 KiB");
        assert_eq!(fmt_bytes(3 << 29), "1.5 GiB");
    }

    /// A peak covers memory touched after the watch started.
    #[test]
    fn the_peak_sees_what_a_run_touched() {
        let w = MemoryWatch::start();
        let v = vec![1u8; 64 << 20];
        std::hint::black_box(&v);
        drop(v);
        let m = w.finish().expect("/proc/self/status");
        assert!(m.peak_reset, "clear_refs could not be written");
        assert!(m.rss_peak >= m.rss_start + (60 << 20), "{m:?}");
        assert_eq!(m.per_goroutine(0), None);
    }
}
