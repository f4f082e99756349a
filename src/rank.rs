//! Ranking: retrieve by the dot product `u·v` over the whole catalogue, then re-rank the top
//! few with the fusion head (retrieval + ranking). Top-K runs on the host after one read,
//! because `topk` has panicked on WebGPU in wasm (burn#5110).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use burn::tensor::{Int, Tensor, TensorData};

use crate::backend::read_f32;
use crate::data::Event;
use crate::model::{HistoryBatch, ItemTable, SceneRec};
use crate::vectors::ItemVectors;
use crate::{Error, Result};

/// The ranking of the catalogue for one query.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    /// Retrieval score per item; `-inf` for excluded items.
    pub scores: Vec<f32>,
    /// The re-ranked head of the list: `(item, fusion score)`, best first. Items not in it
    /// follow in retrieval order.
    pub head: Vec<(usize, f32)>,
}

impl Ranking {
    /// A ranking by plain scores (no re-ranking), with `excluded[i]` items removed. The head is
    /// the best `head_len` items and every item tied with the last of them, so that no tie is
    /// split between the head and the rest by an arbitrary tie-break.
    pub fn from_scores(mut scores: Vec<f32>, excluded: impl Fn(usize) -> bool, head_len: usize) -> Self {
        for (i, s) in scores.iter_mut().enumerate() {
            if excluded(i) || s.is_nan() {
                *s = f32::NEG_INFINITY;
            }
        }
        let mut head = top_k(&scores, head_len);
        if let Some(&(last, boundary)) = head.last() {
            let tied = scores.iter().enumerate().filter(|&(i, &s)| s == boundary && i > last);
            let tied: Vec<(usize, f32)> = tied.map(|(i, &s)| (i, s)).collect();
            head.extend(tied);
        }
        Ranking { scores, head }
    }

    /// Number of items that can be recommended.
    pub fn candidates(&self) -> usize {
        self.scores.iter().filter(|s| s.is_finite()).count()
    }

    /// 1-based rank of `item` in the final order, counting ties against it (pessimistic): an
    /// item scored the same as others ranks below all of them, so a model cannot gain from
    /// ties (a constant score ranks every target last).
    pub fn rank_of(&self, item: usize) -> usize {
        if let Some(p) = self.head.iter().position(|&(i, _)| i == item) {
            let s = self.head[p].1;
            return self.head.iter().filter(|&&(_, x)| x >= s).count();
        }
        let s = self.scores[item];
        let at_least = |x: f32| x.is_finite() && x >= s;
        // Items not in the head follow it in retrieval order: count those scored at least as
        // high, as all such items minus those in the head.
        let all = self.scores.iter().enumerate().filter(|&(j, &x)| j != item && at_least(x)).count();
        let in_head = self.head.iter().filter(|&&(i, _)| at_least(self.scores[i])).count();
        self.head.len() + 1 + all - in_head
    }

    /// The best `k` items in the final order, with the score they were ordered by.
    pub fn top(&self, k: usize) -> Vec<(usize, f32)> {
        let mut out: Vec<(usize, f32)> = self.head.iter().take(k).copied().collect();
        if out.len() < k {
            let rest: Vec<(usize, f32)> = top_k(&self.scores, k.saturating_add(self.head.len()))
                .into_iter()
                .filter(|&(i, _)| !self.head.iter().any(|&(j, _)| i == j))
                .collect();
            out.extend(rest.into_iter().take(k - out.len()));
        }
        out
    }
}

/// Indices and scores of the `k` highest finite scores, best first (ties: lower index first).
///
/// One pass with a heap of the best `k` so far, whose top is the worst of them: most items
/// only get compared with it (ranking 10k items for k = 100 spent more time in a full
/// `select_nth` over all of them).
pub fn top_k(scores: &[f32], k: usize) -> Vec<(usize, f32)> {
    let k = k.min(scores.len());
    let mut best: BinaryHeap<Worse> = BinaryHeap::with_capacity(k + 1);
    for (i, &s) in scores.iter().enumerate() {
        if !s.is_finite() || k == 0 {
            continue;
        }
        match best.peek() {
            _ if best.len() < k => best.push(Worse(s, i)),
            Some(worst) if s > worst.0 => {
                best.pop();
                best.push(Worse(s, i));
            }
            _ => {}
        }
    }
    best.into_sorted_vec().into_iter().map(|Worse(s, i)| (i, s)).collect()
}

/// A scored item ordered so that worse is greater: lower score, then (on ties) higher index.
#[derive(PartialEq)]
struct Worse(f32, usize);

impl Eq for Worse {}

impl Ord for Worse {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then(self.1.cmp(&other.1))
    }
}

impl PartialOrd for Worse {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Ranks the catalogue for a batch of queries with the model.
///
/// `table` is the model's item table, `scenes[b]` the target scene of query `b`,
/// `excluded(b, item)` removes items from query `b` (already seen, not in the shelf), and the
/// best `rerank` retrieved items are re-ordered by the fusion head.
pub async fn rank_batch(
    model: &SceneRec,
    table: &ItemTable,
    history: &HistoryBatch,
    scenes: &[u16],
    excluded: impl Fn(usize, usize) -> bool,
    rerank: usize,
) -> Result<Vec<Ranking>> {
    let device = table.vectors.device();
    let n = table.len();
    let b = scenes.len();
    let scene_t = Tensor::<1, Int>::from_data(TensorData::new(scenes.iter().map(|&s| s as i64).collect::<Vec<_>>(), [b]), &device);
    let users = model.user_vectors(table, history, scene_t.clone());
    let scores = finite(read_f32(users.clone().matmul(table.vectors.clone().transpose())).await?)?;
    let mut rankings: Vec<Ranking> = scores
        .chunks(n)
        .enumerate()
        .map(|(q, row)| Ranking::from_scores(row.to_vec(), |i| excluded(q, i), rerank))
        .collect();
    let rows = |items: Vec<i64>| {
        let k = items.len();
        table.vectors.clone().select(0, Tensor::<1, Int>::from_data(TensorData::new(items, [k]), &device))
    };
    rerank_heads(model, users, scene_t, &mut rankings, rows).await?;
    Ok(rankings)
}

/// Re-orders each ranking's head by the fusion head's scores (nothing to do without a head, as
/// in the SASRec peer, whose retrieval order is final). `users`: `[b, dim]`, one per ranking;
/// `rows(items)` gives the item vectors of `items` as `[items.len(), dim]`.
pub async fn rerank_heads(
    model: &SceneRec,
    users: Tensor<2>,
    scenes: Tensor<1, Int>,
    rankings: &mut [Ranking],
    rows: impl FnOnce(Vec<i64>) -> Tensor<2>,
) -> Result<()> {
    // Each query's head, padded with item 0 to the longest head (padding logits are unused).
    let r = rankings.iter().map(|q| q.head.len()).max().unwrap_or(0);
    if r == 0 || model.head.is_none() {
        return Ok(());
    }
    let b = rankings.len();
    let items: Vec<i64> = rankings
        .iter()
        .flat_map(|q| (0..r).map(move |j| q.head.get(j).map_or(0, |&(i, _)| i as i64)))
        .collect();
    let dim = users.dims()[1];
    let candidates = rows(items).reshape([b, r, dim]);
    let logits = finite(read_f32(model.fuse_candidates(users, candidates, scenes)).await?)?;
    for (q, ranking) in rankings.iter_mut().enumerate() {
        for (j, entry) in ranking.head.iter_mut().enumerate() {
            entry.1 = logits[q * r + j];
        }
        ranking.head.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    }
    Ok(())
}

/// `scores` if every one is finite: a NaN or infinite score means the weights or the inputs
/// are broken, and a ranking built on it would be silently wrong (NaN sorts anywhere).
pub fn finite(scores: Vec<f32>) -> Result<Vec<f32>> {
    match scores.iter().position(|s| !s.is_finite()) {
        Some(i) => Err(Error::Backend(format!(
            "the model produced a non-finite score ({}) at position {i}: the weights or the item text are broken",
            scores[i]
        ))),
        None => Ok(scores),
    }
}

/// For each of `items`, the history event that best explains recommending it: the one whose
/// item vector is most similar (cosine) to the item's, so the UI can say "because you watched
/// X in <scene>".
///
/// The history vectors are normalised once for the whole list (the item's own norm does not
/// change which event wins), so explaining a list costs one dot product per (item, event) pair.
pub fn because<'a>(vectors: &ItemVectors, history: &'a [Event], items: &[usize]) -> Vec<Option<&'a Event>> {
    let dim = vectors.dim();
    let mut units = vectors.rows(history.iter().map(|e| e.item as usize));
    for unit in units.chunks_mut(dim.max(1)) {
        let norm = dot(unit, unit).sqrt().max(1e-12);
        unit.iter_mut().for_each(|x| *x /= norm);
    }
    items
        .iter()
        .map(|&item| {
            let target = vectors.rows([item]);
            history
                .iter()
                .zip(units.chunks_exact(dim.max(1)))
                .filter(|(e, _)| e.item as usize != item)
                .map(|(e, unit)| (dot(unit, &target), e))
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, e)| e)
        })
        .collect()
}

/// `a · b` with eight independent partial sums, which the compiler turns into SIMD lanes
/// (a single running sum must be added in order, so it stays scalar).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    let mut acc = [0f32; 8];
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_orders_and_skips_excluded() {
        let s = vec![0.1, 0.9, f32::NEG_INFINITY, 0.5, 0.9];
        assert_eq!(top_k(&s, 3), vec![(1, 0.9), (4, 0.9), (3, 0.5)]);
        assert_eq!(top_k(&s, 10).len(), 4);
        assert!(top_k(&s, 0).is_empty());
    }

    #[test]
    fn top_k_equals_a_full_sort() {
        // Many ties and exclusions, so both tie order and skipping are exercised.
        let mut rng = crate::rng::Rng::new(7);
        let scores: Vec<f32> =
            (0..5000).map(|i| if i % 13 == 0 { f32::NEG_INFINITY } else { (rng.below(300) as f32).sqrt() }).collect();
        let mut sorted: Vec<(usize, f32)> = scores.iter().copied().enumerate().filter(|(_, s)| s.is_finite()).collect();
        sorted.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        for k in [1, 10, 100, 4999, usize::MAX] {
            assert_eq!(top_k(&scores, k), sorted[..k.min(sorted.len())].to_vec(), "k = {k}");
        }
    }

    #[test]
    fn rank_of_follows_head_then_retrieval() {
        let r = Ranking::from_scores(vec![0.1, 0.9, 0.3, 0.5, 0.2], |i| i == 2, 2);
        assert_eq!(r.head, vec![(1, 0.9), (3, 0.5)]);
        assert_eq!(r.candidates(), 4);
        let reranked = Ranking { head: vec![(3, 2.0), (1, 1.0)], ..r };
        assert_eq!(reranked.rank_of(3), 1);
        assert_eq!(reranked.rank_of(1), 2);
        assert_eq!(reranked.rank_of(4), 3);
        assert_eq!(reranked.rank_of(0), 4);
        assert_eq!(reranked.top(3), vec![(3, 2.0), (1, 1.0), (4, 0.2)]);
    }

    #[test]
    fn ties_count_against_the_target() {
        // Items 1, 2 and 4 tie; whichever is the target ranks below the other two.
        let r = Ranking::from_scores(vec![0.9, 0.5, 0.5, 0.1, 0.5], |_| false, 0);
        for item in [1, 2, 4] {
            assert_eq!(r.rank_of(item), 4, "item {item}");
        }
        assert_eq!(r.rank_of(0), 1);
        assert_eq!(r.rank_of(3), 5);
        let constant = Ranking::from_scores(vec![1.0; 6], |i| i == 5, 3);
        assert!((0..5).all(|i| constant.rank_of(i) == 5), "a constant score ranks every target last");
        // In the re-ranked head too.
        let head = Ranking { head: vec![(0, 2.0), (2, 2.0), (1, 1.0)], ..r };
        assert_eq!(head.rank_of(0), 2);
        assert_eq!(head.rank_of(2), 2);
        assert_eq!(head.rank_of(1), 3);
    }

    #[test]
    fn because_picks_the_most_similar_history_item() {
        use crate::data::Action;
        let table = ItemVectors::quantise(&[1.0, 0.0, 0.0, 1.0, 0.9, 0.1], 2, crate::vectors::Encoding::Int8);
        let ev = |item| Event { item, scene: 0, action: Action::Like, time: 0, rating: None };
        let history = [ev(0), ev(1)];
        let picks = because(&table, &history, &[2, 1, 0]);
        assert_eq!(picks.iter().map(|p| p.map(|e| e.item)).collect::<Vec<_>>(), vec![Some(0), Some(0), Some(1)]);
        assert_eq!(because(&table, &[], &[2]), vec![None]);
    }

    #[test]
    fn dot_matches_the_plain_sum() {
        let a: Vec<f32> = (0..19).map(|i| i as f32 * 0.5 - 3.0).collect();
        let b: Vec<f32> = (0..19).map(|i| 1.0 / (i as f32 + 1.0)).collect();
        let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - plain).abs() < 1e-5);
    }
}
