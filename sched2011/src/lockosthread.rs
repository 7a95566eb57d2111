//! LockOSThread: wiring a goroutine to its M (lockedg/lockedm), which gput, mget and
//! nextgandunlock honour by handing the goroutine only to that M.

use crate::m::getm;
use std::ptr::null_mut;
use std::sync::atomic::Ordering::Relaxed;

/// Port of LockOSThread (2011 proc.c).
pub fn lock_os_thread() {
    let m = getm();
    let gp = m.curg();
    m.lockedg.store(gp.as_ptr(), Relaxed);
    gp.lockedm.store(m as *const _ as *mut _, Relaxed);
}

/// Port of UnlockOSThread (2011 proc.c).
pub fn unlock_os_thread() {
    let m = getm();
    let gp = m.curg();
    m.lockedg.store(null_mut(), Relaxed);
    gp.lockedm.store(null_mut(), Relaxed);
}
