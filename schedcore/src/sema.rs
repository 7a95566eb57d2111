//! A counting semaphore for goroutines (Go's semacquire/semrelease), on `park`/`ready`.
//! The runtimes use it for `worldsema`, so that a goroutine waiting for the world to be
//! stopped by another blocks as a goroutine and not as an OS thread.

use crate::lock::{Lock, LockKind};
use crate::scheduler::Scheduler;
use std::collections::VecDeque;

struct SemaState<G> {
    count: u32,
    waiters: VecDeque<G>,
}

pub struct Sema<S: Scheduler> {
    state: Lock<SemaState<S::GRef>>,
}

impl<S: Scheduler> Sema<S> {
    /// A semaphore whose lock is of `kind` (the runtime's: see `LockKind`).
    pub const fn new(count: u32, kind: LockKind) -> Self {
        Sema {
            state: Lock::with_kind(
                kind,
                SemaState {
                    count,
                    waiters: VecDeque::new(),
                },
            ),
        }
    }

    /// Takes one unit, parking until one is released to this goroutine.
    pub fn semacquire(&self) {
        let mut st = self.state.lock();
        if st.count > 0 {
            st.count -= 1;
            return;
        }
        st.waiters.push_back(S::current());
        S::park(st);
        // Woken by semrelease, which handed its unit straight to us.
    }

    /// Gives one unit back, handing it to the first waiter if there is one.
    pub fn semrelease(&self) {
        let mut st = self.state.lock();
        match st.waiters.pop_front() {
            Some(g) => {
                drop(st);
                S::ready(g);
            }
            None => st.count += 1,
        }
    }
}
