//! The peers of the accuracy benchmark, fitted on the same training prefixes the model learns
//! from and ranking the same candidates (the exclusion test of [`crate::eval`]):
//!
//! - [`popularity`]: most interacted items first, the same for everyone.
//! - [`markov`]: last-item transitions (first-order Markov chain) with a popularity fallback.
//! - [`itemknn`]: item-based neighbourhood model on co-occurrence (cosine).
//! - [`sasrec`]: SASRec, built from the model's own code with every side input removed.

pub mod itemknn;
pub mod markov;
pub mod popularity;
pub mod sasrec;

use crate::Result;
use crate::data::Event;
use crate::eval::{Excluded, Query};
use crate::metrics::LIST_K;
use crate::rank::Ranking;

/// The training prefixes: each user's first `train_len` events.
pub fn training_prefixes<'a>(histories: &'a [Vec<Event>], train_len: &'a [usize]) -> impl Iterator<Item = &'a [Event]> + 'a {
    histories.iter().zip(train_len).map(|(h, &n)| &h[..n])
}

/// A ranker for a peer that scores every item from a history alone (`scores(history)`): each
/// query reads its user's history up to the query's case.
pub fn history_ranker<'a>(
    histories: &'a [Vec<Event>],
    scores: impl Fn(&[Event]) -> Vec<f32> + 'a,
) -> impl FnMut(&[Query], &Excluded<'_>) -> Result<Vec<Ranking>> + 'a {
    move |queries, excluded| {
        Ok(queries
            .iter()
            .enumerate()
            .map(|(q, query)| {
                let h = &histories[query.case.user][..query.case.history_len];
                Ranking::from_scores(scores(h), |i| excluded(q, i), LIST_K)
            })
            .collect())
    }
}

/// A history of `items` (scene 0, liked, time 0), for the peers' tests.
#[cfg(test)]
fn test_history(items: &[u32]) -> Vec<Event> {
    items.iter().map(|&item| Event { item, scene: 0, action: crate::data::Action::Like, time: 0, rating: None }).collect()
}
