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
