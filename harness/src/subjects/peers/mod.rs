//! Peers: the same workloads on something that is not a Go scheduler generation, measured in
//! the same run so that every figure has a reference beside it. A peer that cannot express a
//! workload says so ("n/a" with a reason) instead of inventing a figure. Each implements
//! [`Peer`](super::Peer), through which the registry lists it; none names the registry.

pub mod child;
pub mod floor;
pub mod go;
pub mod may;
mod pool;
pub mod rayon;
pub mod release;
pub mod tokio;

/// The versions of the runtimes behind `peers` that the run's machine file records (the `go`
/// peer's and each release's `go version`; building them, or saying once why one cannot be
/// had, happens here, before the first measurement).
pub fn versions(peers: &[String]) -> std::collections::BTreeMap<String, String> {
    let mut v = release::prepare(peers);
    if peers.iter().any(|p| p == go::NAME) {
        if let Some(version) = go::version() {
            v.insert(go::NAME.to_string(), version);
        }
    }
    v
}
