//! The real historical Go runtimes, built from their source archives: the five trees the lab
//! knows ([`release`]), their archives found and checked ([`archive`]), the host-side fixes
//! they need on a current Debian ([`fixes`]), the tools their builds need ([`prereq`]), the
//! cached toolchain and runtime test binary ([`toolchain`]), and running Go's own runtime
//! benchmarks in a release's dialect ([`bench`]).
//!
//! Nothing here downloads anything: a missing archive or tool is an error that says what it
//! is and where to get it. Nothing here reads the lab's own `shared/` data either: the fixes
//! and the 2011 benchmark hunk are the lab's code.

pub mod archive;
pub mod bench;
pub mod fixes;
pub mod prereq;
pub mod release;
pub mod toolchain;

use prereq::Tool;
use release::{Fix, Release};
use std::fmt;
use std::path::PathBuf;

/// Why a release could not be found, built or run. Printed by the CLI as one line; a failed
/// build or run also has the tail of its log ([`HistoryError::detail`]).
#[derive(Debug)]
pub enum HistoryError {
    /// Neither `--go-src` nor `LAB_GO_SRC`.
    NoSourceDir,
    /// The folder given does not exist.
    SourceDirMissing(PathBuf),
    /// The release's archive is not in the folder.
    ArchiveMissing {
        release: &'static Release,
        dir: PathBuf,
    },
    /// A file could not be read, written or unpacked.
    Io {
        what: &'static str,
        path: PathBuf,
        err: std::io::Error,
    },
    /// The archive is not a Go source tree.
    NotAGoTree { archive: PathBuf, why: String },
    /// The tree's `VERSION` file names another release.
    WrongVersion {
        release: &'static Release,
        found: String,
    },
    /// A host-side fix did not find the lines it changes.
    FixFailed {
        fix: Fix,
        path: PathBuf,
        why: String,
    },
    /// A host tool the build runs is not on PATH.
    ToolMissing {
        release: &'static Release,
        tool: Tool,
    },
    /// A build step (make.bash, the version check, the test binary) failed.
    BuildFailed {
        release: &'static Release,
        step: &'static str,
        log: PathBuf,
        tail: String,
    },
    /// A name that is not a release.
    UnknownRelease(String),
    /// A benchmark the release does not have.
    UnknownBench {
        release: &'static Release,
        name: String,
    },
    /// The test binary failed, or printed no figure for the benchmark.
    BenchFailed {
        release: &'static Release,
        bench: String,
        procs: usize,
        why: String,
        tail: String,
    },
}

impl HistoryError {
    /// The lines to print before the one-line message: the tail of a failed build's log or a
    /// failed run's output.
    pub fn detail(&self) -> Option<&str> {
        match self {
            HistoryError::BuildFailed { tail, .. } | HistoryError::BenchFailed { tail, .. } => {
                Some(tail)
            }
            _ => None,
        }
    }
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HistoryError::NoSourceDir => write!(
                f,
                "no folder of Go source archives: pass --go-src DIR or set {} (lab history list --help names the files)",
                archive::ENV
            ),
            HistoryError::SourceDirMissing(dir) => {
                write!(f, "the Go source folder {} does not exist", dir.display())
            }
            HistoryError::ArchiveMissing { release, dir } => {
                write!(f, "{}: no {} in {}; ", release.name, release.archive, dir.display())?;
                match release.version {
                    Some(v) => write!(
                        f,
                        "get {v}'s source archive ({}) from the Go project's download page, https://go.dev/dl/ (archived versions), into that folder",
                        release.archive
                    ),
                    None => write!(
                        f,
                        "make it from the Go repository's history at commit {c}: in a clone of https://go.googlesource.com/go, `git archive --prefix=go/ {c} | gzip > {}`",
                        dir.join(release.archive).display(),
                        c = release.commit
                    ),
                }
            }
            HistoryError::Io { what, path, err } => {
                write!(f, "cannot {what} {}: {err}", path.display())
            }
            HistoryError::NotAGoTree { archive, why } => {
                write!(f, "{} is not a Go source archive: {why}", archive.display())
            }
            HistoryError::WrongVersion { release, found } => write!(
                f,
                "{}: the archive {} holds {found:?}, not {}",
                release.name,
                release.archive,
                release.version.unwrap_or(release.name)
            ),
            HistoryError::FixFailed { fix, path, why } => write!(
                f,
                "cannot apply the lab's fix {fix:?} to {}: {why}; is the archive the release it is named after?",
                path.display()
            ),
            HistoryError::ToolMissing { release, tool } => write!(
                f,
                "{}: its build needs `{}` ({}), which is not on PATH; on Debian: apt-get install {}",
                release.name, tool.name, tool.why, tool.package
            ),
            HistoryError::BuildFailed {
                release,
                step,
                log,
                ..
            } => write!(
                f,
                "{}: {step} failed (its tail is above; the whole log is {}); fix the cause and run `lab history build {}` again, which starts the build afresh",
                release.name,
                log.display(),
                release.name
            ),
            HistoryError::UnknownRelease(name) => write!(
                f,
                "unknown release {name:?} (known: {})",
                release::names().join(", ")
            ),
            HistoryError::UnknownBench { release, name } => {
                let known: Vec<String> = release
                    .benchmarks
                    .iter()
                    .map(|b| format!("{} ({})", b.workload, b.go))
                    .collect();
                write!(
                    f,
                    "{} has no runtime benchmark {name:?} (it has: {})",
                    release.name,
                    known.join(", ")
                )
            }
            HistoryError::BenchFailed {
                release,
                bench,
                procs,
                why,
                ..
            } => write!(f, "{bench} on {} at procs {procs}: {why}", release.name),
        }
    }
}

impl std::error::Error for HistoryError {}

#[cfg(test)]
mod tests {
    use super::*;
    use release::by_name;

    #[test]
    fn a_missing_archive_says_where_to_get_it() {
        let dir = PathBuf::from("/src");
        let e = HistoryError::ArchiveMissing {
            release: by_name("go1.1.2").unwrap(),
            dir: dir.clone(),
        };
        let text = e.to_string();
        assert!(text.contains("no go1.1.2.src.tar.gz in /src"), "{text}");
        assert!(text.contains("download page"), "{text}");
        let e = HistoryError::ArchiveMissing {
            release: by_name("go2011-before").unwrap(),
            dir,
        };
        let text = e.to_string();
        assert!(
            text.contains("566bcaa407c2e2895ec93e04d09b684c3b7a1d59"),
            "{text}"
        );
        assert!(
            text.contains("/src/go-2011-07-19-before.src.tar.gz"),
            "{text}"
        );
        assert!(!text.contains('\n'));
    }

    #[test]
    fn no_source_dir_names_the_flag_and_variable() {
        let text = HistoryError::NoSourceDir.to_string();
        assert!(
            text.contains("--go-src") && text.contains("LAB_GO_SRC"),
            "{text}"
        );
    }
}
