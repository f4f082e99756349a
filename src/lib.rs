//! scenerec: a multi-scene fusion recommender that pretrains natively and runs on the device.
//!
//! Module map (each file holds one concept):
//! - [`backend`]: the one place that names Burn backends and builds devices.
//! - [`data`]: RecBole atomic files, the item catalogue, multi-scene histories, the
//!   evaluation protocol and training batches.
//! - [`model`]: item tower, interest encoder, fusion head.
//! - [`train`]: the hand-written training loop (loss, Adam, early stopping, checkpoints).
//! - [`rank`]: scoring, top-K with exclusions, retrieval + re-ranking.
//! - [`metrics`]: HR, NDCG, AUC, coverage, diversity, novelty.
//! - [`eval`]: the full-ranking evaluation in three tracks that produces those metrics per scene.
//! - [`peers`]: the baselines the benchmark compares with (popularity, Markov, ItemKNN, SASRec).
//! - [`store`]: versioned, validated weights files.
//! - [`vectors`]: the quantised item vectors a browser export ranks from.
//! - [`recommender`]: the on-device recommender the browser runs (rank, fine-tune, export).
//! - [`fine_tune`]: on-device fine-tuning of one user's copy of the model.
//! - [`embed`]: language-model text embeddings of items (native only).
//! - [`bench`]: the accuracy benchmark (baselines and ablations).
//! - [`fuzz`]: the fuzzer of weights files, catalogues, histories and RecBole files (native only).
//! - `wasm`: the `#[wasm_bindgen]` wrappers (wasm32 builds with the `wasm` feature only).

pub mod backend;
pub mod data;
pub mod error;
pub mod eval;
pub mod fine_tune;
pub mod metrics;
pub mod model;
pub mod peers;
pub mod rank;
pub mod recommender;
pub mod rng;
pub mod store;
pub mod train;
pub mod vectors;


#[cfg(feature = "embed")]
pub mod embed;

#[cfg(feature = "embed")]
pub mod experiment;

#[cfg(feature = "cli")]
pub mod cli;

#[cfg(feature = "cli")]
pub mod bench;

#[cfg(feature = "cli")]
pub mod fuzz;

#[cfg(all(feature = "wasm", target_arch = "wasm32"))]
pub mod wasm;

pub use error::{Error, Result};
