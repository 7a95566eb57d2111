//! Stack scanning for `gc()`: read every word of a goroutine's live stack and count those
//! that point into some goroutine stack, as a conservative collector would.

/// The address ranges `[lo, hi)` of every goroutine stack, sorted, for pointer tests.
pub struct StackSet {
    ranges: Vec<(usize, usize)>,
}

/// What a scan found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScanResult {
    pub words: u64,
    pub pointers: u64,
}

impl std::ops::AddAssign for ScanResult {
    fn add_assign(&mut self, o: ScanResult) {
        self.words += o.words;
        self.pointers += o.pointers;
    }
}

impl StackSet {
    pub fn new(mut ranges: Vec<(usize, usize)>) -> StackSet {
        ranges.retain(|&(lo, hi)| lo < hi);
        ranges.sort_unstable();
        StackSet { ranges }
    }

    fn contains(&self, a: usize) -> bool {
        let i = self.ranges.partition_point(|&(lo, _)| lo <= a);
        i > 0 && a < self.ranges[i - 1].1
    }

    /// Scans the words of `[lo, hi)`.
    ///
    /// # Safety
    /// `[lo, hi)` is mapped, readable memory (the live part of a goroutine stack whose owner
    /// does not write it during the scan: it is stopped, claimed, or the scanner itself).
    pub unsafe fn scan(&self, lo: usize, hi: usize) -> ScanResult {
        let mut r = ScanResult::default();
        let mut p = (lo + 7) & !7;
        while p + 8 <= hi {
            let w = std::ptr::read_volatile(p as *const usize);
            r.words += 1;
            if self.contains(w) {
                r.pointers += 1;
            }
            p += 8;
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_words_pointing_into_stacks() {
        let a = [0usize; 4];
        let base = a.as_ptr() as usize;
        let set = StackSet::new(vec![(base, base + 32), (0, 0)]);
        let words = [base + 8, 12345, base + 40, base];
        let lo = words.as_ptr() as usize;
        // SAFETY: `words` is a live local array.
        let r = unsafe { set.scan(lo, lo + 32) };
        assert_eq!(
            r,
            ScanResult {
                words: 4,
                pointers: 2
            }
        );
    }
}
