//! The host tools a build needs, checked before it starts, so that a missing one is one line
//! saying what and which Debian package has it rather than a failure deep in a build log.

use super::release::{Flow, Release};
use super::HistoryError;
use std::path::PathBuf;

/// A host program a build runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tool {
    /// The program's name on PATH.
    pub name: &'static str,
    /// The Debian package that has it.
    pub package: &'static str,
    /// What in the build runs it.
    pub why: &'static str,
}

const fn t(name: &'static str, package: &'static str, why: &'static str) -> Tool {
    Tool { name, package, why }
}

/// Go 1.0 on: cmd/dist and the C compilers (6c, 6g, 6l) are C, built by gcc from a bash
/// script; nothing else (no Go to bootstrap from).
const DIST: &[Tool] = &[
    t("bash", "bash", "make.bash"),
    t("gcc", "gcc", "cmd/dist and the compilers (written in C)"),
];

/// July 2011: Makefiles, the grammar of the gc compiler (bison, and awk for its error table),
/// and ed, which the Makefiles use to edit generated files (the list `env.bash` checks, less
/// what coreutils has).
const MAKE2011: &[Tool] = &[
    t("bash", "bash", "make.bash"),
    t("gcc", "gcc", "the compilers and tools (written in C)"),
    t("make", "make", "the Makefiles"),
    t("bison", "bison", "the gc compiler's grammar"),
    t("awk", "gawk (or mawk)", "the gc compiler's error table"),
    t("ed", "ed", "the Makefiles' edits of generated files"),
    t("ar", "binutils", "the host libraries"),
];

/// The tools a release's build needs.
pub fn tools(release: &Release) -> &'static [Tool] {
    match release.flow {
        Flow::Dist => DIST,
        Flow::Make2011 => MAKE2011,
    }
}

/// The first of the release's tools that is not on `path` (a PATH-style list).
pub fn missing_on(release: &Release, path: Option<&std::ffi::OsStr>) -> Option<Tool> {
    let dirs: Vec<PathBuf> = path
        .map(|p| std::env::split_paths(p).collect())
        .unwrap_or_default();
    tools(release)
        .iter()
        .copied()
        .find(|tool| !dirs.iter().any(|d| d.join(tool.name).is_file()))
}

/// [`HistoryError::ToolMissing`] for the first tool of the release's build not on PATH.
pub fn check(release: &'static Release) -> Result<(), HistoryError> {
    match missing_on(release, std::env::var_os("PATH").as_deref()) {
        Some(tool) => Err(HistoryError::ToolMissing { release, tool }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subjects::history::release::by_name;

    #[test]
    fn missing_tools_are_named_with_their_package() {
        let dir = tempfile::tempdir().unwrap();
        let r = by_name("go2011-cl").unwrap();
        assert_eq!(missing_on(r, None).unwrap().name, "bash");
        for name in ["bash", "gcc", "make"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let path = dir.path().as_os_str();
        let tool = missing_on(r, Some(path)).unwrap();
        assert_eq!(tool.name, "bison");
        let err = HistoryError::ToolMissing { release: r, tool };
        let text = err.to_string();
        assert!(
            text.contains("bison") && text.contains("apt-get install bison"),
            "{text}"
        );
        // Go 1 builds need only bash and gcc.
        assert!(missing_on(by_name("go1.4.3").unwrap(), Some(path)).is_none());
    }
}
