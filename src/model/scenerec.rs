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
        let dim = table.dims()[1];
        let padded = Tensor::cat(vec![table.clone(), Tensor::zeros([1, dim], &table.device())], 0);
        self.interest.states(&padded, history)
    }

    /// `[batch, dim]` interest vectors after each window's last event, for target scenes `[batch]`.
    pub fn user_vectors(&self, table: &Tensor<2>, history: &HistoryBatch, scenes: Tensor<1, Int>) -> Tensor<2> {
        let [b, l] = history.dims();
        let dim = table.dims()[1];
        let last = self.states(table, history).slice([0..b, l - 1..l]).reshape([b, dim]);
        self.interest.interest(last, scenes)
    }

    /// Fusion-head logits for (user, item, scene) rows: `[rows, dim]` × 2, `[rows]` → `[rows]`.
    pub fn fuse(&self, users: Tensor<2>, items: Tensor<2>, scenes: Tensor<1, Int>) -> Tensor<1> {
        self.head.forward(users, items, scenes)
    }
}
