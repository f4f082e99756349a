//! Data: RecBole atomic files in, multi-scene histories and training batches out.
//!
//! - [`atomic`]: the `name:type` TSV reader with line-numbered errors.
//! - [`catalog`]: items, their text, genres and home scene.
//! - [`dataset`]: per-user, time-ordered multi-scene histories loaded from atomic files.
//! - [`scenes`]: the rule that assigns ML-1M items to genre-channel scenes.
//! - [`protocol`]: filtering and the chronological leave-one-out / cold-start splits.
//! - [`batch`]: windows of history turned into model inputs.

pub mod atomic;
pub mod batch;
pub mod catalog;
pub mod dataset;
pub mod protocol;
pub mod scenes;

pub use catalog::{Catalog, Item, SceneKind};
pub use dataset::{Action, Dataset, Event};
