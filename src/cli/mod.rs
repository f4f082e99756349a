//! The native command line: `prepare`, `train`, `eval`, `compare`, `export`, `bench`.

pub mod commands;
pub mod compare;
pub mod progress;
pub mod shards;
