//! The whole model: item tower + interest encoder + fusion head.

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor};

use super::config::ModelConfig;
use super::fusion::FusionHead;
use super::inputs::{HistoryBatch, ItemFeatures};
use super::interest::InterestEncoder;
use super::item_tower::ItemTower;
use crate::Result;

#[derive(Module, Debug)]
pub struct SceneRec {
    pub items: ItemTower,
    pub interest: InterestEncoder,
    /// The fusion head (absent in the SASRec peer, which ranks by `u·v` alone).
    pub head: Option<FusionHead>,
}

impl SceneRec {
    /// A freshly initialised model (seed the device first for reproducible weights).
    pub fn new(config: &ModelConfig, device: &Device) -> Result<Self> {
        config.validate()?;
        Ok(SceneRec {
            items: ItemTower::new(config, device),
            interest: InterestEncoder::new(config, device),
            head: config.side_inputs().then(|| FusionHead::new(config, device)),
        })
    }

    /// The item vectors; `id_keep` is the training-time ID dropout mask.
    pub fn item_table(&self, features: &ItemFeatures, id_keep: Option<Tensor<2>>) -> ItemTable {
        ItemTable::new(self.items.forward(features, id_keep))
    }

    /// `[batch, len, dim]` causal states over the history windows.
    pub fn states(&self, table: &ItemTable, history: &HistoryBatch) -> Tensor<3> {
        self.interest.states(&table.padded, history)
    }

    /// `[batch, dim]` sequence states after each window's last event (before the scene layers).
    pub fn last_states(&self, table: &ItemTable, history: &HistoryBatch) -> Tensor<2> {
        self.interest.last_states(&table.padded, history)
    }

    /// `[batch, dim]` sequence states after each window's last event as of the request: with the
    /// time to it where the model reads it (before the scene layers).
    pub fn query_states(&self, table: &ItemTable, history: &HistoryBatch) -> Tensor<2> {
        self.interest.at_query(self.last_states(table, history), history.query_gaps.clone())
    }

    /// `[batch, dim]` interest vectors after each window's last event, for target scenes `[batch]`.
    pub fn user_vectors(&self, table: &ItemTable, history: &HistoryBatch, scenes: Tensor<1, Int>) -> Tensor<2> {
        self.interest.interest(self.query_states(table, history), scenes)
    }

    /// Fusion-head logits for (user, item, scene) rows: `[rows, dim]` × 2, `[rows]` → `[rows]`
    /// (`u·v` without a head).
    pub fn fuse(&self, users: Tensor<2>, items: Tensor<2>, scenes: Tensor<1, Int>) -> Tensor<1> {
        match &self.head {
            Some(head) => head.forward(users, items, scenes),
            None => {
                let rows = users.dims()[0];
                (users * items).sum_dim(1).reshape([rows])
            }
        }
    }

    /// Fusion-head logits of `r` candidates per user (ranking's shape of [`fuse`]):
    /// `[b, dim]`, `[b, r, dim]`, `[b]` → `[b, r]`.
    ///
    /// [`fuse`]: SceneRec::fuse
    pub fn fuse_candidates(&self, users: Tensor<2>, items: Tensor<3>, scenes: Tensor<1, Int>) -> Tensor<2> {
        match &self.head {
            Some(head) => head.forward_grouped(users, items, scenes),
            None => {
                let [b, r, _] = items.dims();
                (items * users.unsqueeze_dim::<3>(1)).sum_dim(2).reshape([b, r])
            }
        }
    }
}

/// The item tower's output for a catalogue, in the two forms the model reads: the vectors
/// themselves, and the same rows plus one zero row, the vector of padding history slots, that
/// the encoder gathers from. Both are built once per table, so ranking does not copy the whole
/// table for every request.
#[derive(Debug, Clone)]
pub struct ItemTable {
    /// `[items, dim]`
    pub vectors: Tensor<2>,
    /// `[items + 1, dim]`: `vectors` and a zero row.
    pub padded: Tensor<2>,
}

impl ItemTable {
    pub fn new(vectors: Tensor<2>) -> Self {
        let dim = vectors.dims()[1];
        let padded = Tensor::cat(vec![vectors.clone(), Tensor::zeros([1, dim], &vectors.device())], 0);
        ItemTable { vectors, padded }
    }

    pub fn len(&self) -> usize {
        self.vectors.dims()[0]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
