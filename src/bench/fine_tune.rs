//! On-device fine-tuning, measured like everything else: for a sample of test users, the
//! `scenerec` part's model is fine-tuned on the user's own history exactly as the browser does
//! it (the same [`Recommender`] code and default options), then ranks the user's held-out item.
//! The history on the device is cut to its last 5 or 20 events, or left whole (a new, a casual
//! and a regular visitor); the cut history is what the model reads and trains on, and the rest
//! of the user's past is excluded from the candidates (a site knows what it already showed).

use serde_json::{Value, json};

use super::{Bench, paired};
use crate::backend::{BackendKind, block_on, device};
use crate::data::protocol::Case;
use crate::eval::Track;
use crate::experiment::Prepared;
use crate::metrics::ndcg;
use crate::recommender::{FineTuneOptions, Recommender};
use crate::rng::Rng;
use crate::{Error, Result, store};

/// Users sampled from the test split.
const USERS: usize = 500;

/// The on-device history lengths measured (`None`: the whole history).
const BUCKETS: [(&str, Option<usize>); 3] = [("last5", Some(5)), ("last20", Some(20)), ("all", None)];

/// The tracks measured: a known tab, and none.
const TRACKS: [Track; 2] = [Track::InScene, Track::Agnostic];

pub fn run(bench: &Bench<'_>, p: &Prepared) -> Result<Value> {
    let path = bench.model_path("scenerec");
    let bytes = std::fs::read(&path)
        .map_err(|e| Error::Input(format!("{}: {e} (run the benchmark's scenerec part first)", path.display())))?;
    let catalog = &p.data.catalog;
    let dev = device(BackendKind::Flex, bench.cfg.seed)?;
    let expected = bench.cfg.model.for_catalog(catalog);
    let (model, header) = store::load(&bytes, &dev, Some((&expected, catalog.fingerprint())))?;
    let pretrained = block_on(Recommender::new(model, header, catalog.clone(), &p.lm, &dev))?;

    let mut cases: Vec<Case> = p.split.test.clone();
    Rng::new(bench.cfg.seed).shuffle(&mut cases);
    cases.truncate(USERS);
    let options = FineTuneOptions::default();
    let mut out = serde_json::Map::new();
    for (bucket, cut) in BUCKETS {
        // Per track: each user's NDCG@10 before and after.
        let mut scores = vec![[Vec::new(), Vec::new()]; TRACKS.len()];
        let (mut seconds, mut steps) = (0.0, 0usize);
        for case in &cases {
            let past = &p.data.histories[case.user][..case.history_len];
            let start = cut.map_or(0, |n| past.len().saturating_sub(n));
            let (earlier, device_history) = past.split_at(start);
            let exclude: Vec<usize> = earlier.iter().map(|e| e.item as usize).collect();
            let target = case.target.item as usize;
            let rank = |rec: &Recommender, track: Track| -> Result<f64> {
                let scene = match track {
                    Track::Agnostic => None,
                    _ => Some(case.target.scene as usize),
                };
                let ranking = block_on(rec.ranking(device_history, scene, &exclude, 100))?;
                Ok(ndcg(ranking.rank_of(target), 10))
            };
            for (t, &track) in TRACKS.iter().enumerate() {
                scores[t][0].push(rank(&pretrained, track)?);
            }
            let mut tuned = pretrained.clone();
            let t0 = std::time::Instant::now();
            if device_history.len() >= 2 {
                let mut run = tuned.begin_fine_tune_events(device_history, &options)?;
                while !run.done() {
                    block_on(run.step())?;
                }
                steps += run.steps();
                tuned.adopt(run);
            }
            seconds += t0.elapsed().as_secs_f64();
            for (t, &track) in TRACKS.iter().enumerate() {
                scores[t][1].push(rank(&tuned, track)?);
            }
        }
        let n = cases.len().max(1) as f64;
        let mut entry = serde_json::Map::new();
        for (t, track) in TRACKS.iter().enumerate() {
            let [before, after] = &scores[t];
            let mean = |v: &[f64]| v.iter().sum::<f64>() / n;
            // After over before on the same users: whether fine-tuning moved the bucket at all.
            let paired = paired::compare(after, before, paired::RESAMPLES, bench.cfg.seed);
            entry.insert(track.key().into(), json!({"before": mean(before), "after": mean(after), "paired": paired}));
            eprintln!("  {bucket:<7} {:<9} NDCG@10 {:.4} -> {:.4}", track.name(), mean(before), mean(after));
        }
        entry.insert("seconds_per_user".into(), json!(seconds / n));
        entry.insert("steps_per_user".into(), json!(steps as f64 / n));
        out.insert(bucket.into(), Value::Object(entry));
    }
    Ok(json!({"fine_tune": {"users": cases.len(), "options": options, "history": out}}))
}
