//! Last-item transitions: a first-order Markov chain over the training prefixes. An item's
//! score is how often it directly followed the user's last item; popularity breaks ties (and
//! so ranks everything the last item never led to).

use crate::data::Event;
use crate::eval::{Excluded, Query};
use super::history_ranker;
use crate::rank::Ranking;
use crate::Result;

pub struct Markov {
    /// Per item, the items that followed it and how often, sorted by item.
    next: Vec<Vec<(u32, u32)>>,
    /// Popularity scaled into [0, 1): below one transition, so it only breaks ties.
    fallback: Vec<f32>,
}

impl Markov {
    /// Counts transitions in `prefixes`; `popularity` is per item.
    pub fn fit<'a>(n_items: usize, prefixes: impl Iterator<Item = &'a [Event]>, popularity: &[u32]) -> Self {
        let mut next: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n_items];
        for h in prefixes {
            for pair in h.windows(2) {
                let row = &mut next[pair[0].item as usize];
                match row.binary_search_by_key(&pair[1].item, |&(i, _)| i) {
                    Ok(k) => row[k].1 += 1,
                    Err(k) => row.insert(k, (pair[1].item, 1)),
                }
            }
        }
        let top = popularity.iter().copied().max().unwrap_or(0) as f32 + 1.0;
        Markov { next, fallback: popularity.iter().map(|&c| c as f32 / top).collect() }
    }

    /// Scores of every item after the history `h`.
    pub fn scores(&self, h: &[Event]) -> Vec<f32> {
        let mut scores = self.fallback.clone();
        if let Some(last) = h.last() {
            for &(i, c) in &self.next[last.item as usize] {
                scores[i as usize] += c as f32;
            }
        }
        scores
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
    fn counts_transitions_and_falls_back_to_popularity() {
        // 0 → 1 twice, 0 → 2 once, 1 → 2 once; popularity makes 3 the tie-breaker.
        let histories = [h(&[0, 1, 2]), h(&[0, 1]), h(&[3, 0, 2])];
        let popularity = [3, 2, 2, 5];
        let m = Markov::fit(4, histories.iter().map(Vec::as_slice), &popularity);
        let s = m.scores(&h(&[0]));
        // After 0: item 1 (2 transitions) > item 2 (1) > item 3 (0, most popular) > item 0 (0).
        assert!(s[1] > s[2] && s[2] > s[3] && s[3] > s[0], "{s:?}");
        assert!((s[1] - (2.0 + 2.0 / 6.0)).abs() < 1e-6, "two transitions plus popularity 2/6: {}", s[1]);
        // A last item that never led anywhere: popularity order.
        let s = m.scores(&h(&[2]));
        assert!(s[3] > s[0] && s[0] > s[1] && (s[1] - s[2]).abs() < 1e-6, "{s:?}");
        assert!(s.iter().all(|&x| x < 1.0));
    }
}
