//! `Note`: a one-shot event one thread sleeps on and another wakes (Go's lock_futex.c notes).
//!
//! One implementation for every generation, so that a difference between generations comes from
//! the scheduler and not from how a thread is put to sleep.

use linux_futex::{Futex, Private};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// A one-shot wake-up. `noteclear` arms it, exactly one `notewakeup` fires it, and
/// `notesleep` returns once it has fired.
pub struct Note {
    key: Futex<Private>,
}

impl Default for Note {
    fn default() -> Self {
        Note::new()
    }
}

impl Note {
    pub const fn new() -> Note {
        Note { key: Futex::new(0) }
    }

    /// Arms the note. Only while nobody sleeps on it or is about to wake it.
    pub fn noteclear(&self) {
        self.key.value.store(0, Ordering::Relaxed);
    }

    /// Fires the note, waking its sleeper if there is one. A second wake-up without a
    /// `noteclear` between is a scheduler bug, and panics as Go throws.
    pub fn notewakeup(&self) {
        let old = self.key.value.swap(1, Ordering::Release);
        if old != 0 {
            panic!("notewakeup - double wakeup ({old})");
        }
        self.key.wake(1);
    }

    /// Whether the note has fired (without sleeping).
    pub fn fired(&self) -> bool {
        self.key.value.load(Ordering::Acquire) != 0
    }

    /// Sleeps until the note fires.
    pub fn notesleep(&self) {
        while self.key.value.load(Ordering::Acquire) == 0 {
            // A spurious return or EAGAIN both loop back to the check.
            let _ = self.key.wait(0);
        }
    }

    /// Sleeps until the note fires or `timeout` passes; reports whether it fired.
    pub fn notetsleep(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.key.value.load(Ordering::Acquire) != 0 {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            let _ = self.key.wait_for(0, deadline - now);
        }
    }
}
