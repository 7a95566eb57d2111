//! The thread-local that tells a thread which M (of which runtime) it is.
//!
//! Several runtimes, of different generations, may live in one process; a thread is an M of at
//! most one of them. The slot keeps the M's address with the type it was stored as, so that a
//! generation never reads another's M.
//!
//! Goroutines move between threads, so nobody may keep the slot's value across a switch:
//! [`current`] is `#[inline(never)]` so every call reads the slot of the thread it runs on.

use std::any::TypeId;
use std::cell::Cell;

thread_local! {
    static CURRENT: Cell<(*const (), Option<TypeId>)> = const { Cell::new((std::ptr::null(), None)) };
}

/// Makes this thread an M whose state is `m` (or no M, with `None`).
pub fn set_current<M: 'static>(m: Option<&M>) {
    let v = match m {
        Some(m) => (m as *const M as *const (), Some(TypeId::of::<M>())),
        None => (std::ptr::null(), None),
    };
    CURRENT.with(|c| c.set(v));
}

/// This thread's M, if it is an M of type `M`.
#[inline(never)]
pub fn current<M: 'static>() -> Option<*const M> {
    let (p, t) = CURRENT.with(|c| c.get());
    (t == Some(TypeId::of::<M>())).then_some(p as *const M)
}

/// This thread's M; panics with a clear message when the caller is not inside a goroutine of
/// a running `name` runtime.
#[inline]
pub fn expect_current<M: 'static>(name: &str) -> *const M {
    match current::<M>() {
        Some(m) => m,
        None => not_in_runtime(name),
    }
}

#[cold]
#[inline(never)]
fn not_in_runtime(name: &str) -> ! {
    panic!("scheduler {name}: called outside a goroutine of a running {name} runtime (use Scheduler::run)")
}
