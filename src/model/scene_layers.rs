//! The scene-specific layers above the shared encoder (PEPNet-style): the query scene's
//! embedding drives a gate in (0, 2) over the shared sequence state, plus a per-scene shift, so
//! each scene re-weights the shared interests without its gradients overwriting the others'.
//!
//! Query scenes are the catalogue's scenes plus "any scene" ([`ModelConfig::any_scene`]): the
//! query of a user whose tab is unknown, trained by scene dropout (some training targets are
//! predicted with it instead of their scene), so one set of weights ranks a scene's items and
//! the whole catalogue.

use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Int, Tensor};

use super::config::ModelConfig;

#[derive(Module, Debug)]
pub struct SceneLayers {
    target_scene: Embedding,
    gate: Linear,
    shift: Embedding,
}

impl SceneLayers {
    pub fn new(c: &ModelConfig, device: &Device) -> Self {
        SceneLayers {
            target_scene: EmbeddingConfig::new(c.query_scenes(), c.dim).init(device),
            gate: LinearConfig::new(2 * c.dim, c.dim).init(device),
            shift: EmbeddingConfig::new(c.query_scenes(), c.dim).init(device),
        }
    }

    /// Interest vectors for query scenes from sequence states.
    ///
    /// # Shapes
    /// `states`: `[rows, dim]`, `scenes`: `[rows]` (query scene indices); returns `[rows, dim]`
    pub fn forward(&self, states: Tensor<2>, scenes: Tensor<1, Int>) -> Tensor<2> {
        let scene = self.target_scene.weight.val().select(0, scenes.clone());
        let gate = sigmoid(self.gate.forward(Tensor::cat(vec![states.clone(), scene], 1))) * 2.0;
        states * gate + self.shift.weight.val().select(0, scenes)
    }
}
