//! The "no sharing" ablation: one model per scene, each trained only on its scene's events and
//! early-stopped on its scene's validation queries (in-scene track), with the same config,
//! epoch cap and patience as the joint model. Its scene's windows partition the joint model's
//! (plus the extra windows that cutting per scene creates), so the same epoch cap gives the
//! scene models at least as many optimizer steps in all; the steps they took are reported.
//!
//! How they rank:
//! - a query with a tab goes to that scene's model, reading only the user's events in that
//!   scene (a user with none there gets the scene's items by popularity);
//! - without a tab (agnostic track) the scene models' in-scene softmaxes are mixed, weighted by
//!   the share of the user's history in each scene (add-one smoothed):
//!   `p(item) = w(scene of item) · p_scene(item | the user's events in that scene)`.

use serde_json::{Value, json};

use super::{Bench, PER_SCENE, track_reports, train_json};
use crate::data::Event;
use crate::data::protocol::{Case, scene_histories};
use crate::eval::{Excluded, Query, Track, model_ranker};
use crate::experiment::Prepared;
use crate::metrics::LIST_K;
use crate::rank::Ranking;
use crate::train::{TrainInput, Trained};
use crate::Result;

pub fn run(bench: &Bench<'_>, p: &Prepared) -> Result<Value> {
    let histories = &p.data.histories;
    let catalog = &p.data.catalog;
    let n_scenes = catalog.scenes.len();
    let mut models: Vec<Trained> = Vec::new();
    let mut per_scene_histories: Vec<Vec<Vec<Event>>> = Vec::new();
    let mut train = serde_json::Map::new();
    for s in 0..n_scenes as u16 {
        let (trained, hs) = train_scene(bench, p, s)?;
        train.insert(catalog.scenes[s as usize].clone(), train_json(&trained));
        models.push(trained);
        per_scene_histories.push(hs);
    }
    let feats = bench.features(p)?;
    let mut rankers: Vec<_> = models
        .iter()
        .zip(&per_scene_histories)
        .map(|(m, hs)| model_ranker(&m.model, &m.config, &feats, hs))
        .collect();
    // Popularity within each scene, as log counts (a log-probability up to a constant): the
    // fallback of a user with no events in a scene.
    let popularity: Vec<f32> = p.item_users.iter().map(|&c| (c as f32 + 1.0).ln()).collect();

    let mut ranker = |queries: &[Query], excluded: &Excluded<'_>| -> Result<Vec<Ranking>> {
        let mut out: Vec<Option<Ranking>> = vec![None; queries.len()];
        let mut mixed: Vec<Vec<f32>> = Vec::new();
        if queries.iter().any(|q| q.tab.is_none()) {
            mixed = vec![vec![f32::NEG_INFINITY; catalog.len()]; queries.len()];
        }
        for s in 0..n_scenes as u16 {
            // Queries this scene's model answers: those on its tab, and (for the mixture) all
            // without a tab; each reads only the user's events in this scene.
            let mine: Vec<usize> = (0..queries.len()).filter(|&q| queries[q].tab.is_none_or(|t| t == s)).collect();
            let (with_history, without): (Vec<usize>, Vec<usize>) =
                mine.into_iter().partition(|&q| in_scene(histories, queries[q].case.user, queries[q].case.history_len, s) > 0);
            let mapped: Vec<Query> = with_history
                .iter()
                .map(|&q| {
                    let c = queries[q].case;
                    Query { case: Case { history_len: in_scene(histories, c.user, c.history_len, s), ..c }, tab: Some(s) }
                })
                .collect();
            let in_tab = |q: usize, i: usize| excluded(q, i) || !catalog.in_scene(i, s);
            let ranked = if mapped.is_empty() { Vec::new() } else { rankers[s as usize](&mapped, &|j, i| in_tab(with_history[j], i))? };
            let fallback = |q: usize| Ranking::from_scores(popularity.clone(), |i| in_tab(q, i), LIST_K);
            let answers = with_history.iter().copied().zip(ranked).chain(without.iter().map(|&q| (q, fallback(q))));
            for (q, ranking) in answers {
                match queries[q].tab {
                    Some(_) => out[q] = Some(ranking),
                    None => add_to_mixture(&mut mixed[q], &ranking, scene_weight(histories, &queries[q].case, s, n_scenes)),
                }
            }
        }
        Ok(out
            .into_iter()
            .enumerate()
            .map(|(q, r)| r.unwrap_or_else(|| Ranking::from_scores(std::mem::take(&mut mixed[q]), |i| excluded(q, i), LIST_K)))
            .collect())
    };
    let tracks = track_reports(p, &p.split.test, &mut ranker)?;
    let steps: usize = models.iter().map(|m| m.steps).sum();
    Ok(json!({"models": {PER_SCENE: {"tracks": tracks, "train": {
        "seconds": models.iter().map(|m| m.seconds).sum::<f64>(), "steps": steps, "per_scene": train,
        "combination": "agnostic: in-scene softmaxes of the scene models mixed by the share of the user's history in each scene",
    }}}}))
}

/// Trains (or resumes, or finds trained) the scene models of shard `index` of `count`: scenes
/// `index`, `index + count`, … . Each shard in its own process trains its models side by side
/// with the others (burn's CPU backend has one random generator per process, so threads would
/// share it and no run would be reproducible); the part, run afterwards, finds them trained.
/// `index < count`, as [`Bench::train_shard`] checks before loading the data.
pub fn train_shard(bench: &Bench<'_>, p: &Prepared, index: usize, count: usize) -> Result<()> {
    for s in (index..p.data.catalog.scenes.len()).step_by(count) {
        train_scene(bench, p, s as u16)?;
    }
    Ok(())
}

/// Scene `s`'s model, trained on the users' events in that scene and early-stopped on its
/// validation queries (those whose target is in the scene), with those histories.
fn train_scene(bench: &Bench<'_>, p: &Prepared, s: u16) -> Result<(Trained, Vec<Vec<Event>>)> {
    let histories = &p.data.histories;
    let catalog = &p.data.catalog;
    let known = vec![true; catalog.len()];
    let hs = scene_histories(histories, s);
    let train_len: Vec<usize> = p.split.train_len.iter().enumerate().map(|(u, &n)| in_scene(histories, u, n, s)).collect();
    let valid: Vec<Case> = p
        .split
        .valid
        .iter()
        .filter(|c| c.target.scene == s)
        .map(|c| Case { history_len: in_scene(histories, c.user, c.history_len, s), ..*c })
        .filter(|c| c.history_len > 0)
        .collect();
    let input = TrainInput {
        catalog,
        lm: &p.lm,
        known: &known,
        histories: &hs,
        train_len: &train_len,
        valid: &valid,
        valid_tracks: &[Track::InScene],
    };
    let trained = bench.train(&format!("scenerec_scene_{}", catalog.scenes[s as usize]), &bench.cfg, &input)?;
    Ok((trained, hs))
}

/// How many of `user`'s first `len` events are in scene `s`.
fn in_scene(histories: &[Vec<Event>], user: usize, len: usize, s: u16) -> usize {
    histories[user][..len].iter().filter(|e| e.scene == s).count()
}

/// The mixture weight of scene `s` for a query: its add-one smoothed share of the history.
fn scene_weight(histories: &[Vec<Event>], case: &Case, s: u16, n_scenes: usize) -> f32 {
    (in_scene(histories, case.user, case.history_len, s) as f32 + 1.0) / (case.history_len + n_scenes) as f32
}

/// Writes `log(weight) + log softmax(scores)` over the ranking's candidates (its finite
/// retrieval scores, the re-ranked head's order kept by ranking with the head's scores) into
/// `mixed`.
fn add_to_mixture(mixed: &mut [f32], ranking: &Ranking, weight: f32) {
    let mut scores = ranking.scores.clone();
    for &(i, s) in &ranking.head {
        scores[i] = s;
    }
    let max = scores.iter().copied().filter(|s| s.is_finite()).fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() {
        return;
    }
    let log_z = max + scores.iter().filter(|s| s.is_finite()).map(|s| (s - max).exp()).sum::<f32>().ln();
    for (m, s) in mixed.iter_mut().zip(&scores) {
        if s.is_finite() {
            *m = weight.ln() + s - log_z;
        }
    }
}
