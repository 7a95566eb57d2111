//! Test helpers: stand-in G's for the ring (addresses in one buffer, never dereferenced) and
//! conversion back to their numbers.

use std::ptr::NonNull;

/// `n` distinct addresses standing in for G's; item `i` is the address of byte `i`.
pub(crate) struct Items {
    buf: Box<[u8]>,
}

impl Items {
    pub(crate) fn new(n: usize) -> Items {
        Items {
            buf: vec![0u8; n.max(1)].into_boxed_slice(),
        }
    }

    pub(crate) fn ptr(&self, i: usize) -> NonNull<u8> {
        NonNull::from(&self.buf[i])
    }

    /// The number of an item from its address.
    pub(crate) fn id(&self, g: NonNull<u8>) -> usize {
        let base = self.buf.as_ptr() as usize;
        let i = (g.as_ptr() as usize)
            .checked_sub(base)
            .expect("pointer below the item buffer");
        assert!(i < self.buf.len(), "pointer past the item buffer");
        i
    }
}
