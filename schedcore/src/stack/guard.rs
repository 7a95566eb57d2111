//! The system calls that make guard pages: one `madvise(MADV_GUARD_INSTALL)` or
//! `mprotect(PROT_NONE)` a stack, or one `process_madvise(MADV_GUARD_INSTALL)` on the calling
//! process for a run of slots, and the probes that say which of them this kernel takes.
//!
//! Measured on a 2-core Intel Xeon VM (Linux 6.18), each slot of a fresh 64-KiB-stack chunk
//! guarded in a tight loop: a bare system call (getppid) 95 ns, madvise 340 ns, mprotect
//! 1.4-1.6 us (it also splits the mapping), process_madvise 490 ns for one page and 240 ns a
//! page for 32 or more pages a call (270 ns at 8). Inside `lab` (an instrumented build, run
//! interleaved with the one before batching), madvise took about 400 ns a fresh stack and the
//! batched call 270 ns. mprotect cannot be batched: it takes one contiguous range, and the
//! guard pages are a slot apart.

use std::io;
use std::sync::OnceLock;

/// Linux 6.13's `MADV_GUARD_INSTALL`, not in the `libc` crate yet.
const MADV_GUARD_INSTALL: libc::c_int = 102;

/// `PIDFD_SELF` (linux/pidfd.h): a pidfd naming the calling thread's own process, with no
/// file descriptor to open or keep; not in the `libc` crate yet. Whether process_madvise on
/// one's own memory takes guard advice depends on the kernel (this machine's 6.18 does);
/// [`guard_batch_works`] finds out.
const PIDFD_SELF: libc::c_int = -10_000;

/// The most slots one process_madvise guards: the first chunk's 64 stacks in one call. Past
/// 32 pages a call the cost per page no longer falls (240 ns measured, against 270 ns at 8),
/// and a batch guards at most 63 slots that the run may never carve (15 us of work, once a
/// runtime).
/// Below the kernel's IOV_MAX (1024).
pub(super) const GUARD_BATCH: usize = 64;

/// The page size.
pub fn page_size() -> usize {
    static PAGE: OnceLock<usize> = OnceLock::new();
    // SAFETY: sysconf reads a constant of the system.
    *PAGE.get_or_init(|| unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize)
}

/// Whether this kernel installs guard pages with `MADV_GUARD_INSTALL` (tried once, on a
/// mapping of its own).
pub fn guard_install_works() -> bool {
    static WORKS: OnceLock<bool> = OnceLock::new();
    // SAFETY: the scratch pages are the probe's own.
    *WORKS.get_or_init(|| on_scratch_pages(2, |p, page| unsafe { madvise_one(p, page) }.is_ok()))
}

/// Whether this kernel takes `MADV_GUARD_INSTALL` through `process_madvise` on the calling
/// process, for several pages at once (tried once, on a mapping of its own: two pages a page
/// apart, as guard pages lie a slot apart).
pub fn guard_batch_works() -> bool {
    static WORKS: OnceLock<bool> = OnceLock::new();
    *WORKS.get_or_init(|| {
        guard_install_works()
            && on_scratch_pages(4, |p, page| {
                // SAFETY: the scratch pages are the probe's own.
                unsafe { madvise_run(p, 2 * page, page, 2) }.is_ok_and(|n| n == 2)
            })
    })
}

/// Runs `f` on `pages` fresh private pages of its own, unmapped after; false if they cannot be
/// mapped.
fn on_scratch_pages(pages: usize, f: impl FnOnce(usize, usize) -> bool) -> bool {
    let page = page_size();
    // SAFETY: a fresh anonymous mapping that nothing else refers to; `f` only advises its
    // pages, and it is unmapped before anything else could see it.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            pages * page,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            return false;
        }
        let ok = f(p as usize, page);
        libc::munmap(p, pages * page);
        ok
    }
}

/// Makes the page at `lo` a guard page with `MADV_GUARD_INSTALL`.
///
/// # Safety
/// The caller owns `[lo, lo + page)`: mapped, page-aligned, and nothing lives on it (the
/// advice throws its contents away).
pub(super) unsafe fn madvise_one(lo: usize, page: usize) -> io::Result<()> {
    // SAFETY: the caller's promise.
    let r = unsafe { libc::madvise(lo as *mut _, page, MADV_GUARD_INSTALL) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Makes the page at `lo` a guard page with `mprotect(PROT_NONE)` (which splits its mapping).
///
/// # Safety
/// As for [`madvise_one`]: after the call nothing may touch the page.
pub(super) unsafe fn mprotect_one(lo: usize, page: usize) -> io::Result<()> {
    // SAFETY: the caller's promise.
    let r = unsafe { libc::mprotect(lo as *mut _, page, libc::PROT_NONE) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Makes the first page of each of `n` slots from `lo`, `slot` bytes apart, a guard page with
/// one `process_madvise(MADV_GUARD_INSTALL)`. Returns how many slots, from the first, got
/// their guard (the kernel may stop part way; at least one), or the error.
///
/// # Safety
/// As for [`madvise_one`], for the first page of each of the `n` slots.
pub(super) unsafe fn madvise_run(
    lo: usize,
    slot: usize,
    page: usize,
    n: usize,
) -> io::Result<usize> {
    let iov: Vec<libc::iovec> = (0..n)
        .map(|i| libc::iovec {
            iov_base: (lo + i * slot) as *mut libc::c_void,
            iov_len: page,
        })
        .collect();
    // SAFETY: the caller's promise for every page the iovecs name; the kernel only reads the
    // iovecs, which live until the call returns.
    let r = unsafe {
        libc::syscall(
            libc::SYS_process_madvise,
            PIDFD_SELF,
            iov.as_ptr(),
            iov.len(),
            MADV_GUARD_INSTALL,
            0,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // The bytes advised: whole pages of whole iovecs, from the first.
    match r as usize / page {
        0 => Err(io::Error::other("process_madvise advised no page")),
        k => Ok(k.min(n)),
    }
}
