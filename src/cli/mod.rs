//! The native command line: `prepare`, `train`, `eval`, `export`, `bench`.

pub mod commands;
pub mod progress;
pub mod shards;
