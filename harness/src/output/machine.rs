//! The machine a run was measured on: CPU model, cores, OS, the rustc that built the lab and
//! the project's git commit, recorded in every run folder.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Machine {
    /// `model name` from /proc/cpuinfo.
    pub cpu_model: String,
    /// The CPUs this process may run on: procs above it are oversubscribed.
    pub cores: usize,
    /// `PRETTY_NAME` from /etc/os-release, else the target OS.
    pub os: String,
    /// The kernel release (/proc/sys/kernel/osrelease).
    pub kernel: String,
    pub arch: String,
    /// `rustc -V` of the compiler that built the lab.
    pub rustc: String,
    /// The project's commit (`git rev-parse HEAD`), with `+dirty` when tracked files differ.
    pub git_commit: Option<String>,
    /// The versions of the peers' runtimes that are not built into the lab, by peer name
    /// (`go`: its `go version` line).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub peers: BTreeMap<String, String>,
}

/// The CPUs this process may use (1 if unknown).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Machine {
    /// Reads what it can; anything unreadable is "unknown", never an error.
    pub fn detect() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == "model name").then(|| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        let os = std::fs::read_to_string("/etc/os-release")
            .ok()
            .and_then(|s| {
                s.lines().find_map(|l| {
                    l.strip_prefix("PRETTY_NAME=")
                        .map(|v| v.trim_matches('"').to_string())
                })
            })
            .unwrap_or_else(|| std::env::consts::OS.to_string());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "unknown".into());
        Machine {
            cpu_model,
            cores: cores(),
            os,
            kernel,
            arch: std::env::consts::ARCH.to_string(),
            rustc: env!("LAB_RUSTC_VERSION").to_string(),
            git_commit: git_commit(),
            peers: BTreeMap::new(),
        }
    }
}

/// The commit of the project the lab was built from (the workspace holding this crate), or of
/// the current directory's repository if that one is gone.
fn git_commit() -> Option<String> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dirs = [workspace.as_path(), Path::new(".")];
    dirs.iter().find_map(|dir| {
        let head = git(dir, &["rev-parse", "HEAD"])?;
        let dirty = git(dir, &["status", "--porcelain", "--untracked-files=no"])
            .is_some_and(|s| !s.is_empty());
        Some(if dirty { format!("{head}+dirty") } else { head })
    })
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
