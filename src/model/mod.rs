//! The multi-scene fusion model.
//!
//! - [`config`]: hyper-parameters (serialised into weights files).
//! - [`item_tower`]: item vectors from ID, language-model text embedding, genres and scene.
//! - [`interest`]: the interest encoder over the unified multi-scene history.
//! - [`scene_layers`]: the scene-specific gate and shift above it ("any scene" included).
//! - [`fusion`]: the concat + MLP head that scores (user, item, scene).
//! - [`inputs`]: the tensors the model reads (item features, history batches).
//! - [`scenerec`]: the three parts put together.

pub mod config;
pub mod fusion;
pub mod inputs;
pub mod interest;
pub mod item_tower;
pub mod scene_layers;
pub mod scenerec;

pub use config::{Arch, ModelConfig};
pub use inputs::{HistoryBatch, ItemFeatures, SceneIndex};
pub use scenerec::{ItemTable, SceneRec};
