//! The sched lock split in two, so that `Sched` can keep the seed's field order
//! (`schedcore::guarded`): the words the lock guards that the seed kept on Sched's first cache
//! lines live in `Sched` itself, at the seed's places, and the cold data it guards (`Synced`)
//! at the struct's end, reached through `SchedGuard` (declared by `schedcore::sched_lock!`).

use super::{Sched, Synced};

schedcore::sched_lock!(Sched, Synced);
