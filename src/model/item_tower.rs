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
    /// Absent in a browser export, which ships the tower's output instead (see
    /// [`crate::vectors`]); the tower then only computes new, cold items.
    id: Option<Embedding>,
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
            id: Some(EmbeddingConfig::new(c.n_items, c.dim).with_initializer(ITEM_INIT).init(device)),
            lm_proj: c.reads_text().then(|| LinearConfig::new(c.lm_dim, c.dim).init(device)),
            genre: c.side_inputs().then(|| {
                LinearConfig::new(c.n_genres.max(1), c.dim).with_bias(false).with_initializer(ITEM_INIT).init(device)
            }),
            scene: c.side_inputs().then(|| EmbeddingConfig::new(c.n_scenes, c.dim).with_initializer(ITEM_INIT).init(device)),
        }
    }

    /// Whether the tower holds its ID table (see [`ItemTower::drop_ids`]).
    pub fn has_ids(&self) -> bool {
        self.id.is_some()
    }

    /// Leaves the ID table out: what a browser export saves. Such a tower only computes items
    /// whose features say they are not known (cold items).
    pub fn drop_ids(&mut self) {
        self.id = None;
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
        let terms = [
            self.id.as_ref().map(|id| id.weight.val() * mask),
            self.genre.as_ref().map(|genre| genre.forward(f.genres.clone())),
            self.scene.as_ref().map(|scene| scene.weight.val().select(0, f.scenes.home.clone())),
            self.lm_proj.as_ref().map(|proj| proj.forward(f.lm.clone())),
        ];
        // Every tower has the ID table or the text projection (the config requires one).
        terms.into_iter().flatten().reduce(|a, b| a + b).expect("an item tower has at least one input")
    }
}
