//! Popularity: items ranked by how many training users interacted with them.

use crate::eval::{Excluded, Query};
use crate::metrics::LIST_K;
use crate::rank::Ranking;
use crate::Result;

/// Ranks by `counts` (per item), the same for everyone.
pub fn popularity_ranker(counts: &[u32]) -> impl FnMut(&[Query], &Excluded<'_>) -> Result<Vec<Ranking>> + '_ {
    let scores: Vec<f32> = counts.iter().map(|&c| c as f32).collect();
    move |queries, excluded| {
        Ok((0..queries.len()).map(|q| Ranking::from_scores(scores.clone(), |i| excluded(q, i), LIST_K)).collect())
    }
}
