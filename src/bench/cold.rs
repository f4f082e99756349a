//! Cold start: a random 10% of items is withheld from training entirely (their ID vectors are
//! never trained), and each user's last withheld item is ranked among the withheld items of its
//! scene (the in-scene track on the withheld shelf) from the warm history before it. The model
//! with the language model's text embedding and without it (a withheld item's vector then
//! holds only its genre and scene embeddings) are compared with two baselines under the same
//! rule: random within the scene, and a genre-popularity prior.

use serde_json::{Value, json};

use super::{Bench, NO_LM, OURS, report_json};
use crate::backend::{BackendKind, device};
use crate::data::protocol::{ColdSplit, Split, cold_start, leave_one_out};
use crate::eval::{EvalSetup, Excluded, Query, Track, evaluate, item_users, model_ranker};
use crate::experiment::Prepared;
use crate::metrics::{LIST_K, ndcg};
use crate::rank::Ranking;
use crate::train::{TrainInput, Trained};
use crate::Result;

/// Share of items withheld.
const COLD_FRACTION: f64 = 0.1;

/// The models trained on the warm items: name, and whether it reads the text embeddings.
const MODELS: [(&str, bool); 2] = [(NO_LM, false), (OURS, true)];

/// The withheld items and the warm data the models train on.
struct Cold {
    split: ColdSplit,
    known: Vec<bool>,
    loo: Split,
}

impl Cold {
    fn new(bench: &Bench<'_>, p: &Prepared) -> Self {
        let split = cold_start(&p.data, COLD_FRACTION, bench.cfg.seed);
        let known = split.cold.iter().map(|c| !c).collect();
        let loo = leave_one_out(&split.warm_histories);
        Cold { split, known, loo }
    }

    /// Trains (or resumes, or finds trained) the model `MODELS[m]` on the warm items.
    fn train(&self, bench: &Bench<'_>, p: &Prepared, m: usize) -> Result<Trained> {
        let (name, use_lm) = MODELS[m];
        let input = TrainInput {
            catalog: &p.data.catalog,
            lm: &p.lm,
            known: &self.known,
            histories: &self.split.warm_histories,
            train_len: &self.loo.train_len,
            valid: &self.loo.valid,
            valid_tracks: &Track::ALL,
        };
        let mut c = bench.cfg.clone();
        c.model.use_lm = use_lm;
        bench.train(&format!("cold_{name}"), &c, &input)
    }
}

/// Trains the models `index`, `index + count`, … of [`MODELS`] and stops, so that processes side
/// by side train them (see [`super::per_scene::train_shard`] for why processes); the part, run
/// afterwards, finds them trained. `index < count`, as [`Bench::train_shard`] checks.
pub fn train_shard(bench: &Bench<'_>, p: &Prepared, index: usize, count: usize) -> Result<()> {
    let cold = Cold::new(bench, p);
    for m in (index..MODELS.len()).step_by(count) {
        cold.train(bench, p, m)?;
    }
    Ok(())
}

pub fn run(bench: &Bench<'_>, p: &Prepared) -> Result<Value> {
    let cfg = &bench.cfg;
    let catalog = &p.data.catalog;
    let cold = Cold::new(bench, p);
    let (split, known, loo) = (&cold.split, &cold.known, &cold.loo);
    let users = item_users(catalog.len(), &split.warm_histories, &loo.train_len);
    let setup = EvalSetup {
        catalog,
        histories: &split.warm_histories,
        item_users: &users,
        n_users: split.warm_histories.len(),
        shelf: Some(&split.cold),
        batch: 256,
    };
    let queries = Track::InScene.queries(&split.test, &split.warm_histories);
    let mut out = serde_json::Map::new();

    // Random within the scene: the expected NDCG@10 of a uniformly random order of each
    // query's candidates (the withheld items of the target's scene not in the history).
    let random: f64 = queries
        .iter()
        .map(|q| {
            let seen = |i: usize| split.warm_histories[q.case.user][..q.case.history_len].iter().any(|e| e.item as usize == i);
            let c = (0..catalog.len()).filter(|&i| split.cold[i] && q.tab.is_some_and(|s| catalog.in_scene(i, s)) && !seen(i)).count();
            (1..=10.min(c)).map(|r| ndcg(r, 10)).sum::<f64>() / c.max(1) as f64
        })
        .sum::<f64>()
        / queries.len().max(1) as f64;
    out.insert("random_in_scene".into(), json!({"ndcg@10": random}));

    // Genre popularity: each genre's share of the warm training interactions, averaged over an
    // item's genres (what a site knows of a new item without reading its text).
    let mut genre_share = vec![0f64; catalog.genres.len()];
    for (h, &n) in split.warm_histories.iter().zip(&loo.train_len) {
        for e in &h[..n] {
            for &g in catalog.item(e.item as usize).genres {
                genre_share[g as usize] += 1.0;
            }
        }
    }
    let prior: Vec<f32> = catalog
        .iter()
        .map(|it| (it.genres.iter().map(|&g| genre_share[g as usize]).sum::<f64>() / it.genres.len().max(1) as f64) as f32)
        .collect();
    let mut genre_ranker = |qs: &[Query], excluded: &Excluded<'_>| -> Result<Vec<Ranking>> {
        Ok((0..qs.len()).map(|q| Ranking::from_scores(prior.clone(), |i| excluded(q, i), LIST_K)).collect())
    };
    out.insert("genre_popularity".into(), report_json(&evaluate(&setup, &queries, &mut genre_ranker)?));

    let feats = p.features(known, &device(BackendKind::Flex, cfg.seed)?)?;
    for (m, &(name, _)) in MODELS.iter().enumerate() {
        let trained = cold.train(bench, p, m)?;
        let mut ranker = model_ranker(&trained.model, &trained.config, &feats, &split.warm_histories);
        let mut r = report_json(&evaluate(&setup, &queries, &mut ranker)?);
        r["train"] = super::train_json(&trained);
        out.insert(name.into(), r);
    }
    let ndcg10 = |v: &Value| v["ndcg@10"].as_f64().or_else(|| v["overall"]["ndcg@10"].as_f64()).unwrap_or(0.0);
    let best_baseline = ndcg10(&out["random_in_scene"]).max(ndcg10(&out["genre_popularity"]));
    out.insert("lm_gain_over_best_baseline".into(), json!(ndcg10(&out[OURS]) / best_baseline.max(1e-12)));
    out.insert("shelf_items".into(), json!(split.cold.iter().filter(|&&c| c).count()));
    out.insert("queries".into(), json!(queries.len()));
    out.insert("track".into(), json!("in_scene"));
    Ok(json!({ "cold_start": out }))
}
