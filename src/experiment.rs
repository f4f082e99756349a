//! A prepared data set ready for training and evaluation: the protocol-filtered histories, the
//! leave-one-out split and the items' cached text embeddings. Shared by the CLI, the benchmark
//! and the integration tests, so all three run exactly the same pipeline.

use std::path::{Path, PathBuf};

use crate::data::protocol::{Filter, Split, filter, leave_one_out};
use crate::data::Dataset;
use crate::embed::{EmbeddingCache, LM_DIM};
use crate::eval::{EvalSetup, Track, item_users};
use crate::model::ItemFeatures;
use crate::train::TrainInput;
use crate::Result;

/// The embedding cache of a prepared data set directory.
pub fn cache_path(data_dir: &Path) -> PathBuf {
    data_dir.join("embeddings.bin")
}

pub struct Prepared {
    pub data: Dataset,
    /// Row-major `[items, LM_DIM]` text embeddings, in catalogue order.
    pub lm: Vec<f32>,
    pub split: Split,
    /// Per item, distinct training users (novelty, popularity).
    pub item_users: Vec<u32>,
}

impl Prepared {
    /// Loads a directory written by `scenerec prepare` and applies the protocol.
    pub fn load(data_dir: &Path, f: &Filter) -> Result<Self> {
        let data = filter(&Dataset::load(data_dir)?, f)?;
        let cache = EmbeddingCache::open(&cache_path(data_dir))?;
        Self::new(data, &cache)
    }

    fn new(data: Dataset, cache: &EmbeddingCache) -> Result<Self> {
        let texts: Vec<String> = data.catalog.iter().map(|i| i.text(&data.catalog)).collect();
        let lm = cache.matrix(&texts)?;
        let split = leave_one_out(&data.histories);
        let item_users = item_users(data.catalog.len(), &data.histories, &split.train_len);
        Ok(Prepared { data, lm, split, item_users })
    }

    /// Keeps the first `users` users (small real slices for tests).
    pub fn first_users(mut self, users: usize) -> Self {
        self.data.users.truncate(users);
        self.data.histories.truncate(users);
        self.split = leave_one_out(&self.data.histories);
        self.item_users = item_users(self.data.catalog.len(), &self.data.histories, &self.split.train_len);
        self
    }

    /// Training input with every item's ID embedding trained.
    pub fn train_input<'a>(&'a self, known: &'a [bool]) -> TrainInput<'a> {
        TrainInput {
            catalog: &self.data.catalog,
            lm: &self.lm,
            known,
            histories: &self.data.histories,
            train_len: &self.split.train_len,
            valid: &self.split.valid,
            valid_tracks: &Track::ALL,
        }
    }

    /// Item features on `device`; `known[i]`: item `i` has a trained ID vector.
    pub fn features(&self, known: &[bool], device: &burn::tensor::Device) -> Result<ItemFeatures> {
        ItemFeatures::new(&self.data.catalog, &self.lm, LM_DIM, known, device)
    }

    /// Evaluation setup over the whole catalogue.
    pub fn eval_setup(&self) -> EvalSetup<'_> {
        EvalSetup {
            catalog: &self.data.catalog,
            histories: &self.data.histories,
            item_users: &self.item_users,
            n_users: self.data.histories.len(),
            shelf: None,
            batch: 256,
        }
    }
}
