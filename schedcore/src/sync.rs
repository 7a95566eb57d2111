//! The one door through which the lock-free parts reach atomics, so that `--cfg loom` can
//! swap in loom's model-checked versions.

#[cfg(loom)]
pub use loom::sync::atomic::{
    AtomicBool, AtomicI32, AtomicI64, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};
#[cfg(loom)]
pub use loom::sync::{Arc, Mutex};
#[cfg(loom)]
pub use loom::{hint::spin_loop, thread::yield_now};

#[cfg(not(loom))]
pub use std::sync::atomic::{
    AtomicBool, AtomicI32, AtomicI64, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};
#[cfg(not(loom))]
pub use std::sync::{Arc, Mutex};
#[cfg(not(loom))]
pub use std::{hint::spin_loop, thread::yield_now};

/// The full barrier of a store-load pair whose store side has just executed an atomic
/// read-modify-write: a runtime lock's unlock (`xchg`, or `lock cmpxchg` for the July-2011
/// lock), Go's `atomicstore` (`xchg`), an `xadd`. On x86 such an instruction is itself a full
/// barrier, which is all the seeds relied on, so only the compiler is kept from moving the
/// loads above it: one more locked instruction here would be a step no seed has. On weaker
/// CPUs (and under loom, which models the language's memory model rather than x86's) the
/// read-modify-write orders less, and a real fence stands here.
#[inline(always)]
pub fn barrier_after_rmw() {
    #[cfg(all(any(target_arch = "x86", target_arch = "x86_64"), not(loom)))]
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    #[cfg(loom)]
    loom::sync::atomic::fence(Ordering::SeqCst);
    #[cfg(all(not(loom), not(any(target_arch = "x86", target_arch = "x86_64"))))]
    std::sync::atomic::fence(Ordering::SeqCst);
}
