//! The thread-local that tells a thread which M it is: one slot per generation's M type,
//! declared in the generation's crate by [`m_slot!`](crate::m_slot).
//!
//! Several runtimes, of different generations, may live in one process; a thread is an M of at
//! most one of them. Each generation has a slot of its own, so a generation never reads
//! another's M: on a thread of another generation its slot is empty, and a call into it panics
//! with a clear message instead of misreading memory.
//!
//! Goroutines move between threads, so nobody may keep a slot's value, or its address, across
//! a switch. Reading a slot is therefore an `#[inline(never)]` function: every call reads the
//! slot of the thread it runs on (a compiler that saw the read could reuse the thread pointer
//! it loaded before the switch). With a `const` initializer the read is one load from the
//! thread's block, where the slot used to cost a lazy-init check and a `TypeId` compare.

/// Declares this crate's M slot for the M type `$m` (`$name` names the runtime in the panic of
/// a call from outside it; `$locks` is the M's [`MLocks`](crate::lock::MLocks) field):
/// `set_current(Option<&M>)`, which also points the runtime locks at the M's count,
/// `current() -> *const M` (null when the thread is not an M of this generation) and
/// `expect_current() -> *const M`.
#[macro_export]
macro_rules! m_slot {
    ($m:ty, $name:expr, $locks:ident) => {
        ::std::thread_local! {
            static CURRENT_M: ::std::cell::Cell<*const $m> =
                const { ::std::cell::Cell::new(::std::ptr::null()) };
        }

        /// Makes this thread the M `m` (or no M, with `None`).
        pub(crate) fn set_current(m: Option<&$m>) {
            let p = m.map_or(::std::ptr::null(), |m| m as *const $m);
            CURRENT_M.with(|c| c.set(p));
            $crate::lock::set_m_locks(m.map(|m| &m.$locks));
        }

        /// This thread's M, or null; read afresh on every call.
        #[inline(never)]
        pub(crate) fn current() -> *const $m {
            CURRENT_M.with(|c| c.get())
        }

        /// This thread's M; panics with a clear message when the caller is not inside a
        /// goroutine of a running runtime of this generation.
        #[inline(always)]
        pub(crate) fn expect_current() -> *const $m {
            let m = current();
            if m.is_null() {
                $crate::tls::not_in_runtime($name)
            }
            m
        }
    };
}

#[doc(hidden)]
#[cold]
#[inline(never)]
pub fn not_in_runtime(name: &str) -> ! {
    panic!("scheduler {name}: called outside a goroutine of a running {name} runtime (use Scheduler::run)")
}
