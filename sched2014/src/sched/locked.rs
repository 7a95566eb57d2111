//! The sched lock split in two, so that `Sched` can keep the seed's field order
//! (`schedcore::guarded`): the words the lock guards that the seed kept on Sched's first cache
//! lines live in `Sched` itself, at the seed's places, and the cold data it guards (`Synced`)
//! at the struct's end, reached through [`SchedGuard`].

use super::{Sched, Synced};

/// A count in `Sched` that the sched lock guards.
pub(crate) type LockedI32 = schedcore::guarded::LockedI32<Synced>;
/// A list head in `Sched` that the sched lock guards.
pub(crate) type LockedLink<T> = schedcore::guarded::LockedLink<T, Synced>;
/// The cold data the sched lock guards.
pub(crate) type Guarded<T> = schedcore::guarded::Guarded<T>;
/// The sched lock held.
pub(crate) type SchedGuard<'a> = schedcore::guarded::GuardedLock<'a, Synced>;

impl Sched {
    /// Takes the sched lock.
    #[inline]
    pub(crate) fn lock(&self) -> SchedGuard<'_> {
        // SAFETY: `synced` is guarded by `lock` and by no other lock: this is the only call.
        unsafe { self.synced.lock(&self.lock) }
    }
}
