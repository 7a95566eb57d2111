//! The real historical Go runtimes, built from their source archives: the five trees the lab
//! knows ([`release`]), their archives found and checked ([`archive`]), the host-side fixes
//! they need on a current Debian ([`fixes`]), the tools their builds need ([`prereq`]), the
//! cached toolchain and runtime test binary ([`toolchain`]), running Go's own runtime
//! benchmarks in a release's dialect ([`bench`]), and a release's time split by runtime
//! subsystem under `perf` ([`profile`]).
//!
//! Every caller goes through [`prepare`] (archive found and checked, toolchain and test binary
//! built or taken from the cache; [`ready`] adds a progress line) and then [`bench::run`] (one
//! process, one figure); the release columns (`subjects/peers/release.rs`) do the same, with
//! [`release::Release::benchmark`] saying which lab workloads a release measures with its own
//! benchmark.
//!
//! Nothing here downloads anything: a missing archive or tool is an error that says what it
//! is and where to get it. Nothing is read but the archives: the fixes and the 2011 benchmark
//! hunk are the lab's own code.

pub mod archive;
pub mod bench;
pub mod fixes;
pub mod prereq;
pub mod profile;
pub mod release;
pub mod toolchain;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use prereq::Tool;
use release::{Fix, Release};
use std::fmt;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use toolchain::Toolchain;

/// A release made ready by [`prepare`].
#[derive(Debug)]
pub struct Prepared {
    pub toolchain: Toolchain,
    /// Whether anything was built (the toolchain, or only its test binary) this time.
    pub built: bool,
}

/// The front door for every caller (`lab history`, the release columns, `lab fidelity`): the
/// release's archive in the folder `src_dir`, hashed, and its toolchain with its
/// runtime test binary, built under `target/gohist/` unless they are cached. `warn` hears an
/// archive whose sha256 is not the table's (before any build starts); `progress` hears what a
/// build is doing, and is not called when everything is cached.
pub fn prepare(
    release: &'static Release,
    src_dir: &Path,
    warn: &mut dyn FnMut(&str),
    progress: toolchain::Progress,
) -> Result<Prepared, HistoryError> {
    prepare_in(&toolchain::cache_root(), release, src_dir, warn, progress)
}

/// [`prepare`] with the builds under `root` rather than `target/gohist/`.
pub fn prepare_in(
    root: &Path,
    release: &'static Release,
    src_dir: &Path,
    warn: &mut dyn FnMut(&str),
    progress: toolchain::Progress,
) -> Result<Prepared, HistoryError> {
    let archive = archive::find(release, src_dir)?;
    if let Some(w) = archive.warning(release) {
        warn(&w);
    }
    if let Some(tc) = toolchain::cached(release, &archive, root) {
        if tc.test_binary().is_file() {
            return Ok(Prepared {
                toolchain: tc,
                built: false,
            });
        }
    }
    let toolchain = toolchain::ensure(release, &archive, root, progress)?;
    Ok(Prepared {
        toolchain,
        built: true,
    })
}

/// [`prepare`] with what a person at a terminal sees: a spinner with the build log's latest
/// line while a build runs (one line saying a build started where stderr is no terminal), the
/// time it took, and a warning for an archive whose hash is not the table's; nothing with
/// `quiet`.
pub fn ready(r: &'static Release, dir: &Path, quiet: bool) -> Result<Toolchain, HistoryError> {
    let bar = spinner(quiet, r.name);
    let start = Instant::now();
    // Without a terminal (CI, a log) no spinner: one line when a build starts instead.
    let mut announced = quiet || !bar.is_hidden();
    let prepared = prepare(
        r,
        dir,
        &mut |w: &str| bar.suspend(|| eprintln!("lab: warning: {w}")),
        &mut |msg: &str| {
            if !announced {
                eprintln!("lab: building {} (a minute or two)", r.name);
                announced = true;
            }
            bar.set_message(msg.to_string());
        },
    );
    bar.finish_and_clear();
    let prepared = prepared?;
    let tc = prepared.toolchain;
    if prepared.built && !quiet {
        eprintln!(
            "lab: {} built in {:.0} s{}",
            r.name,
            start.elapsed().as_secs_f64(),
            if tc.stamp.skipped.is_empty() {
                String::new()
            } else {
                format!(
                    " (make -k went past {}, which the runtime's tests do not need)",
                    tc.stamp.skipped.join(", ")
                )
            }
        );
    }
    Ok(tc)
}

/// A one-line spinner on stderr (hidden when it is not a terminal or with `quiet`).
fn spinner(quiet: bool, name: &str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template(&format!("{{spinner}} {name}: {{wide_msg}}"))
            .expect("valid progress template"),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

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
        archive: PathBuf,
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
            HistoryError::WrongVersion {
                release,
                archive,
                found,
            } => write!(
                f,
                "{}: the archive {} holds {found:?}, not {}",
                release.name,
                archive.display(),
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
    fn a_cached_build_is_taken_without_building() {
        let src = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        let r = by_name("go1.4.3").unwrap();
        std::fs::write(src.path().join(r.archive), b"my own archive").unwrap();
        let sha = archive::sha256_file(&src.path().join(r.archive)).unwrap();
        let dir = toolchain::build_dir(root.path(), r, &sha);
        std::fs::create_dir_all(dir.join("go")).unwrap();
        std::fs::write(
            dir.join(toolchain::STAMP),
            format!(
                "recipe {}\nversion go version go1.4.3 linux/amd64\n",
                toolchain::RECIPE
            ),
        )
        .unwrap();
        std::fs::write(dir.join(toolchain::TEST_BINARY), b"").unwrap();
        let mut warnings = Vec::new();
        let p = prepare_in(
            root.path(),
            r,
            src.path(),
            &mut |w: &str| warnings.push(w.to_string()),
            &mut |m: &str| panic!("nothing to build, yet: {m}"),
        )
        .unwrap();
        assert!(!p.built);
        assert_eq!(p.toolchain.dir, dir);
        assert_eq!(p.toolchain.stamp.version, "go version go1.4.3 linux/amd64");
        assert_eq!(
            warnings.len(),
            1,
            "the hash is not the table's: {warnings:?}"
        );
        assert!(warnings[0].contains(&sha) && warnings[0].contains(r.sha256));
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
