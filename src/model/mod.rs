//! The multi-scene fusion model.
//!
//! - [`config`]: hyper-parameters (serialised into weights files).
//! - [`item_tower`]: item vectors from ID, language-model text embedding, genres and scene.
//! - [`interest`]: the interest encoder over the unified multi-scene history.
//! - [`fusion`]: the concat + MLP head that scores (user, item, scene).
//! - [`inputs`]: the tensors the model reads (item features, history batches).
//! - [`scenerec`]: the three parts put together.

pub mod config;
pub mod fusion;
pub mod inputs;
pub mod interest;
pub mod item_tower;
pub mod scenerec;

pub use config::ModelConfig;
pub use inputs::{HistoryBatch, ItemFeatures};
pub use scenerec::{ItemTable, SceneRec};
