//! A run folder, written atomically: files go into a hidden temporary folder beside the final
//! one, which is renamed into place only when everything is written. A failure at any point
//! leaves nothing half-written behind (the temporary folder is removed when dropped).

use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use tempfile::TempDir;

/// A run folder being written.
pub struct RunDir {
    tmp: TempDir,
    parent: PathBuf,
    name: String,
}

/// `YYYY-MM-DD-HHMMSS` in UTC.
pub fn timestamp(t: SystemTime) -> String {
    // RFC 3339 in UTC: 2026-04-20T12:34:56Z
    let s = humantime::format_rfc3339_seconds(t).to_string();
    format!("{}-{}{}{}", &s[0..10], &s[11..13], &s[14..16], &s[17..19])
}

/// Whether `label` is fit for a folder name: letters, digits, `.`, `_`, `-`, not empty and
/// not starting with a dot.
pub fn valid_label(label: &str) -> bool {
    !label.is_empty()
        && !label.starts_with('.')
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

impl RunDir {
    /// Creates `out` if needed and a temporary folder in it; fails early (before any
    /// measurement) when `out` cannot be written.
    pub fn create(out: &Path, started: SystemTime, label: &str) -> io::Result<RunDir> {
        std::fs::create_dir_all(out)?;
        let tmp = tempfile::Builder::new()
            .prefix(".tmp-lab-")
            .tempdir_in(out)?;
        Ok(RunDir {
            tmp,
            parent: out.to_path_buf(),
            name: format!("{}-{label}", timestamp(started)),
        })
    }

    /// The temporary folder, for writers that want a path (the charts).
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Writes one file into the folder.
    pub fn write(&self, file: &str, contents: &str) -> io::Result<()> {
        std::fs::write(self.tmp.path().join(file), contents)
    }

    /// Renames the folder into place as `<out>/<timestamp>-<label>` (with `-2`, `-3`… if
    /// that exists) and returns its path.
    pub fn commit(self) -> io::Result<PathBuf> {
        let mut path = self.parent.join(&self.name);
        let mut k = 2;
        while path.exists() {
            path = self.parent.join(format!("{}-{k}", self.name));
            k += 1;
        }
        std::fs::rename(self.tmp.path(), &path)?;
        // The temporary folder is gone (renamed); keep TempDir from trying to remove it.
        let _ = self.tmp.keep();
        Ok(path)
    }
}
