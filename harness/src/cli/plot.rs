//! `lab plot`: redraws a saved run's charts, summary.md and report.html.

use crate::error::LabError;
use crate::output::chart;
use crate::output::machine::Machine;
use crate::output::report;
use crate::output::results::Results;
use crate::output::summary;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub(super) struct PlotArgs {
    /// A run folder written by `lab compare`
    pub(super) run_dir: PathBuf,
}

/// `lab plot`: redraws the charts, summary.md and report.html of a saved run, from its
/// results.json and machine.json. The new files are drawn into a temporary folder beside them and renamed over
/// the old ones only once every one is drawn.
pub(super) fn plot(dir: &Path) -> Result<(), LabError> {
    let (results, machine) = load(dir)?;
    let io_err = |err| LabError::Io {
        path: dir.to_path_buf(),
        err,
    };
    let tmp = tempfile::Builder::new()
        .prefix(".tmp-plot-")
        .tempdir_in(dir)
        .map_err(io_err)?;
    let charts = chart::draw_all(&results, &machine, tmp.path()).map_err(LabError::Chart)?;
    std::fs::write(
        tmp.path().join("summary.md"),
        summary::render(&results, &machine, &charts),
    )
    .map_err(io_err)?;
    report::write(tmp.path(), &results, &machine, &charts).map_err(io_err)?;
    for entry in std::fs::read_dir(tmp.path()).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        std::fs::rename(entry.path(), dir.join(entry.file_name())).map_err(io_err)?;
    }
    println!(
        "redrew {} charts, summary.md and report.html in {}",
        charts.len(),
        dir.display()
    );
    Ok(())
}

/// A run folder's results.json and machine.json; a folder that is not one (missing, a file
/// unreadable or not the lab's JSON) is [`LabError::NotARun`].
pub(super) fn load(dir: &Path) -> Result<(Results, Machine), LabError> {
    let not_a_run = |why: String| LabError::NotARun {
        path: dir.to_path_buf(),
        why,
    };
    if !dir.is_dir() {
        return Err(not_a_run("no such folder".into()));
    }
    let read = |file: &str| {
        std::fs::read_to_string(dir.join(file)).map_err(|e| not_a_run(format!("{file}: {e}")))
    };
    let results: Results = serde_json::from_str(&read("results.json")?)
        .map_err(|e| not_a_run(format!("results.json: {e}")))?;
    let machine: Machine = serde_json::from_str(&read("machine.json")?)
        .map_err(|e| not_a_run(format!("machine.json: {e}")))?;
    Ok((results, machine))
}
