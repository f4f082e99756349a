//! The crate's error type: every failure a user's input can cause ends here, never in a panic.

use std::path::PathBuf;

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, phrased so that the message alone tells the user what to fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{file}:{line}: {message}")]
    Parse { file: String, line: usize, message: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("invalid data: {0}")]
    Data(String),
    #[error("invalid input: {0}")]
    Input(String),
    #[error("weights file: {0}")]
    Weights(String),
    #[error("item vectors file: {0}")]
    Vectors(String),
    #[error("catalogue file: {0}")]
    Catalog(String),
    #[error("config: {0}")]
    Config(String),
    #[error("tensor backend: {0}")]
    Backend(String),
    #[error("language model: {0}")]
    Embed(String),
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}
