//! Full-ranking evaluation: every query ranks its candidates — the whole catalogue, or one
//! scene's items (see [`track`]), or a cold-start shelf — minus the items already in the user's
//! history, as RecBole's `full_sort_predict`. Ties count against the target (pessimistic rank),
//! the same for every model. Metrics are reported overall and per scene of the target.

pub mod track;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use burn::tensor::{Tensor, TensorData};

use crate::backend::{block_on, read_f32};
use crate::data::batch::timed_history_batch;
use crate::data::protocol::Case;
use crate::data::{Catalog, Event};
use crate::metrics::{Accumulator, LIST_K, TopList};
use crate::model::{ItemFeatures, ItemTable, ModelConfig, SceneRec};
use crate::rank::{Ranking, rank_batch};
use crate::Result;
use crate::vectors::{Encoding, ItemVectors};

pub use track::{Query, Track};

/// Metrics overall and per scene.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub queries: usize,
    pub overall: BTreeMap<String, f64>,
    pub per_scene: BTreeMap<String, BTreeMap<String, f64>>,
    /// Share of queries whose target was not among the candidates (a miss for every model).
    pub target_outside: f64,
    /// Each query's pessimistic rank of its target, in query order (0: not a candidate), for
    /// paired comparisons between models on the same queries.
    #[serde(skip)]
    pub ranks: Vec<u64>,
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

/// A ranker gets a batch of queries and an exclusion test (the history, the tab's scene, the
/// shelf), which it must apply.
pub type Ranker<'r> = dyn FnMut(&[Query], &Excluded<'_>) -> Result<Vec<Ranking>> + 'r;

/// The validation rule every early-stopped or tuned model follows, trained or not: NDCG@10 of
/// `cases` in each of `tracks` (keyed by [`Track::key`]); the score is their [`mean_ndcg10`].
pub fn track_ndcg10(
    setup: &EvalSetup<'_>,
    tracks: &[Track],
    cases: &[Case],
    histories: &[Vec<Event>],
    ranker: &mut Ranker<'_>,
) -> Result<BTreeMap<String, f64>> {
    let mut out = BTreeMap::new();
    for track in tracks {
        out.insert(track.key().to_string(), evaluate(setup, &track.queries(cases, histories), ranker)?.ndcg10());
    }
    Ok(out)
}

/// The mean over the tracks of [`track_ndcg10`]'s scores.
pub fn mean_ndcg10(tracks: &BTreeMap<String, f64>) -> f64 {
    tracks.values().sum::<f64>() / tracks.len().max(1) as f64
}

/// Evaluates `queries` with `ranker`.
pub fn evaluate(setup: &EvalSetup<'_>, queries: &[Query], ranker: &mut Ranker<'_>) -> Result<Report> {
    let genres: Vec<Vec<u16>> = setup.catalog.iter().map(|i| i.genres.to_vec()).collect();
    let mut overall = Accumulator::default();
    let mut per_scene: BTreeMap<u16, Accumulator> = BTreeMap::new();
    let mut outside = 0usize;
    let mut ranks = Vec::with_capacity(queries.len());
    for chunk in queries.chunks(setup.batch.max(1)) {
        let excluded_rows: Vec<Vec<bool>> = chunk
            .iter()
            .map(|q| {
                let c = &q.case;
                let mut x: Vec<bool> = (0..setup.catalog.len())
                    .map(|i| {
                        q.tab.is_some_and(|s| !setup.catalog.in_scene(i, s)) || setup.shelf.is_some_and(|shelf| !shelf[i])
                    })
                    .collect();
                for e in &setup.histories[c.user][..c.history_len] {
                    x[e.item as usize] = true;
                }
                x
            })
            .collect();
        let excluded = |q: usize, i: usize| excluded_rows[q][i];
        let rankings = ranker(chunk, &excluded)?;
        for (q, (query, ranking)) in chunk.iter().zip(&rankings).enumerate() {
            let target = query.case.target.item as usize;
            let candidates = ranking.candidates();
            let rank = if excluded(q, target) {
                outside += 1;
                None
            } else {
                Some(ranking.rank_of(target))
            };
            ranks.push(rank.map_or(0, |r| r as u64));
            let list: Vec<usize> = ranking.top(LIST_K).into_iter().map(|(i, _)| i).collect();
            let extra = Some(TopList { items: &list, genres: &genres, item_users: setup.item_users, n_users: setup.n_users });
            overall.add(rank, candidates, extra);
            per_scene.entry(query.case.target.scene).or_default().add(rank, candidates, extra);
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
        target_outside: outside as f64 / queries.len().max(1) as f64,
        ranks,
    })
}

/// Ranks with the model: retrieval over the item table for the query's tab (or "any scene"),
/// then fusion-head re-ranking of the best `config.rerank`.
pub fn model_ranker<'a>(
    model: &'a SceneRec,
    config: &ModelConfig,
    features: &'a ItemFeatures,
    histories: &'a [Vec<Event>],
) -> impl FnMut(&[Query], &Excluded<'_>) -> Result<Vec<Ranking>> + 'a {
    table_ranker(model, config, model.item_table(features, None), histories)
}

/// The model's item table as a browser export ranks with it: quantised as `scenerec export`
/// quantises it ([`crate::vectors`]), so an evaluation over it measures what that costs.
pub fn quantised_table(model: &SceneRec, features: &ItemFeatures, encoding: Encoding) -> Result<ItemTable> {
    let table = model.item_table(features, None).vectors;
    let [n, dim] = table.dims();
    let device = table.device();
    let quantised = ItemVectors::quantise(&block_on(read_f32(table))?, dim, encoding).dequantised();
    Ok(ItemTable::new(Tensor::from_data(TensorData::new(quantised, [n, dim]), &device)))
}

/// [`model_ranker`] over a given item table.
pub fn table_ranker<'a>(
    model: &'a SceneRec,
    config: &ModelConfig,
    table: ItemTable,
    histories: &'a [Vec<Event>],
) -> impl FnMut(&[Query], &Excluded<'_>) -> Result<Vec<Ranking>> + 'a {
    let (max_len, any_scene, rerank) = (config.max_len, config.any_scene() as u16, config.rerank);
    move |queries, excluded| {
        let windows: Vec<&[Event]> = queries.iter().map(|q| &histories[q.case.user][..q.case.history_len]).collect();
        // Each query is asked at its target's time, as training asks it.
        let nows: Vec<i64> = queries.iter().map(|q| q.case.target.time).collect();
        let history = timed_history_batch(&windows, &nows, table.len(), max_len, &table.vectors.device());
        let scenes: Vec<u16> = queries.iter().map(|q| q.tab.unwrap_or(any_scene)).collect();
        block_on(rank_batch(model, &table, &history, &scenes, excluded, rerank))
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


#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::protocol::Case;
    use crate::data::{Action, Catalog, Item};

    /// Six items in two scenes (0, 2, 4 in scene 0; 1, 3, 5 in scene 1); one user who saw items
    /// 0 and 1 (the last in scene 1) and whose target is item 4 (scene 0).
    fn fixture() -> (Catalog, Vec<Vec<Event>>, Case) {
        let items = (0..6).map(|i| Item { id: format!("i{i}"), title: format!("I{i}"), genres: vec![], scene: (i % 2) as u16 }).collect();
        let catalog = Catalog::new(vec!["a".into(), "b".into()], vec![], items).unwrap();
        let ev = |item: u32| Event { item, scene: (item % 2) as u16, action: Action::Like, time: 0, rating: None };
        let history = vec![ev(0), ev(1), ev(4)];
        let case = Case { user: 0, history_len: 2, target: ev(4) };
        (catalog, vec![history], case)
    }

    #[test]
    fn each_track_ranks_its_candidates_with_ties_against_the_target() {
        let (catalog, histories, case) = fixture();
        let users = vec![1u32; 6];
        let setup = EvalSetup { catalog: &catalog, histories: &histories, item_users: &users, n_users: 1, shelf: None, batch: 8 };
        // A ranker that scores every item 1 except item 5 (scored 2), and records its candidates.
        let mut seen = Vec::new();
        let mut ranker = |queries: &[Query], excluded: &Excluded<'_>| -> Result<Vec<Ranking>> {
            Ok((0..queries.len())
                .map(|q| {
                    seen.push((0..6).filter(|&i| !excluded(q, i)).collect::<Vec<_>>());
                    Ranking::from_scores((0..6).map(|i| if i == 5 { 2.0 } else { 1.0 }).collect(), |i| excluded(q, i), LIST_K)
                })
                .collect())
        };
        let run = |track: Track, ranker: &mut Ranker<'_>| evaluate(&setup, &track.queries(&[case], &histories), ranker).unwrap();
        // Agnostic: every unseen item; item 5 outranks the target, items 2 and 3 tie with it.
        let agnostic = run(Track::Agnostic, &mut ranker);
        assert_eq!(agnostic.overall["auc"], (4.0 - 4.0) / 3.0, "rank 4 of 4: ties count against the target");
        // In-scene (scene 0): items 2 and 4; the tie with item 2 puts the target second.
        let in_scene = run(Track::InScene, &mut ranker);
        assert_eq!(in_scene.overall["ndcg@10"], 1.0 / 3f64.log2());
        assert_eq!(in_scene.target_outside, 0.0);
        // Last scene (scene 1, of item 1): items 3 and 5; the target is not among them.
        let last = run(Track::LastScene, &mut ranker);
        assert_eq!((last.overall["hr@10"], last.target_outside), (0.0, 1.0));
        assert_eq!(seen, vec![vec![2, 3, 4, 5], vec![2, 4], vec![3, 5]], "history excluded, then each track's scene");
        assert_eq!(agnostic.per_scene.keys().collect::<Vec<_>>(), vec!["a"], "grouped by the target's scene");
    }

    /// On surfaces a scene ranks every item: the tab-known tracks have the agnostic track's
    /// candidates, and the last event's surface no longer hides the target.
    #[test]
    fn on_surfaces_every_track_ranks_the_whole_catalogue() {
        let (catalog, histories, case) = fixture();
        let catalog = catalog.with_scene_kind(crate::data::SceneKind::Surfaces);
        let users = vec![1u32; 6];
        let setup = EvalSetup { catalog: &catalog, histories: &histories, item_users: &users, n_users: 1, shelf: None, batch: 8 };
        for track in Track::ALL {
            let mut seen = Vec::new();
            let mut ranker = |queries: &[Query], excluded: &Excluded<'_>| -> Result<Vec<Ranking>> {
                Ok((0..queries.len())
                    .map(|q| {
                        seen.push((0..6).filter(|&i| !excluded(q, i)).collect::<Vec<_>>());
                        Ranking::from_scores(vec![1.0; 6], |i| excluded(q, i), LIST_K)
                    })
                    .collect())
            };
            let report = evaluate(&setup, &track.queries(&[case], &histories), &mut ranker).unwrap();
            assert_eq!((report.target_outside, report.ranks.clone()), (0.0, vec![4]), "{track:?}");
            assert_eq!(seen, vec![vec![2, 3, 4, 5]], "{track:?}");
        }
    }
}
