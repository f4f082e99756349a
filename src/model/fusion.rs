//! The fusion head: `MLP([u; v; u⊙v; scene])`, added to the dot product `u·v`.
//!
//! The dot product is what retrieval ranks the whole catalogue by; the MLP then corrects it for
//! the few hundred retrieved candidates with interactions a dot product cannot express.
//! Starting from the dot product keeps the head at least as good as retrieval. `scene` is the
//! query scene, "any scene" included.

use burn::module::{Initializer, Module};
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
            scene: EmbeddingConfig::new(c.query_scenes(), c.dim).init(device),
            hidden: LinearConfig::new(4 * c.dim, c.head_hidden).init(device),
            // Zero: the head starts as the dot product it corrects (see crate::train::loss).
            out: LinearConfig::new(c.head_hidden, 1).with_initializer(Initializer::Zeros).init(device),
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

    /// Logits for `r` candidate items per user: the same function as [`forward`] on the rows
    /// (user `q`, item `items[q, j]`, scene `q`), computed for ranking. The first layer is split
    /// by input block: the user's and the scene's blocks are computed once per user, and the
    /// item-wise product folds into a per-user matrix, `(u ⊙ v)·W = v·(diag(u)·W)`, so a
    /// user's candidates cost about a quarter of `forward`'s multiply-adds.
    ///
    /// [`forward`]: FusionHead::forward
    ///
    /// # Shapes
    /// `users`: `[b, dim]`, `items`: `[b, r, dim]`, `scenes`: `[b]`; returns `[b, r]`
    pub fn forward_grouped(&self, users: Tensor<2>, items: Tensor<3>, scenes: Tensor<1, Int>) -> Tensor<2> {
        let [b, r, d] = items.dims();
        let weight = self.hidden.weight.val(); // [4 · dim, hidden], blocks in `forward`'s input order
        let h = weight.dims()[1];
        let block = |k: usize| weight.clone().slice([k * d..(k + 1) * d, 0..h]);
        let scene = self.scene.weight.val().select(0, scenes);
        let mut per_user = users.clone().matmul(block(0)) + scene.matmul(block(3));
        if let Some(bias) = &self.hidden.bias {
            per_user = per_user + bias.val().unsqueeze::<2>();
        }
        let item_weight = block(1).unsqueeze::<3>() + users.clone().unsqueeze_dim::<3>(2) * block(2).unsqueeze::<3>();
        let hidden = items.clone().matmul(item_weight) + per_user.unsqueeze_dim::<3>(1);
        let dot = (items * users.unsqueeze_dim::<3>(1)).sum_dim(2).reshape([b, r]);
        dot + self.out.forward(relu(hidden)).reshape([b, r])
    }
}
