//! The training config: a JSON file whose every field has a default, so `{}` is valid.

use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::data::protocol::Filter;
use crate::model::ModelConfig;
use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Seeds weights, dropout, shuffling and negatives.
    pub seed: u64,
    /// Upper bound on epochs (passes over the training data, or more: `min_epoch_steps`).
    pub epochs: usize,
    /// An epoch is at least this many optimizer steps: on a data set where one pass is fewer,
    /// an epoch chains freshly shuffled passes (see [`crate::train::samples::epoch_batches`]),
    /// so the epoch cap, patience and the learning-rate schedule mean as much training on
    /// 900 users as on 6,000.
    pub min_epoch_steps: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    /// The learning rate is multiplied by this after every epoch that does not improve the
    /// validation score (reduce on plateau; 1: constant).
    pub lr_decay: f64,
    /// Stop after this many epochs (validations) in which the mean NDCG@10 of the last
    /// `stop_window` epochs set no new best (see [`crate::train::stopping`]).
    pub patience: usize,
    /// How many epochs' validation scores the stopping rule averages (1: the last epoch alone).
    pub stop_window: usize,
    /// Share of item ID vectors zeroed per batch, teaching the text path to stand alone.
    pub id_dropout: f32,
    /// Share of history events whose scene, action and time gap are hidden from the encoder
    /// in a batch (the item and its position stay). A log whose events carry noise there
    /// (random surfaces, bulk timestamps) otherwise lets the encoder fit that noise instead
    /// of the item sequence; hiding them now and then makes it read the items first.
    pub event_dropout: f32,
    /// Weight of the fusion head's re-ranking loss next to the retrieval softmaxes.
    pub head_weight: f32,
    /// Softmaxes leave out the items a row's history holds (see [`crate::train::loss`]).
    pub exclude_seen: bool,
    /// How many of retrieval's best items the fusion head learns to re-rank (and re-ranks,
    /// if that beats retrieval alone on validation: see [`crate::model::ModelConfig::rerank`]).
    pub rerank: usize,
    /// Validate on at most this many users (0: all) to keep epochs short.
    pub valid_users: usize,
    pub model: ModelConfig,
    pub filter: Filter,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            seed: 42,
            epochs: 60,
            min_epoch_steps: 256,
            batch_size: 128,
            learning_rate: 1e-3,
            lr_decay: 0.5,
            patience: 5,
            stop_window: 3,
            id_dropout: 0.1,
            event_dropout: 0.5,
            head_weight: 0.5,
            exclude_seen: true,
            rerank: 100,
            valid_users: 0,
            model: ModelConfig::default(),
            filter: Filter::default(),
        }
    }
}

impl TrainConfig {
    /// The loss options of this config for a model of config `model`.
    pub fn loss_options(&self, model: &ModelConfig) -> crate::train::loss::LossOptions {
        crate::train::loss::LossOptions {
            head_weight: self.head_weight,
            sampled: None,
            any_scene: model.any_scene(),
            rerank: self.rerank,
            exclude_seen: self.exclude_seen,
            event_dropout: self.event_dropout,
        }
    }

    /// The learning-rate schedules the benchmark trains every model it tunes with (scenerec and
    /// SASRec alike, so both get the same tuning effort), keeping the one best on validation:
    /// halving after every epoch without improvement, and constant (this config's `lr_decay`
    /// is replaced by each in turn). Both models chose the constant rate on ML-1M, which is
    /// what configs/default.json now uses.
    pub fn schedules(&self) -> Vec<(&'static str, TrainConfig)> {
        let with = |lr_decay| TrainConfig { lr_decay, ..self.clone() };
        vec![("halving on plateaus", with(0.5)), ("constant learning rate", with(1.0))]
    }

    /// Reads a JSON config; unknown keys are errors (a typo must not silently do nothing).
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let config: TrainConfig =
            serde_json::from_str(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::Config(m.to_string()));
        if self.epochs == 0 || self.batch_size == 0 || self.stop_window == 0 {
            return bad("epochs, batch_size and stop_window must be positive");
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return bad("learning_rate must be a positive number");
        }
        if !(self.lr_decay > 0.0 && self.lr_decay <= 1.0) {
            return bad("lr_decay must be in (0, 1]");
        }
        if !(0.0..1.0).contains(&self.id_dropout) || !(0.0..=1.0).contains(&self.event_dropout) {
            return bad("id_dropout must be in [0, 1) and event_dropout in [0, 1]");
        }
        if self.head_weight.is_nan() || self.head_weight < 0.0 {
            return bad("head_weight must be non-negative");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_dropout_is_a_share() {
        for ok in [0.0, 0.5, 1.0] {
            assert!(TrainConfig { event_dropout: ok, ..TrainConfig::default() }.validate().is_ok(), "{ok}");
        }
        for bad in [-0.1, 1.5, f32::NAN] {
            let e = TrainConfig { event_dropout: bad, ..TrainConfig::default() }.validate().unwrap_err();
            assert!(e.to_string().contains("event_dropout"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_stopping_window_is_at_least_one_epoch() {
        assert!(TrainConfig { stop_window: 1, ..TrainConfig::default() }.validate().is_ok());
        let e = TrainConfig { stop_window: 0, ..TrainConfig::default() }.validate().unwrap_err();
        assert!(e.to_string().contains("stop_window"), "{e}");
    }
}
