//! Goroutine stacks carved from large reserved regions (arenas) instead of one mapping each, a
//! guard page under every stack, and the limits a runtime stops at: its live-goroutine limit,
//! the memory left on the machine and, where guard pages split mappings, the kernel's mapping
//! limit.
//!
//! A runtime owns one [`StackArena`]. It reserves chunks of address space with
//! `MAP_NORESERVE` (nothing is committed until a page is touched), the first of 64 stacks and
//! each next one twice as large, up to 1 GiB, and carves them into slots of one guard page
//! followed by `stack_size` bytes of stack. A stack grows down toward its own guard page, which
//! lies directly above the stack of the slot below: an overflow faults there and never writes
//! into a neighbour. Stacks are never given back to the arena: like Go's, they stay with their
//! G on the gfree lists, and every chunk is unmapped when the arena (the runtime) is dropped.
//! Only a gfree miss comes here, and it takes the arena's own mutex for a bump of a pointer,
//! where a fresh mmap per stack took the kernel's mmap lock and cost about 9 us.
//!
//! The guard page is installed with `madvise(MADV_GUARD_INSTALL)` (Linux 6.13 and later),
//! which marks the page in the page tables without splitting the mapping: a chunk stays one
//! kernel mapping however many stacks it holds. Older kernels get `mprotect(PROT_NONE)`, which
//! splits a chunk into two mappings per stack, so the process's `vm.max_map_count` (65530 by
//! default) bounds the stacks to about 32k; the arena keeps count and stops with
//! [`Limit::MapCount`] before the kernel refuses, keeping [`MAP_RESERVE`] mappings for
//! everything else in the process. [`StackGuard`] (`Config::stack_guard`, `lab --stack-guard`)
//! forces either way. Where the kernel also takes `MADV_GUARD_INSTALL` through
//! `process_madvise(2)` on the calling process (probed once, as madvise is), the alloc that
//! reaches a slot without its guard installs the guards of that slot and of the next ones in
//! its chunk, up to 64, in one system call; elsewhere one madvise a stack. mprotect cannot be
//! batched: it takes one contiguous range. Either way every stack has its guard before it is
//! handed out, and the system calls are made inside the alloc that needs them, so that a
//! workload's figure carries them (the cost is measured in `guard.rs` and the README).
//!
//! The arena reads MemAvailable at its first stack, and again each time the stacks carved since
//! could have taken half the margin above the reserve it keeps for the machine
//! (see `StackArena::stacks_until_next_check`).

mod guard;

use crate::memory::{self, fmt_bytes};
use crate::scheduler::{Config, RunError};
pub use guard::{guard_batch_works, guard_install_works, page_size};
use std::fmt;
use std::sync::Mutex;

/// The first chunk holds this many stacks, enough for a small program in one mapping.
const FIRST_CHUNK_STACKS: usize = 64;
/// Chunks double up to this size (or one stack, when a stack is larger): a million 64 KiB
/// stacks take 66 chunks, and the address space reserved stays within twice what is carved.
const MAX_CHUNK_BYTES: usize = 1 << 30;
/// Mappings left to the rest of the process (thread stacks, the allocator, files) when the
/// arena stops carving mprotect-guarded stacks.
pub const MAP_RESERVE: usize = 1024;
/// A live goroutine costs at least a touched page of its stack and its G: the default
/// live-goroutine limit is MemAvailable at boot (less the reserve) over this.
pub const MIN_GOROUTINE_BYTES: u64 = 4096 + 512;

/// How the guard page under every goroutine stack is made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum StackGuard {
    /// `madvise` where the kernel has `MADV_GUARD_INSTALL`, `mprotect` elsewhere.
    #[default]
    Auto,
    /// `madvise(MADV_GUARD_INSTALL)`: no mapping split (Linux 6.13+); a run on an older kernel
    /// is refused as an invalid configuration.
    Madvise,
    /// `mprotect(PROT_NONE)`: two kernel mappings per stack, bounded by `vm.max_map_count`.
    Mprotect,
}

impl StackGuard {
    pub const ALL: &'static [StackGuard] =
        &[StackGuard::Auto, StackGuard::Madvise, StackGuard::Mprotect];

    /// The name on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            StackGuard::Auto => "auto",
            StackGuard::Madvise => "madvise",
            StackGuard::Mprotect => "mprotect",
        }
    }

    pub fn from_name(s: &str) -> Option<StackGuard> {
        StackGuard::ALL.iter().copied().find(|g| g.name() == s)
    }
}

impl fmt::Display for StackGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a runtime ran out of when it could not give a new goroutine a stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Limit {
    /// The live-goroutine limit: `Config::max_goroutines`, or by default what the memory
    /// available at boot allows ([`MIN_GOROUTINE_BYTES`] a goroutine).
    Goroutines { max: usize, from_config: bool },
    /// The kernel's limit on mappings per process, with mprotect'd guard pages (two mappings
    /// a stack): the process had `mappings` of `max_map_count`.
    MapCount {
        max_map_count: usize,
        mappings: usize,
    },
    /// The machine's MemAvailable fell below the reserve the arena keeps.
    Memory { available: u64, reserve: u64 },
    /// The kernel refused address space for a chunk of stacks (RLIMIT_AS, overcommit).
    AddressSpace { bytes: usize, error: String },
}

/// A run that ran out of goroutine stacks: which limit, and how many stacks the runtime had
/// (every live goroutine holds one; dead ones keep theirs on the gfree lists for reuse).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exhausted {
    pub limit: Limit,
    pub stacks: usize,
}

impl fmt::Display for Exhausted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.stacks;
        match &self.limit {
            Limit::Goroutines {
                max,
                from_config: true,
            } => write!(
                f,
                "goroutine limit reached: {n} goroutines have stacks and Config::max_goroutines is {max}; raise it (lab: --max-goroutines)"
            ),
            Limit::Goroutines {
                max,
                from_config: false,
            } => write!(
                f,
                "goroutine limit reached: {n} goroutines have stacks, the most the memory available at boot allows ({max}, at {} a goroutine); set Config::max_goroutines (lab: --max-goroutines) to change it",
                fmt_bytes(MIN_GOROUTINE_BYTES)
            ),
            Limit::MapCount {
                max_map_count,
                mappings,
            } => write!(
                f,
                "kernel mapping limit near: {n} goroutine stacks with mprotect'd guard pages (two mappings each), and the process has {mappings} of vm.max_map_count = {max_map_count} mappings; raise it (sysctl -w vm.max_map_count=...) or run on Linux 6.13+, whose MADV_GUARD_INSTALL guards stacks without splitting mappings"
            ),
            Limit::Memory { available, reserve } => write!(
                f,
                "out of memory: {n} goroutine stacks and MemAvailable is down to {}, below the {} kept for the machine; run fewer goroutines at once",
                fmt_bytes(*available),
                fmt_bytes(*reserve)
            ),
            Limit::AddressSpace { bytes, error } => write!(
                f,
                "cannot reserve {} of address space for goroutine stacks after {n} stacks: {error} (a limit on address space, e.g. ulimit -v, or vm.overcommit_memory = 2?)",
                fmt_bytes(*bytes as u64)
            ),
        }
    }
}

/// Ends the calling goroutine (or the caller of newproc) after a failed stack allocation: the
/// runtime has recorded the error; this unwinds with it as the payload, without the panic
/// hook's message, so that `exit::panic_message` shows the clear error to whoever catches it.
#[cold]
pub fn unwind_exhausted(e: Exhausted) -> ! {
    std::panic::resume_unwind(Box::new(RunError::Exhausted(e)))
}

/// One goroutine stack in an arena: `[limit, base)`, the guard page at `limit`. It does not own
/// its memory: the arena it came from must outlive every use (see [`StackArena`]).
#[derive(Debug)]
pub struct ArenaStack {
    limit: usize,
    base: usize,
}

// SAFETY: `[limit, limit + page)` is a guard page (installed before the stack is handed out)
// and above it lie `stack_size >= MIN_STACK_SIZE` writable bytes, page-aligned (so aligned to
// STACK_ALIGNMENT); the memory stays mapped until the arena is dropped, which its owner does
// only after every coroutine on its stacks is gone.
unsafe impl corosensei::stack::Stack for ArenaStack {
    #[inline]
    fn base(&self) -> corosensei::stack::StackPointer {
        corosensei::stack::StackPointer::new(self.base).expect("stack base is not null")
    }

    #[inline]
    fn limit(&self) -> corosensei::stack::StackPointer {
        corosensei::stack::StackPointer::new(self.limit).expect("stack limit is not null")
    }
}

/// The guard a runtime's arena uses, once resolved from `StackGuard::Auto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Guard {
    Madvise,
    Mprotect,
}

/// What the arena's mutex guards.
struct Carving {
    /// The free part of the newest chunk: `[next, end)`.
    next: usize,
    end: usize,
    /// Every chunk, `(address, length)`, unmapped on drop.
    chunks: Vec<(usize, usize)>,
    /// The next chunk's size in stacks.
    next_chunk_stacks: usize,
    /// Batched guards: the slots of the newest chunk below this address have their guard
    /// pages already (installed ahead by the stack that reached the first of them).
    guarded: usize,
    /// Stacks carved so far.
    stacks: usize,
    /// mprotect guards: stacks that may still be carved before the process's mappings are
    /// counted again.
    map_budget: usize,
    /// The count of stacks at which MemAvailable is read next (see
    /// [`StackArena::stacks_until_next_check`]); `usize::MAX` while a read is under way, or
    /// for good where the machine has no /proc/meminfo.
    memory_check_at: usize,
}

/// A runtime's goroutine stacks (see the module's doc). Dropping it unmaps every stack: its
/// owner drops it after every goroutine that ran on one is gone.
pub struct StackArena {
    /// The usable bytes of a stack, a whole number of pages.
    stack_size: usize,
    page: usize,
    guard: Guard,
    /// madvise guards: whether they are installed a run of slots at a time, with
    /// process_madvise (where the kernel takes it), rather than one madvise a stack.
    batch: bool,
    /// The live-goroutine limit (counted in stacks) and whether it came from the Config.
    max: usize,
    max_from_config: bool,
    /// MemAvailable under which no further stack is carved.
    reserve: u64,
    carving: Mutex<Carving>,
}

impl fmt::Debug for StackArena {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StackArena")
            .field("stack_size", &self.stack_size)
            .field("guard", &self.guard)
            .field("max", &self.max)
            .field("stacks", &self.stacks())
            .finish()
    }
}

impl StackArena {
    /// The arena for a runtime booted with `cfg` (its stack size, guard and live-goroutine
    /// limit). Nothing is mapped yet. `StackGuard::Madvise` on a kernel without it is an
    /// invalid configuration.
    pub fn new(cfg: &Config) -> Result<StackArena, RunError> {
        let guard = match cfg.stack_guard {
            StackGuard::Auto if guard_install_works() => Guard::Madvise,
            StackGuard::Auto | StackGuard::Mprotect => Guard::Mprotect,
            StackGuard::Madvise if guard_install_works() => Guard::Madvise,
            StackGuard::Madvise => {
                return Err(RunError::InvalidConfig(
                    "stack guard madvise needs Linux 6.13 or later (MADV_GUARD_INSTALL), which this kernel refused; use auto or mprotect".into(),
                ))
            }
        };
        let page = page_size();
        let stack_size = cfg.stack_size.div_ceil(page) * page;
        let reserve = memory_reserve();
        let (max, max_from_config) = match cfg.max_goroutines {
            Some(n) => (n, true),
            None => (default_max_goroutines(reserve), false),
        };
        Ok(StackArena {
            stack_size,
            page,
            guard,
            batch: guard == Guard::Madvise && guard_batch_works(),
            max,
            max_from_config,
            reserve,
            carving: Mutex::new(Carving {
                next: 0,
                end: 0,
                guarded: 0,
                chunks: Vec::new(),
                next_chunk_stacks: FIRST_CHUNK_STACKS,
                stacks: 0,
                map_budget: 0,
                // The first stack reads it: the run's first figure, in the run's own time.
                memory_check_at: 1,
            }),
        })
    }

    /// The usable size of every stack, in bytes.
    pub fn stack_size(&self) -> usize {
        self.stack_size
    }

    /// The live-goroutine limit this arena enforces (counted in stacks).
    pub fn max_goroutines(&self) -> usize {
        self.max
    }

    /// Whether the guard pages split mappings (mprotect) rather than not (madvise).
    pub fn guard(&self) -> StackGuard {
        match self.guard {
            Guard::Madvise => StackGuard::Madvise,
            Guard::Mprotect => StackGuard::Mprotect,
        }
    }

    /// Whether madvise guards are installed a run of slots at a time (process_madvise).
    pub fn guard_batched(&self) -> bool {
        self.batch
    }

    /// Stacks carved so far.
    pub fn stacks(&self) -> usize {
        self.lock().stacks
    }

    /// Address space reserved so far, in bytes.
    pub fn reserved(&self) -> usize {
        self.lock().chunks.iter().map(|c| c.1).sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Carving> {
        // A panic never happens while the lock is held (only arithmetic and mmap inside).
        self.carving.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn slot(&self) -> usize {
        self.stack_size + self.page
    }

    fn exhausted(&self, limit: Limit, stacks: usize) -> Exhausted {
        Exhausted { limit, stacks }
    }

    /// A fresh stack with its guard page installed, or the limit that stops it.
    pub fn alloc(&self) -> Result<ArenaStack, Exhausted> {
        let slot = self.slot();
        let (lo, stacks, check, guarded) = {
            let mut c = self.lock();
            if c.stacks >= self.max {
                return Err(self.exhausted(
                    Limit::Goroutines {
                        max: self.max,
                        from_config: self.max_from_config,
                    },
                    c.stacks,
                ));
            }
            if self.guard == Guard::Mprotect && c.map_budget == 0 {
                c.map_budget = self.map_budget(c.stacks)?;
            }
            if c.end - c.next < slot {
                self.reserve_chunk(&mut c)?;
            }
            let lo = c.next;
            let guarded = self.batch;
            if guarded && lo >= c.guarded {
                c.guarded = self.guard_run(lo, c.end, c.stacks)?;
            }
            c.next += slot;
            c.stacks += 1;
            if self.guard == Guard::Mprotect {
                c.map_budget -= 1;
            }
            let check = c.stacks >= c.memory_check_at;
            if check {
                // Nobody else reads it meanwhile; `check_memory` sets the next point.
                c.memory_check_at = usize::MAX;
            }
            (lo, c.stacks, check, guarded)
        };
        if !guarded {
            self.install_guard(lo, stacks)?;
        }
        if check {
            self.check_memory(stacks)?;
        }
        Ok(ArenaStack {
            limit: lo,
            base: lo + slot,
        })
    }

    /// Reads MemAvailable (the `stacks`th stack was due to), stops below the reserve, and sets
    /// when to read it again.
    fn check_memory(&self, stacks: usize) -> Result<(), Exhausted> {
        let available = memory::mem_available();
        let next = match available {
            Some(a) => stacks.saturating_add(self.stacks_until_next_check(a)),
            None => usize::MAX,
        };
        self.lock().memory_check_at = next;
        match available {
            Some(available) if available < self.reserve => Err(self.exhausted(
                Limit::Memory {
                    available,
                    reserve: self.reserve,
                },
                stacks,
            )),
            _ => Ok(()),
        }
    }

    /// How many stacks may be carved before MemAvailable is read again, when it was
    /// `available`: half of what the margin above the reserve could take at worst, counting a
    /// whole slot a stack (a stack commits at most its size, and its G and its share of page
    /// tables are less than the slot's guard page, which commits nothing). So between two reads
    /// the arena's stacks can take at most half the margin, the other half staying for the
    /// rest of the machine, and the reads come closer together as the margin shrinks, down to
    /// one a stack at the reserve. Far from it they are rare: with 20 GiB above the reserve and
    /// 64 KiB stacks, one read every 160k stacks. The fixed read every 1024 stacks this
    /// replaces cost 20-80 us a read in `lab` (20-70 ns a fresh stack, measured on a 2-core
    /// Xeon VM) and could commit 64 MiB past the reserve between two reads.
    fn stacks_until_next_check(&self, available: u64) -> usize {
        let margin = available.saturating_sub(self.reserve);
        let worst = 2 * self.slot() as u64;
        usize::try_from(margin / worst).unwrap_or(usize::MAX).max(1)
    }

    /// Reserves the next chunk (the carving lock is held).
    fn reserve_chunk(&self, c: &mut Carving) -> Result<(), Exhausted> {
        let slot = self.slot();
        let most = (MAX_CHUNK_BYTES / slot).max(1);
        let n = c.next_chunk_stacks.min(most);
        let len = n * slot;
        // SAFETY: a fresh anonymous private mapping that nothing else refers to.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            let error = std::io::Error::last_os_error().to_string();
            return Err(self.exhausted(Limit::AddressSpace { bytes: len, error }, c.stacks));
        }
        c.chunks.push((p as usize, len));
        c.next = p as usize;
        c.guarded = c.next;
        c.end = p as usize + len;
        c.next_chunk_stacks = (n * 2).min(most);
        Ok(())
    }

    /// Batched guards: gives the slot at `lo` and the next ones of its chunk, up to
    /// [`guard::GUARD_BATCH`] in all, their guard pages with one system call, under the carving
    /// lock (a concurrent alloc must not hand out a slot of the run before its guard is in);
    /// returns the end of the run guarded. The stack that reaches an unguarded slot pays for
    /// the run, inside its own alloc: the cost stays where the stacks are made, in fewer
    /// calls.
    fn guard_run(&self, lo: usize, end: usize, stacks: usize) -> Result<usize, Exhausted> {
        let slot = self.slot();
        let n = ((end - lo) / slot).min(guard::GUARD_BATCH);
        // SAFETY: the `n` slots from `lo` lie in the newest chunk, at or above its carving
        // point, so no stack has been handed out on any of them.
        match unsafe { guard::madvise_run(lo, slot, self.page, n) } {
            Ok(k) => Ok(lo + k * slot),
            Err(err) => Err(self.guard_failed(err, stacks)),
        }
    }

    /// Makes the first page of the slot at `lo` a guard page.
    fn install_guard(&self, lo: usize, stacks: usize) -> Result<(), Exhausted> {
        // SAFETY: `lo` is the start of a slot this call carved out of a live chunk, and no
        // stack has been handed out on it yet.
        let r = unsafe {
            match self.guard {
                Guard::Madvise => guard::madvise_one(lo, self.page),
                Guard::Mprotect => guard::mprotect_one(lo, self.page),
            }
        };
        r.map_err(|err| self.guard_failed(err, stacks))
    }

    /// The limit a refused guard page stops at.
    fn guard_failed(&self, err: std::io::Error, stacks: usize) -> Exhausted {
        if self.guard == Guard::Mprotect && err.raw_os_error() == Some(libc::ENOMEM) {
            // The kernel's mapping limit, reached before the count said so (another runtime
            // of this process took mappings meanwhile).
            return self.exhausted(map_count_limit(), stacks);
        }
        self.exhausted(
            Limit::AddressSpace {
                bytes: self.page,
                error: format!("installing a guard page failed: {err}"),
            },
            stacks,
        )
    }

    /// How many more mprotect-guarded stacks the process's mapping limit allows now, keeping
    /// [`MAP_RESERVE`] mappings free; at least one, or the limit.
    fn map_budget(&self, stacks: usize) -> Result<usize, Exhausted> {
        let limit = map_count_limit();
        let Limit::MapCount {
            max_map_count,
            mappings,
        } = limit
        else {
            unreachable!()
        };
        // Two mappings a stack, and one more for a chunk that may have to be reserved.
        let free = max_map_count.saturating_sub(mappings + MAP_RESERVE + 1);
        if free < 2 {
            return Err(self.exhausted(limit, stacks));
        }
        Ok(free / 2)
    }
}

impl Drop for StackArena {
    fn drop(&mut self) {
        let c = self.carving.get_mut().unwrap_or_else(|e| e.into_inner());
        for &(p, len) in &c.chunks {
            // SAFETY: the chunk was mapped by this arena, and its owner drops the arena only
            // after every coroutine on its stacks is gone (see `StackArena`).
            unsafe { libc::munmap(p as *mut _, len) };
        }
    }
}

/// The process's mappings and the kernel's limit on them, now.
fn map_count_limit() -> Limit {
    Limit::MapCount {
        max_map_count: max_map_count(),
        mappings: count_mappings(),
    }
}

/// `vm.max_map_count` (65530, Linux's default, if it cannot be read).
pub fn max_map_count() -> usize {
    std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(65530)
}

/// The mappings this process has (the lines of /proc/self/maps; 0 if it cannot be read).
pub fn count_mappings() -> usize {
    std::fs::read("/proc/self/maps")
        .map(|b| b.iter().filter(|&&c| c == b'\n').count())
        .unwrap_or(0)
}

/// The memory the arena leaves to the machine: a thirty-second of it, at least 256 MiB.
fn memory_reserve() -> u64 {
    let total = memory::mem_total().unwrap_or(0);
    (total / 32).max(256 << 20)
}

/// The default live-goroutine limit: MemAvailable less the reserve, over the least a live
/// goroutine costs. Without /proc/meminfo: no limit but the others.
fn default_max_goroutines(reserve: u64) -> usize {
    match memory::mem_available() {
        Some(avail) => (avail.saturating_sub(reserve) / MIN_GOROUTINE_BYTES).max(1) as usize,
        None => usize::MAX,
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn arena(guard: StackGuard, max: Option<usize>) -> StackArena {
        StackArena::new(&Config {
            stack_guard: guard,
            max_goroutines: max,
            ..Config::default()
        })
        .unwrap()
    }

    /// Stacks are carved one above the other, each with its guard page below it, and the
    /// chunks grow: 64 stacks, then 128.
    #[test]
    fn stacks_are_carved_with_guards_between() {
        let a = arena(StackGuard::Auto, None);
        let page = page_size();
        let s: Vec<ArenaStack> = (0..100).map(|_| a.alloc().unwrap()).collect();
        use corosensei::stack::Stack;
        for w in s[..64].windows(2) {
            assert_eq!(w[1].limit().get(), w[0].base().get());
        }
        for st in &s {
            assert_eq!(st.base().get() - st.limit().get(), a.stack_size() + page);
        }
        assert_eq!(a.stacks(), 100);
        assert_eq!(a.reserved(), (64 + 128) * (a.stack_size() + page));
    }

    /// MemAvailable is read again after half of what the margin above the reserve could take
    /// at worst: rarely far from the reserve, at every stack below it.
    #[test]
    fn memory_is_read_as_often_as_the_margin_asks() {
        let a = arena(StackGuard::Auto, None);
        let worst = 2 * (a.stack_size() + page_size()) as u64;
        assert_eq!(a.stacks_until_next_check(a.reserve + 10 * worst), 10);
        assert_eq!(a.stacks_until_next_check(a.reserve + 10 * worst + 1), 10);
        assert_eq!(a.stacks_until_next_check(a.reserve + worst - 1), 1);
        assert_eq!(a.stacks_until_next_check(a.reserve), 1);
        assert_eq!(a.stacks_until_next_check(0), 1);
        // The first stack reads it and sets the next read by what it found.
        assert_eq!(a.lock().memory_check_at, 1);
        a.alloc().unwrap();
        let next = a.lock().memory_check_at;
        match memory::mem_available() {
            Some(_) => assert!(next > 1 && next < usize::MAX, "next read at {next}"),
            None => assert_eq!(next, usize::MAX),
        }
    }

    /// The limit on goroutines is a clear error with the count, not a panic.
    #[test]
    fn the_goroutine_limit_is_an_error() {
        let a = arena(StackGuard::Auto, Some(3));
        for _ in 0..3 {
            a.alloc().unwrap();
        }
        let e = a.alloc().unwrap_err();
        assert_eq!(
            e,
            Exhausted {
                limit: Limit::Goroutines {
                    max: 3,
                    from_config: true
                },
                stacks: 3
            }
        );
        assert!(e.to_string().contains("Config::max_goroutines is 3"), "{e}");
    }

    /// madvise guards leave a chunk one mapping; mprotect guards split it, two a stack.
    /// (On a kernel without MADV_GUARD_INSTALL, asking for madvise is refused instead.)
    #[test]
    fn guards_split_mappings_only_with_mprotect() {
        if !guard_install_works() {
            let e = StackArena::new(&Config {
                stack_guard: StackGuard::Madvise,
                ..Config::default()
            })
            .unwrap_err();
            assert!(matches!(e, RunError::InvalidConfig(_)), "{e}");
            return;
        }
        let m = arena(StackGuard::Madvise, None);
        m.alloc().unwrap();
        let before = count_mappings();
        let kept: Vec<_> = (0..40).map(|_| m.alloc().unwrap()).collect();
        let grew_madvise = count_mappings().saturating_sub(before);
        let p = arena(StackGuard::Mprotect, None);
        p.alloc().unwrap();
        let before = count_mappings();
        let kept2: Vec<_> = (0..40).map(|_| p.alloc().unwrap()).collect();
        let grew_mprotect = count_mappings().saturating_sub(before);
        drop((kept, kept2));
        // Other tests map and unmap meanwhile: allow some noise either way.
        assert!(grew_madvise < 20, "madvise: {grew_madvise} new mappings");
        assert!(
            grew_mprotect >= 70,
            "mprotect: {grew_mprotect} new mappings"
        );
    }
}
