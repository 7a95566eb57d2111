//! Test helpers: stand-in G's for the run queues (nodes with an id and a schedlink, in one
//! buffer that outlives every queue of a test) and conversion back to their ids.

use std::ptr::NonNull;

use schedcore::ptr::Link;

use crate::globrunq::SchedLink;

/// A stand-in G: its number, and the link the global queue chains it by.
pub(crate) struct Node {
    id: usize,
    schedlink: Link<Node>,
}

impl SchedLink for Node {
    fn schedlink(&self) -> &Link<Node> {
        &self.schedlink
    }
}

/// `n` nodes standing in for G's; item `i` is the node with id `i`.
pub(crate) struct Items {
    buf: Box<[Node]>,
}

impl Items {
    pub(crate) fn new(n: usize) -> Items {
        Items {
            buf: (0..n.max(1))
                .map(|id| Node {
                    id,
                    schedlink: Link::none(),
                })
                .collect(),
        }
    }

    pub(crate) fn ptr(&self, i: usize) -> NonNull<Node> {
        NonNull::from(&self.buf[i])
    }

    /// The id of an item from its address (checked to be one of this buffer's nodes).
    pub(crate) fn id(&self, g: NonNull<Node>) -> usize {
        let base = self.buf.as_ptr() as usize;
        let off = (g.as_ptr() as usize)
            .checked_sub(base)
            .expect("pointer below the item buffer");
        let size = std::mem::size_of::<Node>();
        assert!(off % size == 0, "pointer inside an item");
        let node = self
            .buf
            .get(off / size)
            .expect("pointer past the item buffer");
        node.id
    }
}
