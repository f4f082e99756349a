//! On-device fine-tuning, measured like everything else: for a sample of test users, the
//! `scenerec` part's model is fine-tuned on the user's own history exactly as the browser does
//! it (the same [`Recommender`] code and default options), then ranks the user's held-out item.
//! The history on the device is cut to its last 5 or 20 events, or left whole (a new, a casual
//! and a regular visitor); the cut history is what the model reads and trains on, and the rest
//! of the user's past is excluded from the candidates (a site knows what it already showed).
//!
//! Leave-one-out pretrains on every user's past, these users' included, so the shared model
//! has already fitted the very histories fine-tuning then trains on. A user of the browser
//! package is not in the site's logs (their history never leaves the device), so
//! [`run_unseen`] measures the same users with a model pretrained without them.

use serde_json::{Value, json};

use std::path::Path;

use super::{Bench, OURS, Part, paired, train_json, written_by};
use crate::backend::{BackendKind, block_on, device};
use crate::data::protocol::{Case, Split};
use crate::eval::Track;
use crate::experiment::Prepared;
use crate::metrics::ndcg;
use crate::recommender::{FineTuneOptions, Recommender};
use crate::rng::Rng;
use crate::train::TrainInput;
use crate::train::checkpoint::Checkpoint;
use crate::{Error, Result, store};

/// Users sampled from the test split.
const USERS: usize = 500;

/// The on-device history lengths measured (`None`: the whole history).
const BUCKETS: [(&str, Option<usize>); 3] = [("last5", Some(5)), ("last20", Some(20)), ("all", None)];

/// The tracks measured: a known tab, and none.
const TRACKS: [Track; 2] = [Track::InScene, Track::Agnostic];

pub fn run(bench: &Bench<'_>, p: &Prepared) -> Result<Value> {
    let path = bench.model_path(OURS);
    written_by(&path, Part::SceneRec)?;
    let pretrained = recommender(bench, p, &path)?;
    Ok(json!({"fine_tune": measure(bench, p, &pretrained, &sampled_cases(bench, p))?}))
}

/// The same users and measurement as [`run`], with a model pretrained (the `scenerec` part's
/// kept schedule, the same early stopping) on every other user only: none of the sampled
/// users' events is in its training data or its validation.
pub fn run_unseen(bench: &Bench<'_>, p: &Prepared) -> Result<Value> {
    let cases = sampled_cases(bench, p);
    let cfg = bench.kept_schedule(Part::SceneRec, OURS, &bench.cfg)?;
    let (train_len, valid) = leave_out_users(&p.split, &cases);
    let known = vec![true; p.data.catalog.len()];
    let input = TrainInput { train_len: &train_len, valid: &valid, ..p.train_input(&known) };
    let trained = bench.train(UNSEEN_RUN, &cfg, &input)?;
    let weights = Checkpoint::new(&bench.runs.join(UNSEEN_RUN))?.best_path();
    let pretrained = recommender(bench, p, &weights)?;
    let mut out = measure(bench, p, &pretrained, &cases)?;
    out["train"] = train_json(&trained);
    Ok(json!({"fine_tune_unseen": out}))
}

/// The split's training prefixes and validation cases with the users of `cases` left out
/// entirely (no training events, no validation case).
fn leave_out_users(split: &Split, cases: &[Case]) -> (Vec<usize>, Vec<Case>) {
    let mut held_out = vec![false; split.train_len.len()];
    for c in cases {
        held_out[c.user] = true;
    }
    let train_len = split.train_len.iter().zip(&held_out).map(|(&n, &out)| if out { 0 } else { n }).collect();
    let valid = split.valid.iter().filter(|c| !held_out[c.user]).cloned().collect();
    (train_len, valid)
}

/// The training run of [`run_unseen`]'s model.
const UNSEEN_RUN: &str = "scenerec_unseen";

/// The measured users: [`USERS`] test cases drawn with the benchmark's seed, or half of them
/// on a data set with fewer than twice that ([`run_unseen`] trains on the users not drawn).
fn sampled_cases(bench: &Bench<'_>, p: &Prepared) -> Vec<Case> {
    let mut cases: Vec<Case> = p.split.test.clone();
    Rng::new(bench.cfg.seed).shuffle(&mut cases);
    cases.truncate(USERS.min(cases.len() / 2));
    cases
}

/// The browser's recommender over a saved model of the benchmark's config.
fn recommender(bench: &Bench<'_>, p: &Prepared, path: &Path) -> Result<Recommender> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let catalog = &p.data.catalog;
    let dev = device(BackendKind::Flex, bench.cfg.seed)?;
    let expected = bench.cfg.model.for_catalog(catalog);
    let (model, header) = store::load(&bytes, &dev, Some((&expected, catalog.fingerprint())))?;
    block_on(Recommender::new(model, header, catalog.clone(), &p.lm, &dev))
}

/// Each case's NDCG@10 before and after fine-tuning `pretrained` on the case's history, per
/// history bucket and track.
fn measure(bench: &Bench<'_>, p: &Prepared, pretrained: &Recommender, cases: &[Case]) -> Result<Value> {
    let options = FineTuneOptions::default();
    let mut out = serde_json::Map::new();
    for (bucket, cut) in BUCKETS {
        // Per track: each user's NDCG@10 before and after.
        let mut scores = vec![[Vec::new(), Vec::new()]; TRACKS.len()];
        let (mut seconds, mut steps) = (0.0, 0usize);
        for case in cases {
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
                scores[t][0].push(rank(pretrained, track)?);
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
    Ok(json!({"users": cases.len(), "options": options, "history": out}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::protocol::leave_one_out;
    use crate::data::{Action, Event};

    /// A left-out user keeps no training event and no validation case; the others keep theirs.
    #[test]
    fn left_out_users_leave_no_trace_in_training() {
        let event = |item| Event { item, scene: 0, action: Action::Interact, time: 0, rating: None };
        let histories: Vec<Vec<Event>> = (0..3).map(|u| (0..5 + u).map(event).collect()).collect();
        let split = leave_one_out(&histories);
        let left_out: Vec<Case> = split.test.iter().filter(|c| c.user == 1).cloned().collect();
        let (train_len, valid) = leave_out_users(&split, &left_out);
        assert_eq!(train_len, vec![split.train_len[0], 0, split.train_len[2]]);
        assert!(split.train_len[1] > 0 && split.valid.iter().any(|c| c.user == 1), "the case is not trivial");
        assert_eq!(valid.iter().map(|c| c.user).collect::<Vec<_>>(), vec![0, 2]);
    }
}
