//! The SASRec peer (Kang & McAuley, 2018, trained with a full softmax over the catalogue as in
//! later re-evaluations): item ID embeddings plus learned position embeddings, the causal
//! self-attention blocks, and the dot product with the item embeddings as the score.
//!
//! It is the model's own code ([`crate::model`] with [`Arch::SasRec`]) with every side input
//! removed — no scene, no text, no genres, no actions, no times, no scene layers and no fusion
//! head — trained by the same loop with the same optimiser, batch size, learning rate, patience
//! and validation rule, so the comparison measures what the multi-scene parts add. It gets what
//! helps any sequence model: its softmax, like scenerec's, leaves out the items the history
//! already holds (ranking never recommends them; on the validation split this raised its
//! NDCG@10), and the benchmark tunes its learning-rate schedule as it tunes scenerec's
//! ([`TrainConfig::schedules`]). A config with `model.query_time` gives it the time to the
//! request as it gives scenerec (see [`crate::model::ModelConfig::query_time`]), always shown:
//! it has no event dropout.

use crate::model::Arch;
use crate::train::TrainConfig;

/// SASRec's training config, from the benchmark's config: the same shared knobs, with the
/// model's own parts turned off.
pub fn config(base: &TrainConfig) -> TrainConfig {
    let mut c = base.clone();
    c.model.arch = Arch::SasRec;
    c.model.use_lm = false;
    c.id_dropout = 0.0;
    c.event_dropout = 0.0;
    c.head_weight = 0.0;
    c.rerank = 0;
    c
}
