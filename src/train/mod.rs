//! Training, written by hand (burn's `Learner` is not wasm-ready, burn#1254).
//!
//! - [`config`]: the training config file (JSON, every field defaulted).
//! - [`samples`]: history windows and the next-item targets they predict.
//! - [`loss`]: the loss of one batch (full softmax over the catalogue + fusion-head BCE).
//! - [`fit`]: the epoch loop with Adam, validation, early stopping and checkpoints.
//! - [`stopping`]: the early-stopping rule (patience on a running mean of validation scores).
//! - [`checkpoint`]: resumable training state on disk.

pub mod checkpoint;
pub mod config;
pub mod fit;
pub mod loss;
pub mod samples;
pub mod stopping;

pub use config::TrainConfig;
pub use fit::{EpochReport, Progress, Silent, TrainInput, Trained, fit};
