//! Go channels, buffered and unbuffered, with close; written once on `park`/`ready`, so every
//! generation runs the same channel code and differs only in how it parks and readies.

use crate::lock::Lock;
use crate::scheduler::Scheduler;
use crate::sudog::{Sudog, SudogPtr};
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::sync::Arc;

struct ChanState<T, G> {
    buf: VecDeque<T>,
    closed: bool,
    recvq: VecDeque<SudogPtr<T, G>>,
    sendq: VecDeque<SudogPtr<T, G>>,
}

struct Hchan<T, S: Scheduler> {
    cap: usize,
    state: Lock<ChanState<T, S::GRef>>,
}

/// A channel of `T` between goroutines of an `S` runtime. Cloning gives another handle on the
/// same channel, as copying a Go channel value does.
pub struct Chan<T, S: Scheduler> {
    inner: Arc<Hchan<T, S>>,
    _s: PhantomData<fn() -> S>,
}

impl<T, S: Scheduler> Clone for Chan<T, S> {
    fn clone(&self) -> Self {
        Chan {
            inner: self.inner.clone(),
            _s: PhantomData,
        }
    }
}

impl<T: Send, S: Scheduler> Chan<T, S> {
    /// `make(chan T, cap)`; `cap == 0` is unbuffered.
    pub fn new(cap: usize) -> Self {
        let state = ChanState {
            buf: VecDeque::with_capacity(cap),
            closed: false,
            recvq: VecDeque::new(),
            sendq: VecDeque::new(),
        };
        Chan {
            inner: Arc::new(Hchan {
                cap,
                state: Lock::of_this_runtime(state),
            }),
            _s: PhantomData,
        }
    }

    /// `c <- v`. Blocks until a receiver takes it (unbuffered) or there is buffer room.
    /// Panics on a closed channel, as Go does.
    pub fn send(&self, v: T) {
        let mut st = self.inner.state.lock();
        if st.closed {
            drop(st);
            panic!("send on closed channel");
        }
        if let Some(r) = st.recvq.pop_front() {
            drop(st);
            // SAFETY: popped from the queue under its lock; completed once, here.
            let g = unsafe { r.complete(Some(v), true) };
            S::ready(g);
            return;
        }
        if st.buf.len() < self.inner.cap {
            st.buf.push_back(v);
            return;
        }
        let sg = Sudog::new(S::current(), Some(v));
        st.sendq.push_back(SudogPtr(&sg));
        S::park(st);
        if !sg.success.get() {
            panic!("send on closed channel");
        }
    }

    /// `v, ok := <-c`: `None` once the channel is closed and drained.
    pub fn recv(&self) -> Option<T> {
        let mut st = self.inner.state.lock();
        if let Some(s) = st.sendq.pop_front() {
            // SAFETY: popped from the queue under its lock; read and completed once, here.
            let sent = unsafe { s.take() };
            let v = if self.inner.cap == 0 {
                sent
            } else {
                // A full buffer: take its head and let the sender's value join the tail.
                let head = st.buf.pop_front();
                st.buf.extend(sent);
                head
            };
            drop(st);
            // SAFETY: as above.
            S::ready(unsafe { s.complete(None, true) });
            return v;
        }
        if let Some(v) = st.buf.pop_front() {
            return Some(v);
        }
        if st.closed {
            return None;
        }
        let sg = Sudog::new(S::current(), None);
        st.recvq.push_back(SudogPtr(&sg));
        S::park(st);
        // SAFETY: the waker completed the sudog before readying this goroutine.
        unsafe { (*sg.elem.get()).take() }
    }

    /// `close(c)`: wakes every waiter; receivers get `None`, senders panic.
    pub fn close(&self) {
        let mut st = self.inner.state.lock();
        if st.closed {
            drop(st);
            panic!("close of closed channel");
        }
        st.closed = true;
        let s = &mut *st;
        let waiters: Vec<_> = s.recvq.drain(..).chain(s.sendq.drain(..)).collect();
        drop(st);
        for w in waiters {
            // SAFETY: drained from the queues under their lock; completed once, here.
            S::ready(unsafe { w.complete(None, false) });
        }
    }

    /// The number of buffered values.
    pub fn len(&self) -> usize {
        self.inner.state.lock().buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
