//! `lab pool`: the runs of two builds of the lab pooled per side, one table.

use crate::error::LabError;
use crate::output::results::Results;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub(super) struct PoolArgs {
    /// The folder holding old.*.json and new.*.json
    pub(super) dir: PathBuf,
}

/// `lab pool`: the pooled table of two builds' runs.
pub(super) fn pool(dir: &Path) -> Result<(), LabError> {
    let bad = |why: String| LabError::BadValue(format!("lab pool {}: {why}", dir.display()));
    let entries = std::fs::read_dir(dir).map_err(|e| bad(e.to_string()))?;
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    let side = |prefix: &str| -> Result<Vec<Results>, LabError> {
        files
            .iter()
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                name.starts_with(prefix) && name.ends_with(".json")
            })
            .map(|p| {
                let text = std::fs::read_to_string(p).map_err(|e| bad(e.to_string()))?;
                serde_json::from_str(&text).map_err(|e| bad(format!("{}: {e}", p.display())))
            })
            .collect()
    };
    let (old, new) = (side("old.")?, side("new.")?);
    if old.is_empty() || new.is_empty() {
        return Err(bad(
            "no old.*.json and new.*.json here (harness/profile/ab.sh writes them)".into(),
        ));
    }
    print!(
        "{}",
        crate::output::pool::table(&crate::output::pool::pool(&old, &new))
    );
    Ok(())
}
