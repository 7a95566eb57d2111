//! `sync.WaitGroup` on `park`/`ready`.

use crate::lock::Lock;
use crate::scheduler::Scheduler;
use std::marker::PhantomData;
use std::sync::Arc;

struct WgState<G> {
    count: i64,
    waiters: Vec<G>,
}

/// A WaitGroup; clones share one counter.
pub struct WaitGroup<S: Scheduler> {
    inner: Arc<Lock<WgState<S::GRef>>>,
    _s: PhantomData<fn() -> S>,
}

impl<S: Scheduler> Clone for WaitGroup<S> {
    fn clone(&self) -> Self {
        WaitGroup {
            inner: self.inner.clone(),
            _s: PhantomData,
        }
    }
}

impl<S: Scheduler> Default for WaitGroup<S> {
    fn default() -> Self {
        WaitGroup::new()
    }
}

impl<S: Scheduler> WaitGroup<S> {
    pub fn new() -> Self {
        WaitGroup {
            inner: Arc::new(Lock::of_this_runtime(WgState {
                count: 0,
                waiters: Vec::new(),
            })),
            _s: PhantomData,
        }
    }

    /// Adds `n` (may be negative); at zero every waiter wakes. Below zero panics, as in Go.
    pub fn add(&self, n: i64) {
        let mut st = self.inner.lock();
        st.count += n;
        if st.count < 0 {
            drop(st);
            panic!("sync: negative WaitGroup counter");
        }
        if st.count == 0 {
            let waiters = std::mem::take(&mut st.waiters);
            drop(st);
            for g in waiters {
                S::ready(g);
            }
        }
    }

    pub fn done(&self) {
        self.add(-1);
    }

    /// Blocks until the counter is zero.
    pub fn wait(&self) {
        let mut st = self.inner.lock();
        if st.count == 0 {
            return;
        }
        st.waiters.push(S::current());
        S::park(st);
    }
}
