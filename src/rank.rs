//! Ranking: retrieve by the dot product `u·v` over the whole catalogue, then re-rank the top
//! few with the fusion head (retrieval + ranking). Top-K runs on the host after one read,
//! because `topk` has panicked on WebGPU in wasm (burn#5110).

use burn::tensor::{Int, Tensor, TensorData};

use crate::backend::read_f32;
use crate::data::Event;
use crate::model::{HistoryBatch, SceneRec};
use crate::Result;

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
    /// A ranking by plain scores (no re-ranking), with `excluded[i]` items removed.
    pub fn from_scores(mut scores: Vec<f32>, excluded: impl Fn(usize) -> bool, head_len: usize) -> Self {
        for (i, s) in scores.iter_mut().enumerate() {
            if excluded(i) || s.is_nan() {
                *s = f32::NEG_INFINITY;
            }
        }
        let head = top_k(&scores, head_len);
        Ranking { scores, head }
    }

    /// Number of items that can be recommended.
    pub fn candidates(&self) -> usize {
        self.scores.iter().filter(|s| s.is_finite()).count()
    }

    /// 1-based rank of `item` in the final order.
    pub fn rank_of(&self, item: usize) -> usize {
        if let Some(p) = self.head.iter().position(|&(i, _)| i == item) {
            return p + 1;
        }
        let s = self.scores[item];
        let in_head = |j: usize| self.head.iter().any(|&(i, _)| i == j);
        self.head.len()
            + 1
            + self.scores.iter().enumerate().filter(|&(j, &x)| x > s && x.is_finite() && !in_head(j)).count()
    }

    /// The best `k` items in the final order, with the score they were ordered by.
    pub fn top(&self, k: usize) -> Vec<(usize, f32)> {
        let mut out: Vec<(usize, f32)> = self.head.iter().take(k).copied().collect();
        if out.len() < k {
            let rest: Vec<(usize, f32)> = top_k(&self.scores, k + self.head.len())
                .into_iter()
                .filter(|&(i, _)| !self.head.iter().any(|&(j, _)| i == j))
                .collect();
            out.extend(rest.into_iter().take(k - out.len()));
        }
        out
    }
}

/// Indices and scores of the `k` highest finite scores, best first (ties: lower index first).
pub fn top_k(scores: &[f32], k: usize) -> Vec<(usize, f32)> {
    let mut idx: Vec<usize> = (0..scores.len()).filter(|&i| scores[i].is_finite()).collect();
    let by_score = |a: &usize, b: &usize| scores[*b].total_cmp(&scores[*a]).then(a.cmp(b));
    if idx.len() > k && k > 0 {
        idx.select_nth_unstable_by(k - 1, by_score);
        idx.truncate(k);
    }
    idx.sort_by(by_score);
    idx.truncate(k);
    idx.into_iter().map(|i| (i, scores[i])).collect()
}

/// Ranks the catalogue for a batch of queries with the model.
///
/// `table` is the model's item table, `scenes[b]` the target scene of query `b`,
/// `excluded(b, item)` removes items from query `b` (already seen, not in the shelf), and the
/// best `rerank` retrieved items are re-ordered by the fusion head.
pub async fn rank_batch(
    model: &SceneRec,
    table: &Tensor<2>,
    history: &HistoryBatch,
    scenes: &[u16],
    excluded: impl Fn(usize, usize) -> bool,
    rerank: usize,
) -> Result<Vec<Ranking>> {
    let device = table.device();
    let [n, _] = table.dims();
    let b = scenes.len();
    let scene_t = Tensor::<1, Int>::from_data(TensorData::new(scenes.iter().map(|&s| s as i64).collect::<Vec<_>>(), [b]), &device);
    let users = model.user_vectors(table, history, scene_t);
    let scores = read_f32(users.clone().matmul(table.clone().transpose())).await?;
    let mut rankings: Vec<Ranking> = scores
        .chunks(n)
        .enumerate()
        .map(|(q, row)| Ranking::from_scores(row.to_vec(), |i| excluded(q, i), rerank))
        .collect();
    let (mut rows, mut items, mut row_scenes) = (Vec::new(), Vec::new(), Vec::new());
    for (q, r) in rankings.iter().enumerate() {
        for &(i, _) in &r.head {
            rows.push(q as i64);
            items.push(i as i64);
            row_scenes.push(scenes[q] as i64);
        }
    }
    if rows.is_empty() {
        return Ok(rankings);
    }
    let m = rows.len();
    let int = |v: Vec<i64>| Tensor::<1, Int>::from_data(TensorData::new(v, [m]), &device);
    let logits = model.fuse(users.select(0, int(rows)), table.clone().select(0, int(items)), int(row_scenes));
    let logits = read_f32(logits).await?;
    let mut at = 0;
    for r in &mut rankings {
        for entry in r.head.iter_mut() {
            entry.1 = logits[at];
            at += 1;
        }
        r.head.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    }
    Ok(rankings)
}

/// The history event that best explains recommending `item`: the one whose item vector is most
/// similar (cosine) to the item's, so the UI can say "because you watched X in <scene>".
///
/// `table` is the host copy of the item table, row-major `[items, dim]`.
pub fn because<'a>(table: &[f32], dim: usize, history: &'a [Event], item: usize) -> Option<&'a Event> {
    let row = |i: usize| &table[i * dim..(i + 1) * dim];
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    let target = row(item);
    let cosine = |e: &Event| {
        let v = row(e.item as usize);
        v.iter().zip(target).map(|(a, b)| a * b).sum::<f32>() / (norm(v) * norm(target))
    };
    history
        .iter()
        .filter(|e| e.item as usize != item)
        .max_by(|a, b| cosine(a).total_cmp(&cosine(b)))
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
    fn because_picks_the_most_similar_history_item() {
        use crate::data::Action;
        let table = vec![1.0, 0.0, 0.0, 1.0, 0.9, 0.1];
        let ev = |item| Event { item, scene: 0, action: Action::Like, time: 0, rating: None };
        let history = [ev(0), ev(1)];
        assert_eq!(because(&table, 2, &history, 2).map(|e| e.item), Some(0));
        assert!(because(&table, 2, &[], 2).is_none());
    }
}
