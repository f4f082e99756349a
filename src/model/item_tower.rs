//! The item tower: one vector per item from its learned ID embedding, a projection of its
//! frozen language-model text embedding, its genres and its home scene.
//!
//! The ID term is multiplied by [`ItemFeatures::known`], so an item never seen in training
//! gets its vector from text and categories alone (cold start). Training also drops ID
//! vectors at random ("ID dropout"), which teaches the text path to carry the item by itself.

use burn::module::Module;
use burn::module::Initializer;
use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

use super::config::ModelConfig;
use super::inputs::ItemFeatures;

#[derive(Module, Debug)]
pub struct ItemTower {
    id: Embedding,
    lm_proj: Option<Linear>,
    /// Genres and home scene (absent in the ID-only SASRec peer).
    genre: Option<Linear>,
    scene: Option<Embedding>,
}

/// Small initial item vectors: the first retrieval logits `u·v` are then near zero, so the
/// softmax over thousands of items starts uniform instead of confidently wrong.
const ITEM_INIT: Initializer = Initializer::Normal { mean: 0.0, std: 0.02 };

impl ItemTower {
    pub fn new(c: &ModelConfig, device: &Device) -> Self {
        ItemTower {
            id: EmbeddingConfig::new(c.n_items, c.dim).with_initializer(ITEM_INIT).init(device),
            lm_proj: c.reads_text().then(|| LinearConfig::new(c.lm_dim, c.dim).init(device)),
            genre: c.side_inputs().then(|| {
                LinearConfig::new(c.n_genres.max(1), c.dim).with_bias(false).with_initializer(ITEM_INIT).init(device)
            }),
            scene: c.side_inputs().then(|| EmbeddingConfig::new(c.n_scenes, c.dim).with_initializer(ITEM_INIT).init(device)),
        }
    }

    /// Vectors for every item of the catalogue.
    ///
    /// `id_keep` (`[items, 1]`, 0 or 1) drops ID embeddings during training.
    ///
    /// # Shapes
    /// returns `[items, dim]`
    pub fn forward(&self, f: &ItemFeatures, id_keep: Option<Tensor<2>>) -> Tensor<2> {
        let mask = match id_keep {
            Some(keep) => f.known.clone() * keep,
            None => f.known.clone(),
        };
        let mut x = self.id.weight.val() * mask;
        if let Some(genre) = &self.genre {
            x = x + genre.forward(f.genres.clone());
        }
        if let Some(scene) = &self.scene {
            x = x + scene.weight.val().select(0, f.scenes.home.clone());
        }
        if let Some(proj) = &self.lm_proj {
            x = x + proj.forward(f.lm.clone());
        }
        x
    }
}
