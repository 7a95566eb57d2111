//! How a run ends, shared by every generation: the first error (deadlock, panic) or main's
//! return decides the outcome, and whoever started the run sleeps until one of them happens.

use crate::lock::Lock;
use crate::note::Note;
use crate::scheduler::RunError;
use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};

/// The end of a run, as seen by every M.
#[derive(Default)]
pub struct RunEnd {
    exiting: AtomicBool,
    error: Lock<Option<RunError>>,
    done: Note,
}

impl RunEnd {
    /// Whether the run is over: M's leave their scheduling loops at the next chance.
    #[inline]
    pub fn exiting(&self) -> bool {
        self.exiting.load(Ordering::Acquire)
    }

    /// Ends the run with `err` unless it has already ended. Returns whether this call ended it
    /// (its caller then wakes whatever M's sleep).
    pub fn fail(&self, err: RunError) -> bool {
        let mut e = self.error.lock();
        if self.exiting.load(Ordering::Relaxed) {
            return false;
        }
        *e = Some(err);
        self.exiting.store(true, Ordering::Release);
        drop(e);
        self.done.notewakeup();
        true
    }

    /// Ends the run because main returned. Same return value as `fail`.
    pub fn finish(&self) -> bool {
        let e = self.error.lock();
        if self.exiting.load(Ordering::Relaxed) {
            return false;
        }
        self.exiting.store(true, Ordering::Release);
        drop(e);
        self.done.notewakeup();
        true
    }

    /// Sleeps until the run has ended; returns its error, if any.
    pub fn wait(&self) -> Option<RunError> {
        self.done.notesleep();
        self.error.lock().take()
    }
}

/// The message of a caught panic payload (a `RunError` payload, which a `go` that found no
/// stack unwinds with, says its error).
pub fn panic_message(p: &(dyn Any + Send)) -> String {
    if let Some(e) = p.downcast_ref::<RunError>() {
        e.to_string()
    } else if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "goroutine panicked with a non-string value".to_string()
    }
}
