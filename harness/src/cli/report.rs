//! `lab report`: several run folders on one HTML page ([`crate::output::across`]).

use super::plot::load;
use crate::error::LabError;
use crate::output::across::{self, Run};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub(super) struct ReportArgs {
    /// Run folders written by `lab compare`, in the order of the page's column groups
    #[arg(required = true)]
    run_dirs: Vec<PathBuf>,
    /// Where the page goes
    #[arg(long, default_value = "report.html")]
    out: PathBuf,
}

pub(super) fn report(args: ReportArgs) -> Result<(), LabError> {
    let mut runs = Vec::new();
    for dir in &args.run_dirs {
        let (results, machine) = load(dir)?;
        let name = dir
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| dir.display().to_string());
        runs.push(Run {
            name,
            results,
            machine,
        });
    }
    std::fs::write(&args.out, across::render(&runs)).map_err(|err| LabError::Io {
        path: args.out.clone(),
        err,
    })?;
    println!("wrote {} ({} runs)", args.out.display(), runs.len());
    Ok(())
}
