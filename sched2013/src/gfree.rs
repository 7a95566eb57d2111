//! The caches of dead G's: one per P, spilling to and refilling from a global list in
//! batches, so that creating a goroutine reuses a G and its stack without a shared lock
//! (mapping a fresh stack costs about 9 us here, reusing one about 17 ns).

use crate::g::GRef;
use crate::p::P;
use crate::sched::Sched;
use std::sync::atomic::Ordering;

/// A P's cache this long spills...
const GFREE_SPILL_AT: u32 = 64;
/// ...until it is shorter than this (so 33 G's go and 31 stay, as in the seed's loop); a
/// refill brings an empty cache up to this many.
const GFREE_BATCH: u32 = 32;

/// Port of gfput (seed 003): caches a dead G on `p`; a cache of 64 gives all but 31 back to
/// the global list. Only the M holding `p` calls it.
pub(crate) fn gfput(sched: &Sched, p: &P, gp: GRef) {
    gp.schedlink.set(p.gfree.get());
    p.gfree.set(Some(gp.0));
    let mut n = p.gfreecnt.load(Ordering::Relaxed) + 1;
    if n >= GFREE_SPILL_AT {
        let mut global = sched.gflock.lock();
        while n >= GFREE_BATCH {
            n -= 1;
            let g1 = GRef(p.gfree.get().expect("gfree shorter than gfreecnt"));
            p.gfree.set(g1.schedlink.get());
            g1.schedlink.set(global.map(|g| g.0));
            *global = Some(g1);
        }
        sched.gfree_any.store(true, Ordering::Relaxed);
    }
    p.gfreecnt.store(n, Ordering::Relaxed);
}

/// Port of gfget (seed 003): a dead G from `p`'s cache, refilling the cache with up to 32
/// from the global list when it is empty. Only the M holding `p` calls it.
pub(crate) fn gfget(sched: &Sched, p: &P) -> Option<GRef> {
    if p.gfree.get().is_none() && sched.gfree_any.load(Ordering::Relaxed) {
        let mut global = sched.gflock.lock();
        let mut n = p.gfreecnt.load(Ordering::Relaxed);
        while n < GFREE_BATCH {
            let Some(gp) = *global else { break };
            *global = gp.schedlink.get().map(GRef);
            gp.schedlink.set(p.gfree.get());
            p.gfree.set(Some(gp.0));
            n += 1;
        }
        sched.gfree_any.store(global.is_some(), Ordering::Relaxed);
        p.gfreecnt.store(n, Ordering::Relaxed);
    }
    let gp = GRef(p.gfree.get()?);
    p.gfree.set(gp.schedlink.get());
    p.gfreecnt
        .store(p.gfreecnt.load(Ordering::Relaxed) - 1, Ordering::Relaxed);
    Some(gp)
}

/// Port of gfpurge (seed 003): gives all of `p`'s cache to the global list (procresize,
/// when `p` is retired).
pub(crate) fn gfpurge(sched: &Sched, p: &P) {
    let mut global = sched.gflock.lock();
    while let Some(gp) = p.gfree.get() {
        p.gfree.set(gp.schedlink.get());
        gp.schedlink.set(global.map(|g| g.0));
        *global = Some(GRef(gp));
    }
    p.gfreecnt.store(0, Ordering::Relaxed);
    sched.gfree_any.store(global.is_some(), Ordering::Relaxed);
}

/// The goroutines alive when a gfree miss has just added a G to allg (of length `allg`, the
/// new G counted as alive): the G's in no P's cache. The global list is empty at a miss (gfget
/// found it so) unless a P spilled to it since, and a P's cache can hold up to 63 G's that
/// `p`'s gfget could not see, so the peak kept from this can fall short of the true one by at
/// most that much per other P. Sched is locked.
pub(crate) fn live_at_miss(sched: &Sched, allg: usize) -> u64 {
    let cached: usize = sched
        .allp
        .iter()
        .map_while(|l| l.get())
        .map(|p| p.gfreecnt.load(Ordering::Relaxed) as usize)
        .sum();
    allg.saturating_sub(cached) as u64
}
