//! `Note`: a one-shot event one thread sleeps on and another wakes (Go's notes), in the two
//! forms history had, chosen with the runtime's lock ([`LockKind`]).
//!
//! One implementation for every generation, so that a difference between generations comes from
//! the scheduler and not from how a thread is put to sleep; but the note changed with the lock
//! in July 2011, and a runtime on either lock gets that lock's notes:
//! - `Spin` (lock_futex.c, Go 1.0 on): a word that `notewakeup` sets with an exchange and
//!   always follows with a futex wake call; `notesleep` waits while it is zero.
//! - `Futex2011` (linux/thread.c before 2011-07-29): a note was a futexlock taken by
//!   `noteclear`; `notewakeup` is its unlock, which calls the kernel only when a sleeper has
//!   counted itself, and `notesleep` takes the lock and gives it back. Waking an M that is not
//!   asleep yet costs no system call there, and a sleeper that finds the note fired returns
//!   with two CAS's and no kernel entry.

use crate::lock::{LockKind, RawLock};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// A one-shot wake-up. `noteclear` arms it, exactly one `notewakeup` fires it, and
/// `notesleep` returns once it has fired. A new note is armed.
pub struct Note {
    /// `Spin`: the note word (0 armed, 1 fired). `Futex2011`: the lock that stands for the
    /// event (held while armed).
    lock: RawLock,
}

impl Default for Note {
    fn default() -> Self {
        Note::new()
    }
}

impl Note {
    /// A note of the kind every release from Go 1.0 on had, for notes outside any runtime's
    /// choice.
    pub const fn new() -> Note {
        Note::with_kind(LockKind::Spin)
    }

    /// An armed note of the kind that goes with the runtime lock `kind`.
    pub const fn with_kind(kind: LockKind) -> Note {
        // Armed: `Spin` 0; `Futex2011` the lock held, as noteclear's futexlock leaves it.
        let key = match kind {
            LockKind::Spin => 0,
            LockKind::Futex2011 => 1,
        };
        Note {
            lock: RawLock::with_key(kind, key),
        }
    }

    fn word(&self) -> &std::sync::atomic::AtomicU32 {
        &self.lock.key.value
    }

    /// Arms the note. Only while nobody sleeps on it or is about to wake it.
    pub fn noteclear(&self) {
        self.word().store(0, Ordering::Relaxed);
        if self.lock.kind() == LockKind::Futex2011 {
            self.lock.futexlock();
        }
    }

    /// Fires the note, waking its sleeper if there is one. A second wake-up without a
    /// `noteclear` between is a scheduler bug, and panics as Go throws.
    pub fn notewakeup(&self) {
        match self.lock.kind() {
            LockKind::Spin => {
                let old = self.word().swap(1, Ordering::Release);
                if old != 0 {
                    panic!("notewakeup - double wakeup ({old})");
                }
                self.lock.key.wake(1);
            }
            // SAFETY: an armed note's lock is held (by noteclear, on whichever thread); the
            // futexlock has no owner, and unlocking an unlocked one panics as a double wakeup.
            LockKind::Futex2011 => unsafe { self.lock.futexunlock() },
        }
    }

    /// Whether the note has fired (without sleeping).
    pub fn fired(&self) -> bool {
        let v = self.word().load(Ordering::Acquire);
        match self.lock.kind() {
            LockKind::Spin => v != 0,
            LockKind::Futex2011 => v & 1 == 0,
        }
    }

    /// Sleeps until the note fires.
    pub fn notesleep(&self) {
        match self.lock.kind() {
            LockKind::Spin => {
                while self.word().load(Ordering::Acquire) == 0 {
                    // A spurious return or EAGAIN both loop back to the check.
                    let _ = self.lock.key.wait(0);
                }
            }
            LockKind::Futex2011 => {
                self.lock.futexlock();
                // Give it back so that other sleepers find out too.
                // SAFETY: taken just above.
                unsafe { self.lock.futexunlock() };
            }
        }
    }

    /// Sleeps until the note fires or `timeout` passes; reports whether it fired. (July 2011
    /// had no timed sleep on notes; under `Futex2011` the sleeper counts itself in the lock
    /// word as futexlock's sleepers do, so that notewakeup's unlock wakes it.)
    pub fn notetsleep(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let key = self.word();
        loop {
            let v = key.load(Ordering::Acquire);
            if self.fired() {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            match self.lock.kind() {
                LockKind::Spin => {
                    let _ = self.lock.key.wait_for(0, deadline - now);
                }
                LockKind::Futex2011 => {
                    if key
                        .compare_exchange(v, v + 2, Ordering::Relaxed, Ordering::Relaxed)
                        .is_err()
                    {
                        continue;
                    }
                    let _ = self.lock.key.wait_for(v + 2, deadline - now);
                    self.lock.uncount_sleeper();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Each kind: a wake-up before the sleep, a wake-up of a sleeper, a timed sleep that
    /// times out and one that is woken, and re-arming with noteclear.
    fn one_shot(kind: LockKind) {
        let n = Note::with_kind(kind);
        assert!(!n.fired());
        n.notewakeup();
        assert!(n.fired());
        n.notesleep();
        n.noteclear();
        assert!(!n.fired());
        assert!(!n.notetsleep(Duration::from_millis(5)));
        let n = Arc::new(n);
        let waker = {
            let n = n.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                n.notewakeup();
            })
        };
        n.notesleep();
        waker.join().unwrap();
        n.noteclear();
        let waker = {
            let n = n.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                n.notewakeup();
            })
        };
        assert!(n.notetsleep(Duration::from_secs(30)));
        waker.join().unwrap();
    }

    #[test]
    fn spin_notes_fire_once() {
        one_shot(LockKind::Spin);
    }

    #[test]
    fn futex2011_notes_fire_once() {
        one_shot(LockKind::Futex2011);
    }

    #[test]
    #[should_panic]
    fn futex2011_double_wakeup_panics() {
        let n = Note::with_kind(LockKind::Futex2011);
        n.notewakeup();
        n.notewakeup();
    }
}
