//! Shared fixtures for the integration tests: the real, prepared ML-1M data set.
//!
//! `scripts/test.sh` fetches and prepares it first (`scripts/fetch-data.sh`,
//! `scenerec prepare`); a test that cannot find it fails with that instruction.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use scenerec::data::protocol::Filter;
use scenerec::experiment::Prepared;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn prepared_dir() -> PathBuf {
    let dir = root().join("data/ml-1m");
    assert!(
        dir.join("ml-1m.inter").exists() && dir.join("embeddings.bin").exists(),
        "{} is missing: run scripts/test.sh (or scripts/setup.sh) to fetch and prepare ML-1M",
        dir.display()
    );
    dir
}

pub fn minilm_dir() -> PathBuf {
    root().join("data/minilm")
}

/// The full protocol-filtered ML-1M, loaded once per test binary.
pub fn ml1m() -> &'static Prepared {
    static DATA: OnceLock<Prepared> = OnceLock::new();
    DATA.get_or_init(|| Prepared::load(&prepared_dir(), &Filter::default()).expect("prepared ML-1M loads"))
}

/// A small real slice: the first `users` users of the filtered data.
pub fn slice(users: usize) -> Prepared {
    Prepared::load(&prepared_dir(), &Filter::default()).expect("prepared ML-1M loads").first_users(users)
}

/// A small, fast training config for tests: `epochs` one-pass epochs (no early stop) of a
/// one-layer model of width `dim` over windows of `max_len`.
pub fn small_config(epochs: usize, dim: usize, max_len: usize) -> scenerec::train::TrainConfig {
    let mut c = scenerec::train::TrainConfig {
        epochs,
        patience: epochs,
        min_epoch_steps: 0,
        batch_size: 64,
        rerank: 20,
        ..Default::default()
    };
    c.model.dim = dim;
    c.model.layers = 1;
    c.model.max_len = max_len;
    c
}

/// The largest absolute difference between two equally long score lists.
pub fn largest_difference(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max)
}
