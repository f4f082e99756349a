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
    pub head: FusionHead,
}

impl SceneRec {
    /// A freshly initialised model (seed the device first for reproducible weights).
    pub fn new(config: &ModelConfig, device: &Device) -> Result<Self> {
        config.validate()?;
        Ok(SceneRec {
            items: ItemTower::new(config, device),
            interest: InterestEncoder::new(config, device),
            head: FusionHead::new(config, device),
        })
    }

    /// `[items, dim]` item vectors; `id_keep` is the training-time ID dropout mask.
    pub fn item_table(&self, features: &ItemFeatures, id_keep: Option<Tensor<2>>) -> Tensor<2> {
        self.items.forward(features, id_keep)
    }

    /// `[batch, len, dim]` causal states over the history windows.
    pub fn states(&self, table: &Tensor<2>, history: &HistoryBatch) -> Tensor<3> {
        self.interest.states(&padded(table), history)
    }

    /// `[batch, dim]` sequence states after each window's last event (before the scene layers).
    pub fn last_states(&self, table: &Tensor<2>, history: &HistoryBatch) -> Tensor<2> {
        self.interest.last_states(&padded(table), history)
    }

    /// `[batch, dim]` interest vectors after each window's last event, for target scenes `[batch]`.
    pub fn user_vectors(&self, table: &Tensor<2>, history: &HistoryBatch, scenes: Tensor<1, Int>) -> Tensor<2> {
        self.interest.interest(self.last_states(table, history), scenes)
    }

    /// Fusion-head logits for (user, item, scene) rows: `[rows, dim]` × 2, `[rows]` → `[rows]`.
    pub fn fuse(&self, users: Tensor<2>, items: Tensor<2>, scenes: Tensor<1, Int>) -> Tensor<1> {
        self.head.forward(users, items, scenes)
    }
}

/// The item table with one zero row appended, the vector of padding events.
fn padded(table: &Tensor<2>) -> Tensor<2> {
    let dim = table.dims()[1];
    Tensor::cat(vec![table.clone(), Tensor::zeros([1, dim], &table.device())], 0)
}
