//! The folder of source archives (`--go-src DIR` or `LAB_GO_SRC`): finding a release's
//! archive in it, checking its sha256 against the table, unpacking it.
//!
//! A hash that differs from the table's is a warning, not an error: the table holds the hashes
//! of the archives the lab was checked with, and the same release fetched another way (the Go
//! project's download page, `git archive` of the commit) is the same tree in other bytes. The
//! cache is keyed by the archive's own hash, so two archives never share a build, `lab history
//! list` shows which one was taken, and a tree that is not the release (its `VERSION` file, or
//! a fix whose lines are not there) still stops the build with an error.

use super::release::Release;
use super::HistoryError;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The environment variable naming the folder of archives when `--go-src` is not given.
pub const ENV: &str = "LAB_GO_SRC";

/// The `--go-src` of a command whose release columns look the folder up later
/// ([`source_dir`] with no flag), set once by the command line.
static FLAG: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Makes `dir` the folder of archives for the rest of the process (a command's `--go-src`); a
/// second call is ignored.
pub fn set_source_dir(dir: PathBuf) {
    let _ = FLAG.set(dir);
}

/// The folder of archives: `flag` if given, else the one [`set_source_dir`] was given, else
/// `$LAB_GO_SRC`.
pub fn source_dir(flag: Option<&Path>) -> Result<PathBuf, HistoryError> {
    let dir = match flag.or(FLAG.get().map(PathBuf::as_path)) {
        Some(d) => d.to_path_buf(),
        None => match std::env::var_os(ENV) {
            Some(d) if !d.is_empty() => PathBuf::from(d),
            _ => return Err(HistoryError::NoSourceDir),
        },
    };
    if !dir.is_dir() {
        return Err(HistoryError::SourceDirMissing(dir));
    }
    Ok(dir)
}

/// A release's archive as found in the folder.
#[derive(Clone, Debug)]
pub struct Archive {
    pub path: PathBuf,
    /// Its sha256, lowercase hex.
    pub sha256: String,
}

impl Archive {
    /// Whether its hash is the table's.
    pub fn known(&self, release: &Release) -> bool {
        self.sha256 == release.sha256
    }

    /// The warning for an archive whose hash is not the table's, naming both.
    pub fn warning(&self, release: &Release) -> Option<String> {
        (!self.known(release)).then(|| {
            format!(
                "{}: {} has sha256 {}, the lab's table says {}; taking it as the same release (built and cached apart)",
                release.name,
                self.path.display(),
                self.sha256,
                release.sha256
            )
        })
    }
}

/// The release's archive in `dir`, hashed; [`HistoryError::ArchiveMissing`] (with where to get
/// it) if it is not there.
pub fn find(release: &'static Release, dir: &Path) -> Result<Archive, HistoryError> {
    let path = dir.join(release.archive);
    if !path.is_file() {
        return Err(HistoryError::ArchiveMissing {
            release,
            dir: dir.to_path_buf(),
        });
    }
    let sha256 = sha256_file(&path).map_err(|err| HistoryError::Io {
        what: "read",
        path: path.clone(),
        err,
    })?;
    Ok(Archive { path, sha256 })
}

/// The sha256 of a file, lowercase hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Unpacks a `.tar.gz` into `into` (which must be empty or absent), keeping file modes (the
/// build scripts must stay executable). The archive must hold `go/`.
pub fn unpack(archive: &Path, into: &Path) -> Result<PathBuf, HistoryError> {
    let io = |what: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |err| HistoryError::Io { what, path, err }
    };
    std::fs::create_dir_all(into).map_err(io("create", into))?;
    let file = File::open(archive).map_err(io("read", archive))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    tar.set_preserve_permissions(true);
    tar.set_preserve_mtime(true);
    tar.unpack(into).map_err(io("unpack", archive))?;
    let go = into.join("go");
    if !go.join("src").is_dir() {
        return Err(HistoryError::NotAGoTree {
            archive: archive.to_path_buf(),
            why: "it does not unpack to go/src".into(),
        });
    }
    Ok(go)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subjects::history::release::by_name;

    #[test]
    fn sha256_of_a_small_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("abc");
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(
            sha256_file(&p).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        std::fs::write(&p, b"").unwrap();
        assert_eq!(
            sha256_file(&p).unwrap(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn found_known_and_unknown_archives() {
        let dir = tempfile::tempdir().unwrap();
        let r = by_name("go1.4.3").unwrap();
        let err = find(r, dir.path()).unwrap_err();
        assert!(matches!(err, HistoryError::ArchiveMissing { .. }));
        std::fs::write(dir.path().join(r.archive), b"not go").unwrap();
        let a = find(r, dir.path()).unwrap();
        assert!(!a.known(r));
        let w = a.warning(r).unwrap();
        assert!(w.contains(&a.sha256) && w.contains(r.sha256), "{w}");
        let same = Archive {
            path: a.path.clone(),
            sha256: r.sha256.to_string(),
        };
        assert!(same.known(r) && same.warning(r).is_none());
    }

    #[test]
    fn source_dir_from_flag() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(source_dir(Some(dir.path())).unwrap(), dir.path());
        let gone = dir.path().join("nope");
        let err = source_dir(Some(&gone)).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }

    #[test]
    fn unpack_keeps_modes_and_wants_go_src() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let tgz = dir.path().join("t.tar.gz");
        {
            let gz = flate2::write::GzEncoder::new(
                File::create(&tgz).unwrap(),
                flate2::Compression::fast(),
            );
            let mut b = tar::Builder::new(gz);
            let mut h = tar::Header::new_gnu();
            h.set_size(3);
            h.set_mode(0o755);
            h.set_cksum();
            b.append_data(&mut h, "go/src/make.bash", &b"#!\n"[..])
                .unwrap();
            b.into_inner().unwrap().finish().unwrap();
        }
        let go = unpack(&tgz, &dir.path().join("out")).unwrap();
        let mode = std::fs::metadata(go.join("src/make.bash"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111);
        let err = unpack(&tgz, &dir.path().join("out2"));
        assert!(err.is_ok());
        std::fs::write(dir.path().join("bad.tar.gz"), b"x").unwrap();
        assert!(unpack(&dir.path().join("bad.tar.gz"), &dir.path().join("o3")).is_err());
    }
}
