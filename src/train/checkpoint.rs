//! Resumable training state: written after every epoch, read by `train --resume`.
//!
//! Files in the run directory, each replaced atomically (write, then rename), so an interrupted
//! run always leaves the last complete epoch behind: `checkpoint.json` (loop state),
//! `checkpoint.weights` (current weights), `checkpoint.optim` (Adam moments), `best.weights`.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use super::config::TrainConfig;
use super::fit::EpochReport;
use crate::rng::Rng;
use crate::{Error, Result};

/// The loop state after a completed epoch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoopState {
    pub config: TrainConfig,
    pub epochs_done: usize,
    pub rng: Rng,
    pub best_valid: f64,
    pub best_epoch: usize,
    /// The learning rate the next epoch uses (lowered on plateaus).
    pub learning_rate: f64,
    pub reports: Vec<EpochReport>,
}

/// What a checkpoint holds: the loop state, the weights and optimizer state to continue
/// from, and the best weights so far.
pub struct Resumed {
    pub state: LoopState,
    pub weights: Vec<u8>,
    pub optimizer: Vec<u8>,
    pub best: Vec<u8>,
}

/// Paths of one run directory's checkpoint files.
pub struct Checkpoint {
    dir: PathBuf,
}

impl Checkpoint {
    pub fn new(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        Ok(Checkpoint { dir: dir.to_path_buf() })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let tmp = self.path(&format!("{name}.tmp"));
        std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, self.path(name)).map_err(|e| Error::io(self.path(name), e))
    }

    fn read(&self, name: &str) -> Result<Vec<u8>> {
        std::fs::read(self.path(name)).map_err(|e| Error::io(self.path(name), e))
    }

    pub fn exists(&self) -> bool {
        self.path("checkpoint.json").exists()
    }

    /// Saves the state; `best` is written only when the epoch improved on the best so far.
    pub fn save(&self, state: &LoopState, weights: &[u8], optim: &[u8], best: Option<&[u8]>) -> Result<()> {
        if let Some(best) = best {
            self.write("best.weights", best)?;
        }
        self.write("checkpoint.weights", weights)?;
        self.write("checkpoint.optim", optim)?;
        let json = serde_json::to_vec_pretty(state).map_err(|e| Error::Config(e.to_string()))?;
        self.write("checkpoint.json", &json)
    }

    fn state(&self) -> Result<LoopState> {
        serde_json::from_slice(&self.read("checkpoint.json")?)
            .map_err(|e| Error::Config(format!("{}: {e}", self.path("checkpoint.json").display())))
    }

    /// Whether the checkpoint holds a run `config` can resume: the same config except for the
    /// stopping rule (`epochs`, `patience`, `stop_window`), which may change to extend a run.
    pub fn resumable_by(&self, config: &TrainConfig) -> bool {
        self.state().is_ok_and(|s| same_run(&s.config, config))
    }

    /// Loads the last checkpoint; it must be [`resumable_by`](Self::resumable_by) `config`.
    pub fn load(&self, config: &TrainConfig) -> Result<Resumed> {
        let mut state = self.state()?;
        if !same_run(&state.config, config) {
            return Err(Error::Config(format!(
                "the checkpoint in {} was made with a different config; resume with the same config or start a new run directory",
                self.dir.display()
            )));
        }
        state.config = config.clone();
        Ok(Resumed {
            state,
            weights: self.read("checkpoint.weights")?,
            optimizer: self.read("checkpoint.optim")?,
            best: self.read("best.weights")?,
        })
    }

    /// Replaces the best weights (with the same weights under a final config).
    pub fn save_best(&self, bytes: &[u8]) -> Result<()> {
        self.write("best.weights", bytes)
    }

    /// The best weights of the run.
    pub fn best_path(&self) -> PathBuf {
        self.path("best.weights")
    }
}

/// Two configs describe the same run when they differ at most in the stopping rule.
fn same_run(a: &TrainConfig, b: &TrainConfig) -> bool {
    let stopping = |c: &TrainConfig| TrainConfig { epochs: 0, patience: 0, stop_window: 1, ..c.clone() };
    stopping(a) == stopping(b)
}
