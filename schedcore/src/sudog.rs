//! A waiting goroutine's entry in a wait queue (Go's SudoG). It lives on the waiter's own
//! stack: the waiter is parked for as long as a queue or a waker can reach it.

use std::cell::{Cell, UnsafeCell};

pub(crate) struct Sudog<T, G> {
    pub g: G,
    /// The value in flight: a sender's value to give, or the slot a receiver gets it in.
    pub elem: UnsafeCell<Option<T>>,
    /// Set by the waker: the wait ended by a hand-off (true) or by a close (false).
    pub success: Cell<bool>,
}

impl<T, G> Sudog<T, G> {
    pub fn new(g: G, elem: Option<T>) -> Self {
        Sudog {
            g,
            elem: UnsafeCell::new(elem),
            success: Cell::new(false),
        }
    }
}

/// A queued sudog.
pub(crate) struct SudogPtr<T, G>(pub *const Sudog<T, G>);

// SAFETY: a SudogPtr is only created by its waiter just before it parks, is only followed by
// the one waker that takes it out of its queue (under the queue's lock), and its waiter does
// not resume, so its stack frame stays put, until that waker calls `ready`. T and G cross
// threads with it, so they must be Send.
unsafe impl<T: Send, G: Send> Send for SudogPtr<T, G> {}

impl<T, G: Copy> SudogPtr<T, G> {
    /// Completes a wait: hands `v` in (for a receiver) and records how the wait ended.
    /// Returns the goroutine to ready.
    ///
    /// # Safety
    /// The caller took this pointer out of its queue and has not completed it yet.
    pub unsafe fn complete(self, v: Option<T>, success: bool) -> G {
        let s = &*self.0;
        if v.is_some() {
            *s.elem.get() = v;
        }
        s.success.set(success);
        s.g
    }

    /// Takes a waiting sender's value.
    ///
    /// # Safety
    /// As for `complete`.
    pub unsafe fn take(&self) -> Option<T> {
        (*(*self.0).elem.get()).take()
    }
}
