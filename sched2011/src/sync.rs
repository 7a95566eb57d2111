//! The schedlock and the notes an M and stoptheworld sleep on: the runtime's own, or loom's
//! under `--cfg loom`, so that the model in `tests/loom_word.rs` runs the crate's scheduling
//! code itself (the word's atomics already come through `schedcore::sync`).
//!
//! Only the schedlock and these notes change under loom; every other lock of the runtime
//! (worldsema's, the pause histogram's, the run's end) stays the runtime's own, which the
//! model never contends.

#[cfg(not(loom))]
pub use schedcore::{Lock as SchedLock, LockGuard as SchedLockGuard, Note};

#[cfg(loom)]
pub use model::{Note, SchedLock, SchedLockGuard};

#[cfg(loom)]
mod model {
    use loom::sync::{Mutex, MutexGuard};
    use loom::thread::Thread;
    use schedcore::LockKind;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// The schedlock as a loom mutex (the model trusts the lock, as the seed's Promela model
    /// does; its kind only matters to the runtime's speed).
    pub struct SchedLock<T>(Mutex<T>);

    pub type SchedLockGuard<'a, T> = MutexGuard<'a, T>;

    impl<T> SchedLock<T> {
        pub fn with_kind(_kind: LockKind, v: T) -> SchedLock<T> {
            SchedLock(Mutex::new(v))
        }

        pub fn lock(&self) -> SchedLockGuard<'_, T> {
            self.0.lock().unwrap()
        }

        /// The lock if it is free: the model's monitor looks only then, as proc.p's does.
        pub fn try_lock(&self) -> Option<SchedLockGuard<'_, T>> {
            self.0.try_lock().ok()
        }
    }

    /// A note with schedcore's contract (armed when new; one wake-up per `noteclear`, a
    /// second one panics; `notesleep` returns once it has fired), on loom's park and unpark.
    /// The model trusts it as the seed's Promela model trusts its notes: its key and sleeper
    /// are plain state, which no other thread can see half-changed (loom switches threads
    /// only at its own operations), so a sleep costs the model one step, the park, and has no
    /// spurious wake-ups to explore (loom's `Notify` has, and multiplied the model's states).
    pub struct Note {
        key: AtomicBool,
        sleeper: std::sync::Mutex<Option<Thread>>,
    }

    impl Note {
        pub fn with_kind(_kind: LockKind) -> Note {
            Note {
                key: AtomicBool::new(false),
                sleeper: std::sync::Mutex::new(None),
            }
        }

        pub fn noteclear(&self) {
            self.key.store(false, Ordering::Relaxed);
        }

        pub fn notewakeup(&self) {
            if self.key.swap(true, Ordering::Relaxed) {
                panic!("notewakeup - double wakeup");
            }
            if let Some(t) = self.sleeper.lock().unwrap().take() {
                t.unpark();
            }
        }

        pub fn notesleep(&self) {
            while !self.key.load(Ordering::Relaxed) {
                *self.sleeper.lock().unwrap() = Some(loom::thread::current());
                loom::thread::park();
            }
        }
    }
}
