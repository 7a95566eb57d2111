//! A release's toolchain and runtime test binary, built once and cached under
//! `target/gohist/<release>-<first 12 hex digits of the archive's sha256>/`:
//!
//! ```text
//! go/             the unpacked tree, fixed and built in place (its GOROOT is baked in)
//! shim/           the July-2011 trees' stand-ins for hg and the C compiler
//! build.log       make.bash's output
//! lab-built       the stamp: written last, after the version check
//! test.log        the test binary's build output
//! runtime.test    Go's runtime tests and benchmarks, renamed into place when complete
//! ```
//!
//! A folder without the stamp (a build stopped half way), or whose stamp is of another recipe
//! (the lab's fixes changed), is removed and built afresh from the archive. Two labs must not
//! build the same release at the same moment.

use super::archive::{self, Archive};
use super::release::{Flow, Release};
use super::{fixes, prereq, HistoryError};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The stamp's name in a build folder.
pub const STAMP: &str = "lab-built";
/// The cached test binary's name in a build folder.
pub const TEST_BINARY: &str = "runtime.test";
/// The version of the build recipe (flow, fixes, shims, environment): a stamp of another one
/// is a stale build. Raise it whenever any of those change.
pub const RECIPE: u32 = 2;

/// The folder that holds every release's build: `target/gohist/`.
pub fn cache_root() -> PathBuf {
    crate::subjects::peers::go::target_dir().join("gohist")
}

/// The build folder of `release` from the archive with hash `sha256`.
pub fn build_dir(root: &Path, release: &Release, sha256: &str) -> PathBuf {
    root.join(format!("{}-{}", release.name, Release::short_hash(sha256)))
}

/// What a build folder holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// Nothing.
    Absent,
    /// A build that did not finish, or one of another recipe: it will be built afresh.
    Stale,
    /// A finished toolchain.
    Built(Stamp),
}

/// The stamp of a finished toolchain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    pub recipe: u32,
    /// The toolchain's version line (`go version go1.1.2 linux/amd64`, `6g version 8330e9e06541`).
    pub version: String,
    /// Packages the July-2011 `make.bash` could not build and skipped (`net`, `os/user`: their
    /// cgo cannot read gcc 12's messages); the runtime's tests need none of them.
    pub skipped: Vec<String>,
}

impl Stamp {
    fn render(&self) -> String {
        let mut text = format!("recipe {}\nversion {}\n", self.recipe, self.version);
        if !self.skipped.is_empty() {
            text.push_str(&format!("skipped {}\n", self.skipped.join(" ")));
        }
        text
    }

    fn parse(text: &str) -> Option<Stamp> {
        let mut recipe = None;
        let mut version = None;
        let mut skipped = Vec::new();
        for line in text.lines() {
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            match key {
                "recipe" => recipe = value.parse().ok(),
                "version" => version = Some(value.to_string()),
                "skipped" => skipped = value.split_whitespace().map(String::from).collect(),
                _ => {}
            }
        }
        Some(Stamp {
            recipe: recipe?,
            version: version.filter(|v| !v.is_empty())?,
            skipped,
        })
    }
}

/// What the build folder `dir` holds.
pub fn state(dir: &Path) -> State {
    if !dir.exists() {
        return State::Absent;
    }
    match std::fs::read_to_string(dir.join(STAMP))
        .ok()
        .and_then(|t| Stamp::parse(&t))
    {
        Some(stamp) if stamp.recipe == RECIPE => State::Built(stamp),
        _ => State::Stale,
    }
}

/// A built release.
#[derive(Clone, Debug)]
pub struct Toolchain {
    pub release: &'static Release,
    /// The build folder.
    pub dir: PathBuf,
    /// The archive's sha256 (the folder's key).
    pub sha256: String,
    pub stamp: Stamp,
}

impl Toolchain {
    /// The tree, which is the toolchain's GOROOT.
    pub fn goroot(&self) -> PathBuf {
        self.dir.join("go")
    }

    /// The runtime's test binary (there once [`ensure_test_binary`] has run).
    pub fn test_binary(&self) -> PathBuf {
        self.dir.join(TEST_BINARY)
    }
}

/// What a build is doing, for a progress line.
pub type Progress<'a> = &'a mut dyn FnMut(&str);

/// The release's toolchain from `archive`, built under `root` unless a finished build is
/// there, with its runtime test binary. `progress` hears what is happening (the build log's
/// latest line, a few times a second).
pub fn ensure(
    release: &'static Release,
    archive: &Archive,
    root: &Path,
    progress: Progress,
) -> Result<Toolchain, HistoryError> {
    let dir = build_dir(root, release, &archive.sha256);
    let stamp = match state(&dir) {
        State::Built(stamp) => stamp,
        State::Absent | State::Stale => build(release, archive, &dir, progress)?,
    };
    let tc = Toolchain {
        release,
        dir,
        sha256: archive.sha256.clone(),
        stamp,
    };
    ensure_test_binary(&tc, progress)?;
    Ok(tc)
}

/// The finished toolchain of `release` from `archive` under `root`, if there is one (with or
/// without its test binary); builds nothing.
pub fn cached(release: &'static Release, archive: &Archive, root: &Path) -> Option<Toolchain> {
    let dir = build_dir(root, release, &archive.sha256);
    match state(&dir) {
        State::Built(stamp) => Some(Toolchain {
            release,
            dir,
            sha256: archive.sha256.clone(),
            stamp,
        }),
        _ => None,
    }
}

/// Builds the toolchain in `dir` afresh: unpack, fix, make.bash, version check, stamp.
fn build(
    release: &'static Release,
    archive: &Archive,
    dir: &Path,
    progress: Progress,
) -> Result<Stamp, HistoryError> {
    prereq::check(release)?;
    if dir.exists() {
        progress("removing an unfinished build");
        std::fs::remove_dir_all(dir).map_err(|err| HistoryError::Io {
            what: "remove",
            path: dir.to_path_buf(),
            err,
        })?;
    }
    progress("unpacking");
    let go = archive::unpack(&archive.path, dir)?;
    if let Some(want) = release.version {
        let found = std::fs::read_to_string(go.join("VERSION")).unwrap_or_default();
        if found.trim() != want {
            return Err(HistoryError::WrongVersion {
                release,
                archive: archive.path.clone(),
                found: found.trim().to_string(),
            });
        }
    }
    fixes::apply(release, &go)?;
    let log = dir.join("build.log");
    let mut cmd = Command::new("bash");
    cmd.arg("./make.bash").current_dir(go.join("src"));
    clean_go_env(&mut cmd);
    match release.flow {
        // No cgo: the runtime's benchmarks need none, and the build needs nothing of the host
        // beyond gcc.
        Flow::Dist => {
            cmd.env("CGO_ENABLED", "0");
        }
        Flow::Make2011 => env_2011(&mut cmd, release, dir, &go)?,
    }
    let ok = run_logged(cmd, &log, "make.bash", progress)?;
    let skipped = match release.flow {
        Flow::Dist if !ok => return Err(build_failed(release, "make.bash", &log)),
        Flow::Dist => Vec::new(),
        Flow::Make2011 => {
            // `make -k` carries on past the packages whose cgo fails; what the runtime's test
            // needs must be there all the same.
            let missing = ESSENTIAL_2011.iter().find(|p| !go.join(p).is_file());
            match missing {
                Some(p) => {
                    let mut e = build_failed(release, "make.bash", &log);
                    if let HistoryError::BuildFailed { tail, .. } = &mut e {
                        tail.push_str(&format!("\n(lab: {p} was not built)\n"));
                    }
                    return Err(e);
                }
                None => failed_packages(&read_log(&log)),
            }
        }
    };
    progress("checking the version");
    let version = version(release, &go).map_err(|why| HistoryError::BuildFailed {
        release,
        step: "the version check",
        log: log.clone(),
        tail: why,
    })?;
    let stamp = Stamp {
        recipe: RECIPE,
        version,
        skipped,
    };
    let path = dir.join(STAMP);
    std::fs::write(&path, stamp.render()).map_err(|err| HistoryError::Io {
        what: "write",
        path,
        err,
    })?;
    Ok(stamp)
}

/// What a July-2011 build must have made for the runtime's tests, even where `make -k` went
/// past failures elsewhere.
const ESSENTIAL_2011: &[&str] = &[
    "bin/6g",
    "bin/6l",
    "bin/6c",
    "bin/6a",
    "bin/gopack",
    "bin/gotest",
    "bin/gomake",
    "pkg/linux_amd64/runtime.a",
    "pkg/linux_amd64/testing.a",
    "pkg/linux_amd64/fmt.a",
];

/// The packages a `make -k` log says failed: `make: *** [Makefile:272: net.install] Error 1`.
pub fn failed_packages(log: &str) -> Vec<String> {
    let mut out: Vec<String> = log
        .lines()
        .filter(|l| l.starts_with("make: ***") || l.starts_with("make[1]: ***"))
        .filter_map(|l| {
            let target = l.split_once('[')?.1.split_once(']')?.0;
            let name = target.rsplit_once(": ").map_or(target, |(_, n)| n);
            name.strip_suffix(".install").map(String::from)
        })
        .collect();
    out.dedup();
    out
}

/// The environment the July-2011 Makefiles need on a current Debian: the stand-ins first on
/// PATH, the C compiler wrapper, `make -k` (go on past `net` and `os/user`, whose 2011 cgo
/// cannot read gcc 12's messages), and `-fcommon` for runtime/cgo's gcc objects (the Makefiles
/// set `_CGO_CFLAGS_amd64` themselves, so it goes on make's command line through MAKEFLAGS).
fn env_2011(
    cmd: &mut Command,
    release: &Release,
    dir: &Path,
    go: &Path,
) -> Result<(), HistoryError> {
    let shim = fixes::write_2011_shims(&dir.join("shim"), release)?;
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    cmd.env("GOROOT", go)
        .env("PATH", path_with(&[&shim, &go.join("bin")]))
        .env("CC", shim.join("cc"))
        .env(
            "MAKEFLAGS",
            format!("-j{jobs} -k _CGO_CFLAGS_amd64=-m64\\ -fcommon"),
        );
    Ok(())
}

/// PATH with `dirs` first.
fn path_with(dirs: &[&Path]) -> std::ffi::OsString {
    let mut all: Vec<PathBuf> = dirs.iter().map(|d| d.to_path_buf()).collect();
    if let Some(p) = std::env::var_os("PATH") {
        all.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(all).unwrap_or_default()
}

/// Removes the caller's Go settings, which would point a historical build at today's Go or
/// another target.
fn clean_go_env(cmd: &mut Command) {
    for var in [
        "GOROOT",
        "GOROOT_FINAL",
        "GOPATH",
        "GOBIN",
        "GOOS",
        "GOARCH",
        "GOHOSTOS",
        "GOHOSTARCH",
        "GOFLAGS",
        "GOEXPERIMENT",
        "GOTOOLCHAIN",
        "GOMAXPROCS",
        "GOGC",
        "GODEBUG",
        "CC",
        "CFLAGS",
        "MAKEFLAGS",
    ] {
        cmd.env_remove(var);
    }
}

/// The toolchain's version line, checked to name the release: `go version` (it must say the
/// release's VERSION) or, before the `go` command, `6g -V` (it must name the commit, which
/// the hg stand-in gave it).
fn version(release: &Release, go: &Path) -> Result<String, String> {
    let (bin, arg, want) = match release.flow {
        Flow::Dist => ("bin/go", "version", release.version.unwrap_or(release.name)),
        Flow::Make2011 => ("bin/6g", "-V", &release.commit[..12]),
    };
    let mut cmd = Command::new(go.join(bin));
    cmd.arg(arg);
    clean_go_env(&mut cmd);
    cmd.env("GOROOT", go);
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {}: {e}", go.join(bin).display()))?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || !text.contains(want) {
        return Err(format!(
            "`{bin} {arg}` said {text:?} ({}), expected it to name {want}",
            out.status
        ));
    }
    Ok(text)
}

/// Builds the runtime's test binary into the build folder unless it is there: `go test -c
/// runtime` in a scratch folder (Go 1.0 and 1.1 have no `-o`; it writes `runtime.test` in the
/// current directory), or `gotest -c` in `src/pkg/runtime` before the `go` command (`6.out`).
pub fn ensure_test_binary(tc: &Toolchain, progress: Progress) -> Result<(), HistoryError> {
    let dest = tc.test_binary();
    if dest.is_file() {
        return Ok(());
    }
    let go = tc.goroot();
    let log = tc.dir.join("test.log");
    let io = |what, path: &Path| {
        let path = path.to_path_buf();
        move |err| HistoryError::Io { what, path, err }
    };
    let (mut cmd, built) = match tc.release.flow {
        Flow::Dist => {
            let scratch = tc.dir.join("test-build");
            if scratch.exists() {
                std::fs::remove_dir_all(&scratch).map_err(io("remove", &scratch))?;
            }
            std::fs::create_dir_all(&scratch).map_err(io("create", &scratch))?;
            let mut cmd = Command::new(go.join("bin/go"));
            cmd.args(["test", "-c", "runtime"]).current_dir(&scratch);
            (cmd, scratch.join("runtime.test"))
        }
        Flow::Make2011 => {
            let rt = go.join("src/pkg/runtime");
            let mut cmd = Command::new(go.join("bin/gotest"));
            cmd.arg("-c").current_dir(&rt);
            (cmd, rt.join("6.out"))
        }
    };
    clean_go_env(&mut cmd);
    cmd.env("GOROOT", &go)
        .env("PATH", path_with(&[&tc.dir.join("shim"), &go.join("bin")]))
        .env("CGO_ENABLED", "0");
    let step = match tc.release.flow {
        Flow::Dist => "`go test -c runtime`",
        Flow::Make2011 => "`gotest -c` in src/pkg/runtime",
    };
    let ok = run_logged(cmd, &log, step, progress)?;
    if !ok || !built.is_file() {
        return Err(build_failed(tc.release, step, &log));
    }
    // Renamed into place, so that a binary in the cache is always a whole one.
    std::fs::rename(&built, &dest).map_err(io("place", &dest))?;
    if tc.release.flow == Flow::Dist {
        // The scratch folder is empty now but for what `go test` left; nothing reads it.
        let _ = std::fs::remove_dir_all(tc.dir.join("test-build"));
    }
    Ok(())
}

/// Runs `cmd` with its output into `log`, telling `progress` the log's latest line while it
/// runs; whether it succeeded.
fn run_logged(
    mut cmd: Command,
    log: &Path,
    step: &str,
    progress: Progress,
) -> Result<bool, HistoryError> {
    let io = |what, path: &Path| {
        let path = path.to_path_buf();
        move |err| HistoryError::Io { what, path, err }
    };
    let out = File::create(log).map_err(io("write", log))?;
    let err = out.try_clone().map_err(io("write", log))?;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(io("run", Path::new(cmd.get_program())))?;
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(io("wait for", log))? {
            return Ok(status.success());
        }
        let last = last_line(log).unwrap_or_default();
        progress(&format!("{step} {:>3}s  {last}", start.elapsed().as_secs()));
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The last non-empty line of a file, read from its last few KiB.
fn last_line(path: &Path) -> Option<String> {
    let tail = tail_of(path, 4096)?;
    tail.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_string())
}

/// The last `bytes` of a file, as text from the first whole line.
fn tail_of(path: &Path, bytes: u64) -> Option<String> {
    let mut f = File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    let from = len.saturating_sub(bytes);
    f.seek(SeekFrom::Start(from)).ok()?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    Some(match (from > 0, text.split_once('\n')) {
        (true, Some((_, rest))) => rest.to_string(),
        _ => text,
    })
}

fn read_log(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// The error of a failed step, with the last 25 lines of its log.
fn build_failed(release: &'static Release, step: &'static str, log: &Path) -> HistoryError {
    let tail = tail_of(log, 16 * 1024).unwrap_or_default();
    let lines: Vec<&str> = tail.lines().collect();
    let tail = lines[lines.len().saturating_sub(25)..].join("\n");
    HistoryError::BuildFailed {
        release,
        step,
        log: log.to_path_buf(),
        tail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subjects::history::release::by_name;

    fn stamp() -> Stamp {
        Stamp {
            recipe: RECIPE,
            version: "go version go1.4.3 linux/amd64".into(),
            skipped: vec![],
        }
    }

    #[test]
    fn build_dir_is_keyed_by_release_and_hash() {
        let r = by_name("go1.4.3").unwrap();
        let d = build_dir(Path::new("/t/gohist"), r, r.sha256);
        assert_eq!(d, Path::new("/t/gohist/go1.4.3-1552010c7628"));
        let other = build_dir(Path::new("/t/gohist"), r, &"ab".repeat(32));
        assert_eq!(other, Path::new("/t/gohist/go1.4.3-abababababab"));
    }

    #[test]
    fn stamps_round_trip() {
        let s = stamp();
        assert_eq!(Stamp::parse(&s.render()), Some(s));
        let s = Stamp {
            skipped: vec!["net".into(), "os/user".into()],
            version: "6g version 8330e9e06541".into(),
            ..stamp()
        };
        assert_eq!(Stamp::parse(&s.render()), Some(s));
        assert_eq!(Stamp::parse(""), None);
        assert_eq!(Stamp::parse("recipe 1\n"), None);
        assert_eq!(Stamp::parse("recipe x\nversion v\n"), None);
    }

    #[test]
    fn a_folder_without_a_current_stamp_is_stale() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("go1.4.3-1552010c7628");
        assert_eq!(state(&dir), State::Absent);
        std::fs::create_dir_all(dir.join("go/src")).unwrap();
        assert_eq!(state(&dir), State::Stale, "half-done: no stamp");
        let old = Stamp {
            recipe: RECIPE + 1,
            ..stamp()
        };
        std::fs::write(dir.join(STAMP), old.render()).unwrap();
        assert_eq!(state(&dir), State::Stale, "another recipe");
        std::fs::write(dir.join(STAMP), stamp().render()).unwrap();
        assert_eq!(state(&dir), State::Built(stamp()));
        let r = by_name("go1.4.3").unwrap();
        let archive = Archive {
            path: PathBuf::from("/nowhere"),
            sha256: r.sha256.into(),
        };
        let tc = cached(r, &archive, root.path()).unwrap();
        assert_eq!(tc.goroot(), dir.join("go"));
        assert_eq!(tc.test_binary(), dir.join(TEST_BINARY));
    }

    /// A `.tar.gz` of `go/` holding `files` (path, mode, text), as a release archive is.
    fn fake_archive(path: &Path, files: &[(&str, u32, &str)]) -> Archive {
        let gz =
            flate2::write::GzEncoder::new(File::create(path).unwrap(), flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        for (name, mode, text) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(text.len() as u64);
            h.set_mode(*mode);
            h.set_cksum();
            b.append_data(&mut h, format!("go/{name}"), text.as_bytes())
                .unwrap();
        }
        b.into_inner().unwrap().finish().unwrap();
        Archive {
            path: path.to_path_buf(),
            sha256: archive::sha256_file(path).unwrap(),
        }
    }

    /// A make.bash that "builds" a `go` command answering `version` and `test -c`, whose
    /// runtime.test prints one benchmark line.
    const FAKE_MAKE: &str = "#!/bin/bash\necho building the fake\nmkdir -p ../bin\ncat > ../bin/go <<'EOF'\n#!/bin/sh\ncase \"$1\" in\nversion) echo 'go version go1.4.3 linux/amd64' ;;\ntest) printf '#!/bin/sh\\necho PASS\\necho \"BenchmarkSyscall-2\\t 100\\t 5.5 ns/op\"\\n' > runtime.test; chmod +x runtime.test ;;\nesac\nEOF\nchmod +x ../bin/go\n";

    #[test]
    fn a_whole_build_from_a_fake_tree_replaces_a_half_done_one() {
        if prereq::check(by_name("go1.4.3").unwrap()).is_err() {
            eprintln!("skipped: no bash or gcc on PATH");
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let archive = fake_archive(
            &tmp.path().join("go1.4.3.src.tar.gz"),
            &[
                ("VERSION", 0o644, "go1.4.3"),
                ("src/make.bash", 0o755, FAKE_MAKE),
            ],
        );
        let root = tmp.path().join("gohist");
        let r = by_name("go1.4.3").unwrap();
        let dir = build_dir(&root, r, &archive.sha256);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("left-over"), "half done").unwrap();
        let mut steps = Vec::new();
        let tc = ensure(r, &archive, &root, &mut |s: &str| steps.push(s.to_string())).unwrap();
        assert!(
            !dir.join("left-over").exists(),
            "the half-done build is gone"
        );
        assert_eq!(tc.stamp.version, "go version go1.4.3 linux/amd64");
        assert_eq!(state(&dir), State::Built(tc.stamp.clone()));
        assert!(tc.test_binary().is_file() && !dir.join("test-build").exists());
        assert!(std::fs::read_to_string(dir.join("build.log"))
            .unwrap()
            .contains("building the fake"));
        assert!(steps.iter().any(|s| s == "unpacking"), "{steps:?}");
        let bench = r.benchmark("syscall").unwrap();
        let line = super::super::bench::run(&tc, bench, 2, Duration::from_millis(1)).unwrap();
        assert_eq!((line.procs, line.iterations, line.ns_per_op), (2, 100, 5.5));
        // At procs 1 the fake prints no line for it: an error naming the command.
        let err = super::super::bench::run(&tc, bench, 1, Duration::from_millis(1)).unwrap_err();
        assert!(
            err.to_string().contains("printed no BenchmarkSyscall line"),
            "{err}"
        );
        // Cached: nothing is built again.
        let again = ensure(r, &archive, &root, &mut |s: &str| panic!("rebuilt: {s}")).unwrap();
        assert_eq!(again.stamp, tc.stamp);
    }

    #[test]
    fn a_failed_build_shows_its_tail_and_leaves_no_stamp() {
        if prereq::check(by_name("go1.4.3").unwrap()).is_err() {
            eprintln!("skipped: no bash or gcc on PATH");
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let archive = fake_archive(
            &tmp.path().join("a.tar.gz"),
            &[
                ("VERSION", 0o644, "go1.4.3"),
                (
                    "src/make.bash",
                    0o755,
                    "#!/bin/bash\necho 'cc: error: boom'\nexit 1\n",
                ),
            ],
        );
        let root = tmp.path().join("gohist");
        let r = by_name("go1.4.3").unwrap();
        let err = ensure(r, &archive, &root, &mut |_: &str| {}).unwrap_err();
        assert!(err.detail().unwrap().contains("cc: error: boom"), "{err:?}");
        assert!(err.to_string().contains("make.bash failed"), "{err}");
        assert_eq!(state(&build_dir(&root, r, &archive.sha256)), State::Stale);
        // Another release's tree is refused before anything runs.
        let wrong = fake_archive(
            &tmp.path().join("b.tar.gz"),
            &[
                ("VERSION", 0o644, "go1.5"),
                ("src/make.bash", 0o755, "exit 1\n"),
            ],
        );
        let err = ensure(r, &wrong, &root, &mut |_: &str| {}).unwrap_err();
        assert!(
            err.to_string().contains("holds \"go1.5\", not go1.4.3"),
            "{err}"
        );
    }

    #[test]
    fn packages_skipped_by_make_k() {
        let log = "make[1]: Leaving directory '/x/go/src/pkg/net'\n\
                   make: *** [Makefile:272: net.install] Error 1\n\
                   make[1]: *** [../../Make.pkg:130: _obj/_cgo_run] Error 2\n\
                   make: *** [Makefile:272: os/user.install] Error 1\n\
                   make: Target 'install' not remade because of errors.\n";
        assert_eq!(failed_packages(log), ["net", "os/user"]);
        assert!(failed_packages("all fine\n").is_empty());
    }

    #[test]
    fn a_logged_run_reports_progress_and_failure() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo one; echo two >&2; sleep 0.3; exit 3"]);
        let mut seen = Vec::new();
        let ok = run_logged(cmd, &log, "step", &mut |s: &str| seen.push(s.to_string())).unwrap();
        assert!(!ok);
        assert!(seen.iter().any(|s| s.contains("two")), "{seen:?}");
        let r = by_name("go1.0.3").unwrap();
        let e = build_failed(r, "make.bash", &log);
        assert_eq!(e.detail(), Some("one\ntwo"));
        let text = e.to_string();
        assert!(
            text.contains("go1.0.3: make.bash failed")
                && text.contains("lab history build go1.0.3"),
            "{text}"
        );
    }
}
