//! The outputs of a run: its rows ([`results`]: results.json and results.csv), Go's benchmark
//! text ([`benchfmt`]: bench.txt), the terminal table ([`table`]), the charts ([`chart`]),
//! summary.md ([`summary`]), report.html ([`report`], with [`html`]), `lab fidelity`'s tables
//! ([`fidelity`]), the machine it ran on
//! ([`machine`]), the run folder they are written into ([`rundir`]), two builds' runs pooled
//! ([`pool`]), and several run folders side by side (`lab report`: [`across`]).
//!
//! They read what `measure/` made and what the registry says of a workload; nothing here
//! measures.

pub mod across;
pub mod benchfmt;
pub mod chart;
pub mod fidelity;
pub mod html;
pub mod machine;
pub mod pool;
pub mod report;
pub mod results;
pub mod rundir;
pub mod summary;
pub mod table;
