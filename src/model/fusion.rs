//! The fusion head: `MLP([u; v; u⊙v; scene])`, added to the dot product `u·v`.
//!
//! The dot product is what retrieval ranks the whole catalogue by; the MLP then corrects it for
//! the few hundred retrieved candidates with interactions a dot product cannot express.
//! Starting from the dot product keeps the head at least as good as retrieval.

use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Int, Tensor};

use super::config::ModelConfig;

#[derive(Module, Debug)]
pub struct FusionHead {
    scene: Embedding,
    hidden: Linear,
    out: Linear,
}

impl FusionHead {
    pub fn new(c: &ModelConfig, device: &Device) -> Self {
        FusionHead {
            scene: EmbeddingConfig::new(c.n_scenes, c.dim).init(device),
            hidden: LinearConfig::new(4 * c.dim, c.head_hidden).init(device),
            out: LinearConfig::new(c.head_hidden, 1).init(device),
        }
    }

    /// Logits for (user, item, scene) rows.
    ///
    /// # Shapes
    /// `users`, `items`: `[rows, dim]`, `scenes`: `[rows]`; returns `[rows]`
    pub fn forward(&self, users: Tensor<2>, items: Tensor<2>, scenes: Tensor<1, Int>) -> Tensor<1> {
        let rows = users.dims()[0];
        let prod = users.clone() * items.clone();
        let dot = prod.clone().sum_dim(1);
        let scene = self.scene.weight.val().select(0, scenes);
        let x = Tensor::cat(vec![users, items, prod, scene], 1);
        (dot + self.out.forward(relu(self.hidden.forward(x)))).reshape([rows])
    }
}
