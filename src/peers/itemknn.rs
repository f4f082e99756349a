//! Item-based neighbourhood model (ItemKNN): items are similar when the same users interacted
//! with both (cosine over the training prefixes, with shrinkage), each item keeps its most
//! similar neighbours, and a user's score for an item sums its similarity to the user's
//! recent items. Items similar to none of them follow, by popularity.

use serde::Serialize;

use crate::data::Event;
use crate::eval::{Excluded, Query};
use super::history_ranker;
use crate::rank::Ranking;
use crate::Result;

/// The knobs the benchmark tunes on the validation split.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KnnParams {
    /// Neighbours kept per item.
    pub neighbours: usize,
    /// Added to the cosine's denominator: pulls similarities of rarely co-seen pairs down.
    pub shrink: f32,
    /// How many of the user's most recent items vote (0: all of them).
    pub recent: usize,
}

/// The grid the benchmark searches.
pub fn grid() -> Vec<KnnParams> {
    let mut out = Vec::new();
    for neighbours in [20, 100, 500] {
        for shrink in [0.0, 20.0] {
            for recent in [1, 2, 3, 5, 20, 0] {
                out.push(KnnParams { neighbours, shrink, recent });
            }
        }
    }
    out
}

pub struct ItemKnn {
    pub params: KnnParams,
    /// Per item, its neighbours and their similarity, most similar first.
    neighbours: Vec<Vec<(u32, f32)>>,
    /// Popularity scaled into (-1, 0): the score of items no history item is similar to.
    fallback: Vec<f32>,
}

impl ItemKnn {
    pub fn fit<'a>(n_items: usize, prefixes: impl Iterator<Item = &'a [Event]>, popularity: &[u32], params: KnnParams) -> Self {
        // Each user's distinct items, and each item's users.
        let baskets: Vec<Vec<u32>> = prefixes
            .map(|h| {
                let mut items: Vec<u32> = h.iter().map(|e| e.item).collect();
                items.sort_unstable();
                items.dedup();
                items
            })
            .collect();
        let mut users_of: Vec<Vec<u32>> = vec![Vec::new(); n_items];
        for (u, basket) in baskets.iter().enumerate() {
            for &i in basket {
                users_of[i as usize].push(u as u32);
            }
        }
        let mut counts = vec![0u32; n_items];
        let mut touched = Vec::new();
        let neighbours = (0..n_items)
            .map(|i| {
                for &u in &users_of[i] {
                    for &j in &baskets[u as usize] {
                        if counts[j as usize] == 0 {
                            touched.push(j);
                        }
                        counts[j as usize] += 1;
                    }
                }
                let n_i = users_of[i].len() as f32;
                let mut row: Vec<(u32, f32)> = touched
                    .iter()
                    .filter(|&&j| j as usize != i)
                    .map(|&j| {
                        let n_j = users_of[j as usize].len() as f32;
                        (j, counts[j as usize] as f32 / ((n_i * n_j).sqrt() + params.shrink))
                    })
                    .collect();
                for &j in &touched {
                    counts[j as usize] = 0;
                }
                touched.clear();
                row.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                row.truncate(params.neighbours);
                row
            })
            .collect();
        let top = popularity.iter().copied().max().unwrap_or(0) as f32 + 1.0;
        ItemKnn { params, neighbours, fallback: popularity.iter().map(|&c| c as f32 / top - 1.0).collect() }
    }

    /// Scores of every item after the history `h`.
    pub fn scores(&self, h: &[Event]) -> Vec<f32> {
        let recent = if self.params.recent == 0 { h } else { &h[h.len().saturating_sub(self.params.recent)..] };
        let mut sums = vec![0.0f32; self.fallback.len()];
        for e in recent {
            for &(j, s) in &self.neighbours[e.item as usize] {
                sums[j as usize] += s;
            }
        }
        sums.iter().zip(&self.fallback).map(|(&s, &f)| if s > 0.0 { s } else { f }).collect()
    }

    /// The ranker over `histories`.
    pub fn ranker<'a>(&'a self, histories: &'a [Vec<Event>]) -> impl FnMut(&[Query], &Excluded<'_>) -> Result<Vec<Ranking>> + 'a {
        history_ranker(histories, |h| self.scores(h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peers::test_history as h;

    #[test]
    fn cosine_similarities_by_hand() {
        // Users: {0,1}, {0,1,2}, {0,2}, {3}. Item 0 has 3 users, 1 and 2 two each, 3 one.
        // cos(0,1) = 2 / sqrt(3·2); cos(1,2) = 1 / sqrt(2·2); items 0 and 3 never co-occur.
        let histories = [h(&[0, 1]), h(&[1, 0, 2]), h(&[2, 0]), h(&[3])];
        let params = KnnParams { neighbours: 10, shrink: 0.0, recent: 0 };
        let knn = ItemKnn::fit(4, histories.iter().map(Vec::as_slice), &[3, 2, 2, 1], params);
        let close = |a: f32, b: f32| assert!((a - b).abs() < 1e-6, "{a} != {b}");
        assert_eq!(knn.neighbours[0].iter().map(|n| n.0).collect::<Vec<_>>(), vec![1, 2], "ties: lower index first");
        close(knn.neighbours[0][0].1, 2.0 / 6f32.sqrt());
        close(knn.neighbours[1][1].1, 0.5);
        assert!(knn.neighbours[3].is_empty());
        // A history of {1}: 0 scores cos(0,1), 2 scores cos(1,2); 3 is unrelated, so it falls
        // back to popularity below every similar item.
        let s = knn.scores(&h(&[1]));
        close(s[0], 2.0 / 6f32.sqrt());
        close(s[2], 0.5);
        assert!(s[3] < 0.0);
        // Shrinkage and the neighbour cap.
        let shrunk = ItemKnn::fit(4, histories.iter().map(Vec::as_slice), &[3, 2, 2, 1], KnnParams { shrink: 1.0, neighbours: 1, ..params });
        assert_eq!(shrunk.neighbours[0].len(), 1);
        close(shrunk.neighbours[0][0].1, 2.0 / (6f32.sqrt() + 1.0));
        // Only the most recent items vote.
        let recent = ItemKnn { params: KnnParams { recent: 1, ..params }, ..knn };
        let s = recent.scores(&h(&[1, 3]));
        assert!(s[0] < 0.0 && s[2] < 0.0, "only item 3 votes, and it has no neighbours: {s:?}");
    }
}
