//! Full-ranking evaluation: every query ranks the whole catalogue (or a given shelf, for cold
//! start), minus the items already in the user's history, as RecBole's `full_sort_predict`.
//! Metrics are reported overall and per scene of the target.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::backend::block_on;
use crate::data::batch::history_batch;
use crate::data::protocol::Case;
use crate::data::{Catalog, Event};
use crate::metrics::{Accumulator, LIST_K, TopList};
use crate::model::{ItemFeatures, SceneRec};
use crate::rank::{Ranking, rank_batch};
use crate::Result;

/// Metrics overall and per scene.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub queries: usize,
    pub overall: BTreeMap<String, f64>,
    pub per_scene: BTreeMap<String, BTreeMap<String, f64>>,
}

impl Report {
    pub fn ndcg10(&self) -> f64 {
        self.overall.get("ndcg@10").copied().unwrap_or(0.0)
    }
}

/// What the evaluation needs besides the rankings.
pub struct EvalSetup<'a> {
    pub catalog: &'a Catalog,
    pub histories: &'a [Vec<Event>],
    /// Per item, how many training users interacted with it (for novelty).
    pub item_users: &'a [u32],
    pub n_users: usize,
    /// Restrict ranking to these items (cold-start shelf); `None`: the whole catalogue.
    pub shelf: Option<&'a [bool]>,
    /// Queries per batch.
    pub batch: usize,
}

/// The exclusion test a ranker gets: `(query, item) -> bool`, true for items not to rank.
pub type Excluded<'e> = dyn Fn(usize, usize) -> bool + 'e;

/// A ranker gets a batch of queries and an exclusion test.
pub type Ranker<'r> = dyn FnMut(&[Case], &Excluded<'_>) -> Result<Vec<Ranking>> + 'r;

/// Evaluates `cases` with `ranker`.
pub fn evaluate(setup: &EvalSetup<'_>, cases: &[Case], ranker: &mut Ranker<'_>) -> Result<Report> {
    let genres: Vec<Vec<u16>> = setup.catalog.items.iter().map(|i| i.genres.clone()).collect();
    let mut overall = Accumulator::default();
    let mut per_scene: BTreeMap<u16, Accumulator> = BTreeMap::new();
    for chunk in cases.chunks(setup.batch.max(1)) {
        let seen: Vec<Vec<bool>> = chunk
            .iter()
            .map(|c| {
                let mut s = vec![false; setup.catalog.len()];
                for e in &setup.histories[c.user][..c.history_len] {
                    s[e.item as usize] = true;
                }
                s[c.target.item as usize] = false;
                s
            })
            .collect();
        let excluded = |q: usize, i: usize| seen[q][i] || setup.shelf.is_some_and(|shelf| !shelf[i]);
        let rankings = ranker(chunk, &excluded)?;
        for (case, ranking) in chunk.iter().zip(&rankings) {
            let rank = ranking.rank_of(case.target.item as usize);
            let list: Vec<usize> = ranking.top(LIST_K).into_iter().map(|(i, _)| i).collect();
            let extra = Some(TopList { items: &list, genres: &genres, item_users: setup.item_users, n_users: setup.n_users });
            let candidates = ranking.candidates();
            overall.add(rank, candidates, extra);
            per_scene.entry(case.target.scene).or_default().add(rank, candidates, extra);
        }
    }
    let n = setup.shelf.map(|s| s.iter().filter(|&&x| x).count()).unwrap_or(setup.catalog.len());
    Ok(Report {
        queries: overall.queries(),
        overall: overall.finish(n),
        per_scene: per_scene
            .into_iter()
            .map(|(s, acc)| (setup.catalog.scenes[s as usize].clone(), acc.finish(n)))
            .collect(),
    })
}

/// Ranks with the model: retrieval over the item table, then fusion-head re-ranking.
pub fn model_ranker<'a>(
    model: &'a SceneRec,
    features: &'a ItemFeatures,
    histories: &'a [Vec<Event>],
    rerank: usize,
    max_len: usize,
) -> impl FnMut(&[Case], &Excluded<'_>) -> Result<Vec<Ranking>> + 'a {
    let table = model.item_table(features, None);
    move |cases, excluded| {
        let windows: Vec<&[Event]> = cases.iter().map(|c| &histories[c.user][..c.history_len]).collect();
        let history = history_batch(&windows, features.len(), max_len, &table.vectors.device());
        let scenes: Vec<u16> = cases.iter().map(|c| c.target.scene).collect();
        block_on(rank_batch(model, &table, &history, &scenes, excluded, rerank))
    }
}

/// Ranks by training popularity, the same for everyone.
pub fn popularity_ranker(counts: &[u32]) -> impl FnMut(&[Case], &Excluded<'_>) -> Result<Vec<Ranking>> + '_ {
    move |cases, excluded| {
        Ok((0..cases.len())
            .map(|q| Ranking::from_scores(counts.iter().map(|&c| c as f32).collect(), |i| excluded(q, i), LIST_K))
            .collect())
    }
}

/// Per item, the number of distinct users whose first `train_len` events include it.
pub fn item_users(n_items: usize, histories: &[Vec<Event>], train_len: &[usize]) -> Vec<u32> {
    let mut counts = vec![0u32; n_items];
    let mut seen = vec![usize::MAX; n_items];
    for (u, (h, &len)) in histories.iter().zip(train_len).enumerate() {
        for e in &h[..len] {
            if seen[e.item as usize] != u {
                seen[e.item as usize] = u;
                counts[e.item as usize] += 1;
            }
        }
    }
    counts
}
