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
use crate::model::{ItemFeatures, ItemTable, SceneRec};
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
    /// `None`: softmax over the whole catalogue. `Some(n)`: over the batch's targets plus
    /// random items, `n` columns in all — much cheaper, for fine-tuning on a device.
    pub sampled: Option<usize>,
}

/// The item table for a training batch, with a random `id_dropout` share of ID vectors off.
pub fn training_table(model: &SceneRec, features: &ItemFeatures, id_dropout: f32, rng: &mut Rng) -> ItemTable {
    let n = features.len();
    let keep: Vec<f32> = (0..n).map(|_| if rng.unit() < id_dropout { 0.0 } else { 1.0 }).collect();
    let keep = Tensor::<2>::from_data(TensorData::new(keep, [n, 1]), &features.known.device());
    model.item_table(features, Some(keep))
}

/// The pretraining loss of `windows` (each window's events, the last `max_len` of them read, predict
/// every next event) given the item `table` (from [`training_table`]).
pub fn batch_loss(
    model: &SceneRec,
    table: ItemTable,
    windows: &[Window<'_>],
    max_len: usize,
    opts: LossOptions,
    rng: &mut Rng,
    device: &Device,
) -> BatchLoss {
    let n = table.len();
    let inputs: Vec<&[crate::data::Event]> = windows.iter().map(|w| &w[..w.len() - 1]).collect();
    let history = history_batch(&inputs, n, max_len, device);
    let [b, l] = history.dims();
    let (mut rows, mut targets, mut scenes) = (Vec::new(), Vec::new(), Vec::new());
    for (r, w) in windows.iter().enumerate() {
        let predicted = &w[1..];
        let kept = predicted.len().min(max_len);
        for (j, e) in predicted[predicted.len() - kept..].iter().enumerate() {
            rows.push((r * l + l - kept + j) as i64);
            targets.push(e.item as i64);
            scenes.push(e.scene as i64);
        }
    }
    let m = rows.len();
    let dim = table.vectors.dims()[1];
    let rows = Tensor::<1, Int>::from_data(TensorData::new(rows, [m]), device);
    let states = model.states(&table, &history).reshape([b * l, dim]).select(0, rows);
    user_loss(model, table.vectors, states, &targets, &scenes, opts, rng, device)
}

/// The loss of sequence `states` (`[m, dim]`, after the encoder) against their next items
/// `targets` in target `scenes`: the retrieval softmax (full or sampled) over the interest
/// vectors, plus the head's BCE of each target against a random item. Pretraining feeds it
/// every position of its windows; on-device fine-tuning feeds it cached states.
#[allow(clippy::too_many_arguments)]
pub fn user_loss(
    model: &SceneRec,
    table: Tensor<2>,
    states: Tensor<2>,
    targets: &[i64],
    scenes: &[i64],
    opts: LossOptions,
    rng: &mut Rng,
    device: &Device,
) -> BatchLoss {
    let n = table.dims()[0];
    let m = targets.len();
    let negatives: Vec<i64> = targets
        .iter()
        .map(|&t| {
            let neg = rng.below(n) as i64;
            if neg == t { (neg + 1) % n as i64 } else { neg }
        })
        .collect();
    let int = |v: Vec<i64>| Tensor::<1, Int>::from_data(TensorData::new(v, [m]), device);
    let target_t = int(targets.to_vec());
    let scene_t = int(scenes.to_vec());
    let users = model.interest.interest(states, scene_t.clone());

    let (columns, labels) = match opts.sampled {
        None => (table.clone(), target_t.clone()),
        Some(size) => {
            let (items, labels) = sampled_columns(targets, n, size, rng);
            let c = items.len();
            let items = Tensor::<1, Int>::from_data(TensorData::new(items, [c]), device);
            (table.clone().select(0, items), int(labels))
        }
    };
    let logits = users.clone().matmul(columns.transpose());
    let retrieval = log_softmax(logits, 1).gather(1, labels.reshape([m, 1])).mean().neg();

    let pos = model.fuse(users.clone(), table.clone().select(0, target_t), scene_t.clone());
    let neg = model.fuse(users, table.select(0, int(negatives)), scene_t);
    let head = (log_sigmoid(pos).mean() + log_sigmoid(neg.neg()).mean()).neg();
    let total = retrieval.clone() + head.clone() * opts.head_weight;
    BatchLoss { total, retrieval, head, targets: m }
}

/// The softmax columns of a sampled loss: every distinct target, then random other items up to
/// `size` columns; returns the columns and each target's column index.
fn sampled_columns(targets: &[i64], n_items: usize, size: usize, rng: &mut Rng) -> (Vec<i64>, Vec<i64>) {
    let mut column = std::collections::HashMap::new();
    let mut items = Vec::new();
    let mut labels = Vec::with_capacity(targets.len());
    for &t in targets {
        let next = items.len() as i64;
        let c = *column.entry(t).or_insert_with(|| {
            items.push(t);
            next
        });
        labels.push(c);
    }
    let want = size.min(n_items).max(items.len());
    while items.len() < want {
        let candidate = rng.below(n_items) as i64;
        if let std::collections::hash_map::Entry::Vacant(e) = column.entry(candidate) {
            e.insert(items.len() as i64);
            items.push(candidate);
        }
    }
    (items, labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampled_columns_hold_every_target_once() {
        let mut rng = Rng::new(1);
        let (items, labels) = sampled_columns(&[5, 2, 5, 9], 20, 8, &mut rng);
        assert_eq!(items.len(), 8);
        assert_eq!(&items[..3], &[5, 2, 9]);
        assert_eq!(labels, vec![0, 1, 0, 2]);
        let mut unique = items.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 8, "no item twice");
        assert_eq!(sampled_columns(&[1], 3, 10, &mut rng).0.len(), 3, "capped at the catalogue");
    }
}
