//! `lab list`: the schedulers, workloads and peers of the registry.

use crate::subjects::registry;

/// Prints the schedulers, workloads and peers.
pub(super) fn list() {
    let mut out = String::new();
    out.push_str("schedulers (oldest first; the first given is the baseline):\n");
    for s in registry::SCHEDULERS {
        out.push_str(&format!(
            "  {:<28} {} [procs <= {}; runtime lock {}]\n",
            s.name, s.about, s.max_procs, s.era_lock
        ));
    }
    out.push_str(
        "  (runtime locks: futex2011 = July 2011's blocking futex lock, the seed's table's; spin = lock_futex.c, Go 1.0 on; --lock picks one for all)\n",
    );
    out.push_str("workloads (* = in the default set):\n");
    for w in registry::WORKLOADS {
        let mark = if w.core { "*" } else { " " };
        out.push_str(&format!("  {:<27}{mark} {}\n", w.name, w.about));
    }
    let preemptive: Vec<&str> = registry::SCHEDULERS
        .iter()
        .filter(|s| s.preemptive)
        .map(|s| s.name)
        .collect();
    out.push_str(&format!(
        "  (workloads with a CPU hog report \"starved\" on schedulers without preemption; preemptive: {})\n",
        if preemptive.is_empty() { "none".to_string() } else { preemptive.join(", ") }
    ));
    out.push_str("peers (add with --peers):\n");
    for p in registry::PEERS {
        out.push_str(&format!("  {:<28} {}\n", p.name, p.about));
    }
    out.push_str(
        "  (go2011-*, go1.*: the real releases, built once from their source archives with --go-src DIR or LAB_GO_SRC; `lab history list` shows what is found and built)\n",
    );
    print!("{out}");
}
