//! The loss of one batch of windows.
//!
//! Every target (the next event after a history prefix) is predicted twice, as the model is
//! asked in use: by the "any scene" query over the whole catalogue (a page that is not one
//! tab), and by the query of the target's scene over that scene's items (a tab, which ranks
//! only its items). Each is a softmax of `u·v` with the target as the label — over every
//! candidate (full softmax is affordable for catalogues of a few thousand items and trains far
//! faster than sampled BCE), or over sampled columns on a device.
//!
//! The fusion head re-ranks retrieval's best `rerank` items, so it learns exactly that: for a
//! sample of the rows whose target retrieval put among its best `rerank`, a softmax over those
//! items, scored by the head on the retrieval's vectors taken as given (detached: re-ranking
//! must not pull the retrieval vectors away from what the softmax needs). Its output layer
//! starts at zero, so the head starts as the dot product it corrects and moves only where that
//! lowers the re-ranking loss. (Measured on ML-1M: trained with BCE against one random or one
//! hard negative, or over the target plus retrieval's best others — a set in which the target
//! is always the least retrieved — it re-ranked worse than retrieval alone.)
//!
//! The SASRec peer has no scene layers: it is trained with the "any scene" softmax alone.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use super::samples::Window;
use crate::backend::read_f32;
use crate::data::Event;
use crate::data::batch::{history_batch, query_gap};
use crate::model::{ItemFeatures, ItemTable, SceneIndex, SceneRec};
use crate::rank::top_k;
use crate::rng::Rng;
use crate::Result;

/// About this many of a batch's targets train the head, for each kind of query (an even sample
/// of them): the head's candidates are found on the host, and a few hundred rows a batch teach
/// it plenty.
const HEAD_ROWS: usize = 512;

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
    /// `None`: softmax over every candidate. `Some(n)`: over the batch's targets plus random
    /// items, `n` columns in all — much cheaper, for fine-tuning on a device.
    pub sampled: Option<usize>,
    /// The index of the "any scene" query ([`crate::model::ModelConfig::any_scene`]).
    pub any_scene: usize,
    /// How many of retrieval's best items the head re-ranks.
    pub rerank: usize,
    /// Each softmax leaves out the items the row's history already holds (ranking never
    /// recommends them), so training spends its mass on the candidates ranking sees.
    pub exclude_seen: bool,
    /// Share of history events whose scene, action and gap the encoder does not see (see
    /// [`crate::train::TrainConfig::event_dropout`]).
    pub event_dropout: f32,
}

/// `n` dropout flags: each 0 with probability `share`, else 1.
fn keep_flags(n: usize, share: f32, rng: &mut Rng) -> Vec<f32> {
    (0..n).map(|_| if rng.unit() < share { 0.0 } else { 1.0 }).collect()
}

/// The item table for a training batch, with a random `id_dropout` share of ID vectors off.
pub fn training_table(model: &SceneRec, features: &ItemFeatures, id_dropout: f32, rng: &mut Rng) -> ItemTable {
    let n = features.len();
    let keep = Tensor::<2>::from_data(TensorData::new(keep_flags(n, id_dropout, rng), [n, 1]), &features.known.device());
    model.item_table(features, Some(keep))
}

/// The pretraining loss of `windows` (each window's events, the last `max_len` of them read, predict
/// every next event) given the item `table` (from [`training_table`]).
#[allow(clippy::too_many_arguments)]
pub async fn batch_loss(
    model: &SceneRec,
    table: ItemTable,
    scenes: &SceneIndex,
    windows: &[Window<'_>],
    max_len: usize,
    opts: LossOptions,
    rng: &mut Rng,
    device: &Device,
) -> Result<BatchLoss> {
    let n = table.len();
    let inputs: Vec<&[Event]> = windows.iter().map(|w| &w[..w.len() - 1]).collect();
    let mut history = history_batch(&inputs, n, max_len, device);
    let [b, l] = history.dims();
    if opts.event_dropout > 0.0 {
        let keep = keep_flags(b * l, opts.event_dropout, rng);
        history.side_keep = Some(Tensor::from_data(TensorData::new(keep, [b, l, 1]), device));
    }
    let (mut rows, mut targets, mut seen, mut gaps) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (r, w) in windows.iter().enumerate() {
        let predicted = &w[1..];
        let kept = predicted.len().min(max_len);
        let first = predicted.len() - kept;
        for (j, e) in predicted[first..].iter().enumerate() {
            rows.push((r * l + l - kept + j) as i64);
            targets.push((e.item as i64, e.scene));
            // The window's events before this target (`predicted[i]` is `w[i + 1]`).
            let before = &w[..first + j + 1];
            seen.push(before);
            // The request of this target came at its own time.
            gaps.push(query_gap(before, e.time));
        }
    }
    let m = rows.len();
    let dim = table.vectors.dims()[1];
    let rows = Tensor::<1, Int>::from_data(TensorData::new(rows, [m]), device);
    let states = model.states(&table, &history).reshape([b * l, dim]).select(0, rows);
    // Models that read the request's time also learn "unknown" (0), hidden as event dropout hides
    // event inputs; the others draw nothing, so their runs stay as they were.
    let states = if model.interest.reads_query_time() {
        for (gap, keep) in gaps.iter_mut().zip(keep_flags(m, opts.event_dropout, rng)) {
            *gap = if keep > 0.0 { *gap } else { 0 };
        }
        model.interest.at_query(states, Some(Tensor::from_data(TensorData::new(gaps, [m]), device)))
    } else {
        states
    };
    user_loss(model, table.vectors, scenes, states, &targets, &seen, opts, rng, device).await
}

/// The loss of sequence `states` (`[m, dim]`, after the encoder) against their next items
/// `targets` (item, scene the event happened in), each after the history `seen`: see the
/// module docs. Pretraining feeds it every position of its windows; on-device fine-tuning
/// feeds it cached states.
#[allow(clippy::too_many_arguments)]
pub async fn user_loss(
    model: &SceneRec,
    table: Tensor<2>,
    scenes: &SceneIndex,
    states: Tensor<2>,
    targets: &[(i64, u16)],
    seen: &[&[Event]],
    opts: LossOptions,
    rng: &mut Rng,
    device: &Device,
) -> Result<BatchLoss> {
    let n = table.dims()[0];
    let m = targets.len();
    let int = |v: Vec<i64>| {
        let k = v.len();
        Tensor::<1, Int>::from_data(TensorData::new(v, [k]), device)
    };
    let items: Vec<i64> = targets.iter().map(|t| t.0).collect();
    let sampled = opts.sampled.map(|size| sampled_columns(&items, n, size, rng));
    // Column of an item among the sampled columns.
    let sampled_column: std::collections::HashMap<u32, usize> = match &sampled {
        Some((cols, _)) => cols.iter().enumerate().map(|(c, &i)| (i as u32, c)).collect(),
        None => Default::default(),
    };
    // The seen items of rows `group` as a `[rows, c]` mask over columns (`column_of`), the
    // rows' labels left in; `None` when nothing is excluded.
    let seen_mask = |group: &[usize], labels: &[i64], c: usize, column_of: &dyn Fn(u32) -> Option<usize>| {
        opts.exclude_seen.then(|| {
            let mut mask = vec![false; group.len() * c];
            for (j, &r) in group.iter().enumerate() {
                for e in seen[r] {
                    match column_of(e.item) {
                        Some(col) if col as i64 != labels[j] => mask[j * c + col] = true,
                        _ => {}
                    }
                }
            }
            Tensor::<2, Bool>::from_data(TensorData::new(mask, [group.len(), c]), device)
        })
    };
    let all_rows: Vec<usize> = (0..m).collect();

    // "Any scene": every target, over every item.
    let any = int(vec![opts.any_scene as i64; m]);
    let users = model.interest.interest(states.clone(), any.clone());
    let (columns, ids, labels, mask) = match &sampled {
        None => (table.clone(), None, items.clone(), seen_mask(&all_rows, &items, n, &|i| Some(i as usize))),
        Some((cols, labels)) => {
            let mask = seen_mask(&all_rows, labels, cols.len(), &|i| sampled_column.get(&i).copied());
            (table.clone().select(0, int(cols.clone())), Some(int(cols.clone())), labels.clone(), mask)
        }
    };
    let any_part = softmax_part(users, any, columns, ids, labels, mask);
    let mut retrieval = any_part.ce.clone() / m as f32;
    let mut scene_ce = Vec::new();
    let mut parts = vec![any_part];
    let mut scene_rows = 0usize;

    // The target's scene: the targets whose item lives in the scene they were seen in (the
    // scene's candidates hold them), over that scene's items.
    if model.interest.has_scene_layers() {
        let in_scene: Vec<usize> = (0..m).filter(|&r| scenes.holds(targets[r].0 as usize, targets[r].1)).collect();
        scene_rows = in_scene.len();
        let groups: Vec<(u16, Vec<usize>)> = match &sampled {
            // One group: the sampled columns, masked to each row's scene.
            Some(_) => vec![(u16::MAX, in_scene)],
            // One group per scene, over the scene's members.
            None => {
                let mut by_scene: Vec<Vec<usize>> = vec![Vec::new(); scenes.members.len()];
                for r in in_scene {
                    by_scene[targets[r].1 as usize].push(r);
                }
                by_scene.into_iter().enumerate().map(|(s, rows)| (s as u16, rows)).collect()
            }
        };
        for (scene, group) in groups.into_iter().filter(|(_, g)| !g.is_empty()) {
            let k = group.len();
            let rows = int(group.iter().map(|&r| r as i64).collect());
            let query = int(group.iter().map(|&r| targets[r].1 as i64).collect());
            let users = model.interest.interest(states.clone().select(0, rows), query.clone());
            let part = match &sampled {
                None => {
                    let members = scenes.members[scene as usize].clone();
                    let labels: Vec<i64> = group.iter().map(|&r| scenes.position[targets[r].0 as usize] as i64).collect();
                    let in_scene = |i: u32| scenes.holds(i as usize, scene).then_some(scenes.position[i as usize] as usize);
                    let mask = seen_mask(&group, &labels, members.dims()[0], &in_scene);
                    softmax_part(users, query, table.clone().select(0, members.clone()), Some(members), labels, mask)
                }
                Some((cols, labels)) => {
                    let c = cols.len();
                    let labels: Vec<i64> = group.iter().map(|&r| labels[r]).collect();
                    let column_ids = int(cols.clone());
                    let is_label = one_hot(&int(labels.clone()), c, device);
                    // On a tab, the columns of other scenes' items are masked (the label never is).
                    let other_scene = (!scenes.surfaces()).then(|| {
                        let other = scenes
                            .home
                            .clone()
                            .select(0, column_ids.clone())
                            .unsqueeze::<2>()
                            .expand([k, c])
                            .not_equal(query.clone().unsqueeze_dim::<2>(1).expand([k, c]));
                        other.bool_and(is_label.bool_not())
                    });
                    let seen = seen_mask(&group, &labels, c, &|i| sampled_column.get(&i).copied());
                    let mask = match (other_scene, seen) {
                        (Some(a), Some(b)) => Some(a.bool_or(b)),
                        (a, b) => a.or(b),
                    };
                    softmax_part(users, query, table.clone().select(0, column_ids.clone()), Some(column_ids), labels, mask)
                }
            };
            scene_ce.push(part.ce.clone());
            parts.push(part);
        }
    }
    if scene_rows > 0 {
        retrieval = retrieval + Tensor::cat(scene_ce, 0).sum() / scene_rows as f32;
    }

    let head = if model.head.is_some() && opts.head_weight > 0.0 {
        let mut sums = Vec::new();
        let mut rows = 0;
        let stride = m.div_ceil(HEAD_ROWS).max(1);
        for part in parts {
            let (sum, k) = head_loss(model, &table, part, opts.rerank, stride, device).await?;
            sums.push(sum);
            rows += k;
        }
        Tensor::cat(sums, 0).sum() / rows.max(1) as f32
    } else {
        Tensor::zeros([1], device)
    };
    let total = retrieval.clone() + head.clone() * opts.head_weight;
    Ok(BatchLoss { total, retrieval, head, targets: m })
}

/// The head's summed re-ranking loss over every `stride`-th row of a softmax, and how many rows
/// it covers: for each sampled row whose label is among the row's best `rerank` columns (the
/// mask excluded), a softmax over those columns scored by the head on detached vectors.
async fn head_loss(
    model: &SceneRec,
    table: &Tensor<2>,
    part: SoftmaxPart,
    rerank: usize,
    stride: usize,
    device: &Device,
) -> Result<(Tensor<1>, usize)> {
    let [rows, c] = part.logits.dims();
    let sample: Vec<usize> = (0..rows).step_by(stride).collect();
    let int = |v: Vec<i64>| {
        let len = v.len();
        Tensor::<1, Int>::from_data(TensorData::new(v, [len]), device)
    };
    let logits = read_f32(part.logits.select(0, int(sample.iter().map(|&r| r as i64).collect()))).await?;
    // Masked columns (other scenes) carry -1e9: never candidates. Every row gets as many
    // candidates as the row with the fewest has (all of them, unless the catalogue is tiny).
    let r = sample
        .iter()
        .enumerate()
        .map(|(j, _)| logits[j * c..(j + 1) * c].iter().filter(|&&x| x > -1e8).count())
        .min()
        .unwrap_or(0)
        .min(rerank);
    let (mut picked, mut columns, mut labels) = (Vec::new(), Vec::new(), Vec::new());
    for (j, &row) in sample.iter().enumerate() {
        let best = top_k(&logits[j * c..(j + 1) * c], r);
        if let Some(at) = best.iter().position(|&(col, _)| col as i64 == part.labels[row]) {
            picked.push(row as i64);
            labels.push(at as i64);
            columns.extend(best.iter().map(|&(col, _)| col as i64));
        }
    }
    let k = picked.len();
    if k == 0 || r < 2 {
        return Ok((Tensor::zeros([1], device), 0));
    }
    let columns = int(columns);
    let items = match &part.ids {
        Some(ids) => ids.clone().select(0, columns),
        None => columns,
    };
    let picked = int(picked);
    let dim = table.dims()[1];
    let users = part.users.detach().select(0, picked.clone());
    let candidates = table.clone().detach().select(0, items).reshape([k, r, dim]);
    let scores = model.fuse_candidates(users, candidates, part.query.select(0, picked));
    let sum = log_softmax(scores, 1).gather(1, int(labels).reshape([k, 1])).sum().neg();
    Ok((sum, k))
}

/// One softmax cross-entropy term, with what the head's loss needs of it.
struct SoftmaxPart {
    /// `[1]` the summed cross-entropy of the rows.
    ce: Tensor<1>,
    /// `[rows, dim]` the query vectors and `[rows]` their query scenes.
    users: Tensor<2>,
    query: Tensor<1, Int>,
    /// `[rows, columns]` the logits (masked), detached.
    logits: Tensor<2>,
    /// Item index of each column (`None`: the columns are the whole table).
    ids: Option<Tensor<1, Int>>,
    /// Each row's label column.
    labels: Vec<i64>,
}

/// The cross-entropy of `users · columnsᵀ` against `labels` (column positions), with `mask`ed
/// logits left out.
fn softmax_part(
    users: Tensor<2>,
    query: Tensor<1, Int>,
    columns: Tensor<2>,
    ids: Option<Tensor<1, Int>>,
    labels: Vec<i64>,
    mask: Option<Tensor<2, Bool>>,
) -> SoftmaxPart {
    let [rows, _] = users.dims();
    let device = users.device();
    let mut logits = users.clone().matmul(columns.transpose());
    if let Some(mask) = mask {
        logits = logits.mask_fill(mask, -1e9);
    }
    let label_t = Tensor::<1, Int>::from_data(TensorData::new(labels.clone(), [rows]), &device);
    let ce = log_softmax(logits.clone(), 1).gather(1, label_t.reshape([rows, 1])).sum().neg();
    SoftmaxPart { ce, users, query, logits: logits.detach(), ids, labels }
}

/// `[rows, c]`: true at each row's label.
fn one_hot(labels: &Tensor<1, Int>, c: usize, device: &Device) -> Tensor<2, Bool> {
    let rows = labels.dims()[0];
    Tensor::<1, Int>::arange(0..c as i64, device)
        .unsqueeze::<2>()
        .expand([rows, c])
        .equal(labels.clone().unsqueeze_dim::<2>(1).expand([rows, c]))
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
