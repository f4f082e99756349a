//! Model hyper-parameters. The shapes (`n_items`, `n_scenes`, `n_genres`, `lm_dim`) come from
//! the catalogue; the rest are choices, defaulted to what the accuracy benchmark selected.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Number of time-gap buckets the interest encoder embeds (see [`crate::data::batch::gap_bucket`]).
pub const GAP_BUCKETS: usize = 16;

/// Upper bounds of a config's sizes. Items are indexed by `u32` in histories (and the browser's
/// typed arrays), scenes by `u16` with one more for "any scene"; the rest keep every dot product
/// to a few thousand terms (see [`crate::store::MAX_WEIGHT`]) and every layer within reach of a
/// browser tab.
pub const LIMITS: Limits = Limits {
    items: 50_000_000,
    scenes: u16::MAX as usize - 1,
    genres: 4096,
    lm_dim: 4096,
    dim: 1024,
    layers: 16,
    heads: 64,
    max_len: 1024,
    head_hidden: 4096,
};

/// See [`LIMITS`].
pub struct Limits {
    pub items: usize,
    pub scenes: usize,
    pub genres: usize,
    pub lm_dim: usize,
    pub dim: usize,
    pub layers: usize,
    pub heads: usize,
    pub max_len: usize,
    pub head_hidden: usize,
}

/// Which model the config builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// The multi-scene fusion model: item side features, scene/action/time inputs, scene
    /// layers and the fusion head.
    #[default]
    SceneRec,
    /// The SASRec peer of the accuracy benchmark, built from the same code with everything of
    /// ours removed: item ID embeddings plus learned positions, the causal self-attention
    /// blocks, and the dot product with the item embeddings (Kang & McAuley, 2018). It sees
    /// no scene, no text, no genres, no actions and no times.
    SasRec,
}

/// Hyper-parameters and shapes. In a config file only the choices are given; the shapes are
/// filled in from the catalogue ([`ModelConfig::for_catalog`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    pub arch: Arch,
    pub n_items: usize,
    pub n_scenes: usize,
    pub n_genres: usize,
    /// Width of the language-model text embedding (all-MiniLM-L6-v2: 384).
    pub lm_dim: usize,
    /// Whether the item tower reads the language-model embedding (off: the "no LM" ablation).
    pub use_lm: bool,
    pub dim: usize,
    /// Longest history window the encoder reads.
    pub max_len: usize,
    pub layers: usize,
    pub heads: usize,
    pub dropout: f64,
    /// Hidden width of the fusion MLP.
    pub head_hidden: usize,
    /// How many of retrieval's best items the fusion head re-ranks (0: none, retrieval's order
    /// is final). Training sets it: its re-ranking depth if re-ranking did better than
    /// retrieval alone on the validation split, else 0.
    pub rerank: usize,
    /// Whether the interest vector reads the time from the history's last event to the request
    /// ("now", bucketed as event gaps are), so a user back after a month is read differently
    /// from one mid-session. Training takes "now" from each target's timestamp, hidden at the
    /// event-dropout rate so that an unknown time is trained too. It is an input, not part of
    /// scenerec's design: with `arch: "sasrec"` the peer reads it the same way, so a comparison
    /// can give both models the same time. Left out of a file's header when off, so weights
    /// without it are written as before this option existed and older readers still load them.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub query_time: bool,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            arch: Arch::SceneRec,
            n_items: 0,
            n_scenes: 0,
            n_genres: 0,
            lm_dim: 384,
            use_lm: true,
            dim: 64,
            max_len: 50,
            layers: 2,
            heads: 2,
            dropout: 0.2,
            head_hidden: 64,
            rerank: 100,
            query_time: false,
        }
    }
}

impl ModelConfig {
    /// The scene index of the "any scene" query: the interest of a user whose tab is unknown,
    /// or who browses the whole catalogue. The scene layers and the fusion head have one row
    /// per scene plus this one.
    pub fn any_scene(&self) -> usize {
        self.n_scenes
    }

    /// Whether the model reads anything beside item IDs and positions (false: the SASRec peer).
    pub fn side_inputs(&self) -> bool {
        self.arch == Arch::SceneRec
    }

    /// Whether the item tower reads the language-model text embedding.
    pub fn reads_text(&self) -> bool {
        self.use_lm && self.side_inputs()
    }

    /// Rows of the query-scene tables: every scene, then "any scene".
    pub fn query_scenes(&self) -> usize {
        self.n_scenes + 1
    }

    /// Each bounded size with its name and [`LIMITS`] bound.
    fn sizes(&self) -> [(&'static str, usize, usize); 10] {
        let l = &LIMITS;
        [
            ("n_items", self.n_items, l.items),
            ("n_scenes", self.n_scenes, l.scenes),
            ("n_genres", self.n_genres, l.genres),
            ("lm_dim", self.lm_dim, l.lm_dim),
            ("dim", self.dim, l.dim),
            ("layers", self.layers, l.layers),
            ("heads", self.heads, l.heads),
            ("max_len", self.max_len, l.max_len),
            ("head_hidden", self.head_hidden, l.head_hidden),
            ("rerank", self.rerank, l.items),
        ]
    }

    /// This config with the shapes of `catalog`.
    pub fn for_catalog(&self, catalog: &crate::data::Catalog) -> Self {
        ModelConfig {
            n_items: catalog.len(),
            n_scenes: catalog.scenes.len(),
            n_genres: catalog.genres.len(),
            ..self.clone()
        }
    }

    /// Rejects values that would make layer construction panic, and sizes beyond what the
    /// model's index types and a browser can hold ([`LIMITS`]): a config can come from a
    /// downloaded weights file.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(m));
        if self.n_items == 0 || self.n_scenes == 0 {
            return bad(format!("n_items ({}) and n_scenes ({}) must be positive", self.n_items, self.n_scenes));
        }
        for (name, value, max) in self.sizes() {
            if value > max {
                return bad(format!("{name} is {value}; at most {max} is supported"));
            }
        }
        if self.dim == 0 || self.heads == 0 || !self.dim.is_multiple_of(self.heads) {
            return bad(format!("dim ({}) must be a positive multiple of heads ({})", self.dim, self.heads));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad(format!("dropout {} is not in [0, 1)", self.dropout));
        }
        if self.max_len == 0 || self.head_hidden == 0 || self.lm_dim == 0 {
            return bad("max_len, head_hidden and lm_dim must be positive".into());
        }
        Ok(())
    }
}
