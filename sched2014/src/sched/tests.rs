//! Tests of the Sched's footing: its layout (the seed's plain struct, in the seed's order) and
//! the store-load pair between newproc/ready and findrunnable's last look.

use super::Sched;
use crate::g::{GRef, G};
use crate::m::M;
use crate::p::P;
use crate::proc::{runqs_nonempty, wakep_needed};
use schedcore::ptr::Ptr;
use schedcore::LockKind;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// One footing for 2013 and 2014 (tracker issue 9): Sched is a plain struct as in the seed,
/// with no cache-line padding between its words, and G, M and P are aligned alike in both
/// crates (sched2013's test says the same).
#[test]
fn sched_is_a_plain_struct() {
    assert!(
        std::mem::align_of::<Sched>() <= 8,
        "Sched is aligned to {} bytes: a padded word",
        std::mem::align_of::<Sched>()
    );
    assert_eq!(std::mem::align_of::<G>(), 128);
    assert_eq!(std::mem::align_of::<M>(), 128);
    assert_eq!(std::mem::align_of::<P>(), 128);
}

/// Go 1.4's `SchedT` on amd64 (runtime.h; `Mutex` and `Note` are one word each), field by
/// field: the name and the byte offset. maxmcount (36), lastpoll (136) and profilehz (144) are
/// not ported.
const GO_1_4_SCHED: [(&str, usize); 20] = [
    ("lock", 0),
    ("goidgen", 8),
    ("midle", 16),
    ("nmidle", 24),
    ("nmidlelocked", 28),
    ("mcount", 32),
    ("pidle", 40),
    ("npidle", 48),
    ("nmspinning", 52),
    ("runqhead", 56),
    ("runqtail", 64),
    ("runqsize", 72),
    ("gflock", 80),
    ("gfree", 88),
    ("ngfree", 96),
    ("gcwaiting", 100),
    ("stopwait", 104),
    ("stopnote", 112),
    ("sysmonwait", 120),
    ("sysmonnote", 128),
];

/// The port's offset of each field of [`GO_1_4_SCHED`].
fn port_sched_offsets() -> [(&'static str, usize); 20] {
    use std::mem::offset_of;
    let runq = offset_of!(Sched, runq);
    let [runqhead, runqtail, runqsize] = crate::globrunq::GlobRunq::<G>::offsets();
    let gfree = offset_of!(Sched, gflock) + schedcore::Lock::<super::GfreeList>::data_offset();
    [
        ("lock", offset_of!(Sched, lock)),
        ("goidgen", offset_of!(Sched, goidgen)),
        ("midle", offset_of!(Sched, midle)),
        ("nmidle", offset_of!(Sched, nmidle)),
        ("nmidlelocked", offset_of!(Sched, nmidlelocked)),
        ("mcount", offset_of!(Sched, mcount)),
        ("pidle", offset_of!(Sched, pidle)),
        ("npidle", offset_of!(Sched, npidle)),
        ("nmspinning", offset_of!(Sched, nmspinning)),
        ("runqhead", runq + runqhead),
        ("runqtail", runq + runqtail),
        ("runqsize", runq + runqsize),
        ("gflock", offset_of!(Sched, gflock)),
        ("gfree", gfree),
        ("ngfree", offset_of!(Sched, ngfree)),
        ("gcwaiting", offset_of!(Sched, gcwaiting)),
        ("stopwait", offset_of!(Sched, stopwait)),
        ("stopnote", offset_of!(Sched, stopnote)),
        ("sysmonwait", offset_of!(Sched, sysmonwait)),
        ("sysmonnote", offset_of!(Sched, sysmonnote)),
    ]
}

/// Tracker issue 19: which words of Sched share a cache line is the seed's choice, not the
/// compiler's. The seed's fields come in the seed's order, at the seed's offsets (but for the
/// last few, see below); the words Go had on its first 64 bytes (the lock word, goidgen, the
/// idle M and P lists and their counts, nmspinning, runqhead) lie within 64 bytes of each
/// other; the port's own fields all come after the seed's last.
#[test]
fn sched_has_the_seeds_layout() {
    let port = port_sched_offsets();
    for ((name, at), (go_name, go_at)) in port.iter().zip(GO_1_4_SCHED) {
        assert_eq!(*name, go_name);
        // Equal up to stopwait; from stopnote on up to 8 bytes earlier, as the port's note is
        // a 4-byte word aligned to 4 where Go's was a uintptr.
        assert!(
            *at <= go_at && go_at - *at <= 8 && (go_at > 104 || *at == go_at),
            "Sched::{name} at {at}, Go 1.4's at {go_at}"
        );
    }
    assert!(port.windows(2).all(|w| w[0].1 < w[1].1), "{port:?}");
    let first_line = &port[..10];
    assert_eq!(first_line[9].0, "runqhead");
    let (lo, hi) = (first_line[0].1, first_line[9].1 + 8);
    assert!(hi - lo <= 64, "{first_line:?}");
    use std::mem::offset_of;
    let last_seed = offset_of!(Sched, sysmonnote);
    for (name, at) in [
        ("allglen", offset_of!(Sched, allglen)),
        ("gomaxprocs", offset_of!(Sched, gomaxprocs)),
        ("lock_kind", offset_of!(Sched, lock_kind)),
        ("allp", offset_of!(Sched, allp)),
        ("worldsema", offset_of!(Sched, worldsema)),
        ("end", offset_of!(Sched, end)),
        ("stacks", offset_of!(Sched, stacks)),
        ("preempt", offset_of!(Sched, preempt)),
        ("gcstacks", offset_of!(Sched, gcstacks)),
        ("tracer", offset_of!(Sched, tracer)),
        ("synced", offset_of!(Sched, synced)),
    ] {
        assert!(
            at > last_seed,
            "the port's {name} ({at}) before the seed's last field"
        );
    }
}

/// Go 1.4's `P` on amd64 (runtime.h), the fields the port has: the name and the byte offset.
/// Go's P began with its lock at 0; the port's has none, and `id`, an int32 at 8 in Go, is a
/// word at 0 here, so status sits 4 bytes earlier.
const GO_1_4_P: [(&str, usize); 11] = [
    ("id", 8),
    ("status", 12),
    ("link", 16),
    ("schedtick", 24),
    ("syscalltick", 28),
    ("m", 32),
    ("goidcache", 88),
    ("goidcacheend", 96),
    ("runqhead", 104),
    ("runqtail", 108),
    ("gfree", 2160),
];

/// Tracker issue 19: the seed's fields of P in Go 1.4's order, at Go's offsets (but for the
/// lock the port does not have, see [`GO_1_4_P`]), so the same words share a line: status,
/// link, the ticks and m on the first 64 bytes, the ring's head and tail on the next; the
/// port's own fields after them.
#[test]
fn p_keeps_the_seeds_lines() {
    use std::mem::offset_of;
    let runq = offset_of!(P, runq);
    let port = [
        ("id", offset_of!(P, id)),
        ("status", offset_of!(P, status)),
        ("link", offset_of!(P, link)),
        ("schedtick", offset_of!(P, schedtick)),
        ("syscalltick", offset_of!(P, syscalltick)),
        ("m", offset_of!(P, m)),
        ("goidcache", offset_of!(P, goidcache)),
        ("goidcacheend", offset_of!(P, goidcacheend)),
        ("runqhead", runq + crate::runq::RunQueue::<G>::head_offset()),
        ("runqtail", runq + crate::runq::RunQueue::<G>::tail_offset()),
        ("gfree", offset_of!(P, gfree)),
    ];
    for ((name, at), (go_name, go_at)) in port.iter().zip(GO_1_4_P) {
        assert_eq!(*name, go_name);
        let want = match go_at {
            8 => 0,
            12 => 8,
            _ => go_at,
        };
        assert_eq!(*at, want, "P::{name} at {at}, Go 1.4's at {go_at}");
    }
    assert!(offset_of!(P, gfreecnt) > offset_of!(P, gfree));
    assert!(offset_of!(P, counters) > offset_of!(P, gfreecnt));
}

/// The store-load pair between newproc/ready and findrunnable's last look (tracker issue 9).
/// A producer puts a G on its P's queue, then asks whether an M must be woken for it
/// (`wakep_needed`); a consumer puts its P on the idle list, then looks at every queue once
/// more (`runqs_nonempty`). At least one side must see the other, or the G waits on a busy P
/// while another P idles. Run as a store-buffering litmus test: on x86, a side without a full
/// barrier between its store and its loads lets both miss within a few thousand rounds.
#[test]
fn wakeup_store_load_pair() {
    const ROUNDS: u32 = 500_000;
    let deadline = Instant::now() + Duration::from_secs(3);
    let sched = Sched::new(
        schedcore::StackArena::new(&schedcore::Config::default()).unwrap(),
        true,
        None,
        LockKind::Spin,
    );
    let (p0, p1) = (P::new(0), P::new(1));
    sched.allp[0].set(Some(Ptr::from_ref(&p0)));
    let g = G::new();
    let gp = GRef(Ptr::from_ref(&g));
    // The round the producer may run, the last round it finished, what it saw.
    let (start, done, woke) = (AtomicU32::new(0), AtomicU32::new(0), AtomicBool::new(false));
    let (mut rounds, mut missed) = (0u32, 0u32);
    std::thread::scope(|sc| {
        sc.spawn(|| {
            for r in 1..=ROUNDS {
                spin_until(|| start.load(Ordering::Acquire) >= r);
                if start.load(Ordering::Acquire) > ROUNDS {
                    return;
                }
                p0.runqput(&sched, gp, &schedcore::trace::TraceBuf::off());
                woke.store(wakep_needed(&sched), Ordering::Relaxed);
                done.store(r, Ordering::Release);
            }
        });
        for r in 1..=ROUNDS {
            // Reset while the producer waits: an empty queue, no idle P.
            while p0.runqget().is_some() {}
            let _ = sched.pidleget(&mut sched.lock());
            start.store(r, Ordering::Release);
            sched.pidleput(&mut sched.lock(), Ptr::from_ref(&p1));
            let found = runqs_nonempty(&sched, 1);
            spin_until(|| done.load(Ordering::Acquire) == r);
            rounds = r;
            if !found && !woke.load(Ordering::Relaxed) {
                missed += 1;
            }
            if Instant::now() > deadline {
                break;
            }
        }
        // Let the producer go if the deadline cut the rounds short.
        start.store(ROUNDS + 1, Ordering::Release);
    });
    assert_eq!(
        missed, 0,
        "in {missed} of {rounds} rounds neither side saw the other (a lost wake-up)"
    );
}

/// Spins until `f` holds, yielding now and then (the test's two threads may share a core).
fn spin_until(f: impl Fn() -> bool) {
    let mut n = 0u32;
    while !f() {
        n += 1;
        if n % 1024 == 0 {
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
}
