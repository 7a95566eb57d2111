//! The subjects the lab measures: the scheduler generations and the peers, listed in one
//! [`registry`]; the peers themselves in [`peers`].

pub mod peers;
pub mod registry;
