//! The Go 1.3/1.4 (2014) scheduler (seeds 001 and 004). So far its two self-contained cores,
//! which the full port is built around: the lock-free per-P run queue with the global queue's
//! batch rule, and the atomic G status with the Gscan bit.

#[doc(hidden)]
pub mod globrunq;
#[doc(hidden)]
pub mod gstatus;
#[doc(hidden)]
pub mod runq;

#[cfg(test)]
mod testutil;
