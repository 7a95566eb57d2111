//! The schedlock's lock: Go 1.0's (spin, yield, then futex; shared by every generation) for
//! "2011", and the lock of July 2011 for "2011-lock", whose point is to reproduce the seed's
//! own "old" column, measured on that lock (see `schedcore::KernelLock`).

use schedcore::{KernelLock, RawLock, RawMutex};

pub enum SchedLock {
    /// The runtime lock of Go 1.0 (lock_futex.c), as every generation of the lab uses.
    Go1(RawLock),
    /// The runtime lock the seed's benchmarks ran on (linux/thread.c, July 2011).
    July2011(KernelLock),
}

impl RawMutex for SchedLock {
    // A fresh, unlocked lock at every use: that is what INIT is for.
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: SchedLock = SchedLock::Go1(RawLock::new());

    #[inline]
    fn lock(&self) {
        match self {
            SchedLock::Go1(l) => l.lock(),
            SchedLock::July2011(l) => RawMutex::lock(l),
        }
    }

    #[inline]
    unsafe fn unlock(&self) {
        match self {
            SchedLock::Go1(l) => l.unlock(),
            SchedLock::July2011(l) => RawMutex::unlock(l),
        }
    }
}
