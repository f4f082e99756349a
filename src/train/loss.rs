//! The loss of one batch of windows.
//!
//! Retrieval: at every position, a softmax over the whole catalogue of `u·v` with the next item
//! as the label (full softmax is affordable for catalogues of a few thousand items and trains
//! far faster than sampled BCE). Ranking: the fusion head learns to tell the next item from a
//! random one (BCE), on the same interest vectors.

use burn::tensor::activation::{log_sigmoid, log_softmax};
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::samples::Window;
use crate::data::batch::history_batch;
use crate::model::{ItemFeatures, SceneRec};
use crate::rng::Rng;

/// Loss terms of one batch (scalars, still attached to the autodiff graph).
pub struct BatchLoss {
    pub total: Tensor<1>,
    pub retrieval: Tensor<1>,
    pub head: Tensor<1>,
    /// Number of predicted positions.
    pub targets: usize,
}

/// Knobs of the loss.
#[derive(Debug, Clone, Copy)]
pub struct LossOptions {
    pub head_weight: f32,
    pub max_len: usize,
}

/// The item table for a training batch, with a random `id_dropout` share of ID vectors off.
pub fn training_table(model: &SceneRec, features: &ItemFeatures, id_dropout: f32, rng: &mut Rng) -> Tensor<2> {
    let n = features.len();
    let keep: Vec<f32> = (0..n).map(|_| if rng.unit() < id_dropout { 0.0 } else { 1.0 }).collect();
    let keep = Tensor::<2>::from_data(TensorData::new(keep, [n, 1]), &features.known.device());
    model.item_table(features, Some(keep))
}

/// The loss of `windows` given the item `table` (`[items, dim]`, from [`training_table`] when
/// pretraining, or fixed when fine-tuning leaves the item tower alone).
pub fn batch_loss(
    model: &SceneRec,
    table: Tensor<2>,
    windows: &[Window<'_>],
    opts: LossOptions,
    rng: &mut Rng,
    device: &Device,
) -> BatchLoss {
    let n = table.dims()[0];
    let inputs: Vec<&[crate::data::Event]> = windows.iter().map(|w| &w[..w.len() - 1]).collect();
    let history = history_batch(&inputs, n, opts.max_len, device);
    let [b, l] = history.dims();
    let (mut rows, mut targets, mut scenes, mut negatives) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (r, w) in windows.iter().enumerate() {
        let predicted = &w[1..];
        let kept = predicted.len().min(opts.max_len);
        for (j, e) in predicted[predicted.len() - kept..].iter().enumerate() {
            rows.push((r * l + l - kept + j) as i64);
            targets.push(e.item as i64);
            scenes.push(e.scene as i64);
            let mut neg = rng.below(n);
            if neg == e.item as usize {
                neg = (neg + 1) % n;
            }
            negatives.push(neg as i64);
        }
    }
    let m = rows.len();
    let int = |v: Vec<i64>| Tensor::<1, Int>::from_data(TensorData::new(v, [m]), device);
    let dim = table.dims()[1];
    let states = model.states(&table, &history).reshape([b * l, dim]).select(0, int(rows));
    let target_t = int(targets);
    let scene_t = int(scenes);
    let users = model.interest.interest(states, scene_t.clone());

    let logits = users.clone().matmul(table.clone().transpose());
    let retrieval = log_softmax(logits, 1).gather(1, target_t.clone().reshape([m, 1])).mean().neg();

    let pos = model.fuse(users.clone(), table.clone().select(0, target_t), scene_t.clone());
    let neg = model.fuse(users, table.select(0, int(negatives)), scene_t);
    let head = (log_sigmoid(pos).mean() + log_sigmoid(neg.neg()).mean()).neg();
    let total = retrieval.clone() + head.clone() * opts.head_weight;
    BatchLoss { total, retrieval, head, targets: m }
}
