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
//!
//! [`run_sweep`] chooses the default pull toward the shared weights
//! ([`crate::fine_tune::DEFAULT_ANCHOR`]) with the same measurement on the validation split.

use serde_json::{Value, json};

use std::path::Path;

use super::{Bench, OURS, Part, paired, train_json, written_by};
use crate::backend::{BackendKind, block_on, device};
use crate::data::protocol::{Case, Split};
use crate::eval::Track;
use crate::experiment::Prepared;
use crate::metrics::ndcg;
use crate::fine_tune::DEFAULT_ANCHOR;
use crate::recommender::{FineTuneOptions, Recommender};
use crate::rng::Rng;
use crate::train::TrainInput;
use crate::train::checkpoint::Checkpoint;
use crate::{Error, Result, store};

/// Test users the `fine-tune` part measures: enough that each bucket's after ÷ before is known
/// to about ±1.5% (with 500 its 95% intervals spanned ±3% in-scene and ±7% agnostic, too wide
/// to tell "no bucket worse" from noise).
const USERS: usize = 2000;

/// Test users [`run_unseen`] measures (its model is trained without them, so fewer); the draw is
/// the same, so they are the first of the `fine-tune` part's.
const UNSEEN_USERS: usize = 500;

/// The on-device history lengths measured (`None`: the whole history).
const BUCKETS: [(&str, Option<usize>); 3] = [("last5", Some(5)), ("last20", Some(20)), ("all", None)];

/// The tracks measured: a known tab, and none.
const TRACKS: [Track; 2] = [Track::InScene, Track::Agnostic];

pub fn run(bench: &Bench<'_>, p: &Prepared) -> Result<Value> {
    let path = bench.model_path(OURS);
    written_by(&path, Part::SceneRec)?;
    let pretrained = recommender(bench, p, &path)?;
    let cases = sampled_cases(bench, &p.split.test, USERS);
    Ok(json!({"fine_tune": measure_default(bench, p, &pretrained, &cases)?}))
}

/// Pull strengths the sweep measures, around the default.
const SWEEP_ANCHORS: [f64; 5] = [3.0, 10.0, 30.0, 100.0, 300.0];

/// Validation users of the sweep: more than the test measurement's, since the choice turns on
/// differences of a few percent.
const SWEEP_USERS: usize = 1000;

/// The `scenerec` part's model fine-tuned with each of [`SWEEP_ANCHORS`] on validation users
/// (their validation item held out, only the events before it on the device), and the strength
/// whose worst after-over-before NDCG@10 ratio over every history bucket and track is highest:
/// the rule "fine-tuning makes no bucket worse" as a score. The part reports it next to the
/// default, which is what the browser and the `fine-tune` part use.
pub fn run_sweep(bench: &Bench<'_>, p: &Prepared) -> Result<Value> {
    let path = bench.model_path(OURS);
    written_by(&path, Part::SceneRec)?;
    let pretrained = recommender(bench, p, &path)?;
    let cases = sampled_cases(bench, &p.split.valid, SWEEP_USERS);
    let options: Vec<FineTuneOptions> =
        SWEEP_ANCHORS.iter().map(|&anchor| FineTuneOptions { anchor, ..FineTuneOptions::default() }).collect();
    let measured = measure(bench, p, &pretrained, &cases, &options)?;
    let mut candidates = Vec::new();
    let mut chosen: Option<(f64, f64)> = None;
    for (opts, m) in options.iter().zip(measured) {
        let worst = worst_ratio(&m["history"]);
        eprintln!("anchor {}: worst after / before {worst:.4}", opts.anchor);
        if chosen.is_none_or(|(_, w)| worst > w) {
            chosen = Some((opts.anchor, worst));
        }
        candidates.push(json!({"anchor": opts.anchor, "worst_ratio": worst, "history": m["history"]}));
    }
    let chosen = chosen.map(|(anchor, _)| anchor);
    if let Some(anchor) = chosen.filter(|&a| a != DEFAULT_ANCHOR) {
        eprintln!("the sweep chose anchor {anchor}; the default (DEFAULT_ANCHOR) is {DEFAULT_ANCHOR}");
    }
    Ok(json!({"fine_tune_sweep": {
        "split": "valid", "users": cases.len(), "candidates": candidates, "chosen": chosen, "default": DEFAULT_ANCHOR,
    }}))
}

/// The lowest after-over-before ratio of mean NDCG@10 over the buckets and tracks of a
/// measurement's `history` (a cell without one counts as 0).
fn worst_ratio(history: &Value) -> f64 {
    history
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(_, bucket)| TRACKS.iter().map(move |t| &bucket[t.key()]))
        .map(|cell| cell_ratio(cell).unwrap_or(0.0))
        .fold(f64::INFINITY, f64::min)
}

/// A measured cell's mean NDCG@10 after fine-tuning over before (`None` without both, or with
/// nothing before).
pub(super) fn cell_ratio(cell: &Value) -> Option<f64> {
    let (after, before) = cell["after"].as_f64().zip(cell["before"].as_f64())?;
    (before > 0.0).then(|| after / before)
}

/// The same users and measurement as [`run`], with a model pretrained (the `scenerec` part's
/// kept schedule, the same early stopping) on every other user only: none of the sampled
/// users' events is in its training data or its validation.
pub fn run_unseen(bench: &Bench<'_>, p: &Prepared) -> Result<Value> {
    let cases = sampled_cases(bench, &p.split.test, UNSEEN_USERS);
    let cfg = bench.kept_schedule(Part::SceneRec, OURS, &bench.cfg)?;
    let (train_len, valid) = leave_out_users(&p.split, &cases);
    let known = vec![true; p.data.catalog.len()];
    let input = TrainInput { train_len: &train_len, valid: &valid, ..p.train_input(&known) };
    let trained = bench.train(UNSEEN_RUN, &cfg, &input)?;
    let weights = Checkpoint::new(&bench.runs.join(UNSEEN_RUN))?.best_path();
    let pretrained = recommender(bench, p, &weights)?;
    let mut out = measure_default(bench, p, &pretrained, &cases)?;
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

/// `users` of `cases` (at most [`Bench::fine_tune_users`]) drawn with the benchmark's seed, or
/// half of them on a data set with fewer than twice that ([`run_unseen`] trains on the users not
/// drawn).
fn sampled_cases(bench: &Bench<'_>, cases: &[Case], users: usize) -> Vec<Case> {
    let mut cases = cases.to_vec();
    Rng::new(bench.cfg.seed).shuffle(&mut cases);
    let users = users.min(bench.fine_tune_users.unwrap_or(usize::MAX));
    cases.truncate(users.min(cases.len() / 2));
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

/// Users between two progress lines of [`measure`].
const PROGRESS_EVERY: usize = 100;

/// [`measure`] with the browser's default options.
fn measure_default(bench: &Bench<'_>, p: &Prepared, pretrained: &Recommender, cases: &[Case]) -> Result<Value> {
    let mut out = measure(bench, p, pretrained, cases, &[FineTuneOptions::default()])?;
    Ok(out.remove(0))
}

/// For each of `options`: each case's NDCG@10 before and after fine-tuning `pretrained` on the
/// case's history with them, per history bucket and track (the "before" ranking is the same for
/// every option, so it is computed once).
fn measure(bench: &Bench<'_>, p: &Prepared, pretrained: &Recommender, cases: &[Case], options: &[FineTuneOptions]) -> Result<Vec<Value>> {
    let mut out = vec![serde_json::Map::new(); options.len()];
    for (bucket, cut) in BUCKETS {
        // Per track: each user's NDCG@10 before, and after with each option.
        let mut before = vec![Vec::new(); TRACKS.len()];
        let mut after = vec![vec![Vec::new(); TRACKS.len()]; options.len()];
        let (mut seconds, mut steps) = (vec![0.0; options.len()], vec![0usize; options.len()]);
        for (done, case) in cases.iter().enumerate() {
            if done > 0 && done % PROGRESS_EVERY == 0 {
                eprintln!("  {bucket}: {done} of {} users", cases.len());
            }
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
                let ranking = block_on(rec.ranking(device_history, scene, &exclude, 100, None))?;
                Ok(ndcg(ranking.rank_of(target), 10))
            };
            for (t, &track) in TRACKS.iter().enumerate() {
                before[t].push(rank(pretrained, track)?);
            }
            for (o, opts) in options.iter().enumerate() {
                let mut tuned = pretrained.clone();
                let t0 = std::time::Instant::now();
                if device_history.len() >= 2 {
                    let mut run = tuned.begin_fine_tune_events(device_history, opts)?;
                    while !run.done() {
                        block_on(run.step())?;
                    }
                    steps[o] += run.steps();
                    tuned.adopt(run);
                }
                seconds[o] += t0.elapsed().as_secs_f64();
                for (t, &track) in TRACKS.iter().enumerate() {
                    after[o][t].push(rank(&tuned, track)?);
                }
            }
        }
        let n = cases.len().max(1) as f64;
        let mean = |v: &[f64]| v.iter().sum::<f64>() / n;
        for (o, opts) in options.iter().enumerate() {
            let mut entry = serde_json::Map::new();
            for (t, track) in TRACKS.iter().enumerate() {
                let (before, after) = (&before[t], &after[o][t]);
                // After over before on the same users: whether fine-tuning moved the bucket at all.
                let paired = paired::compare(after, before, paired::RESAMPLES, bench.cfg.seed);
                entry.insert(track.key().into(), json!({"before": mean(before), "after": mean(after), "paired": paired}));
                eprintln!("  anchor {:<5} {bucket:<7} {:<9} NDCG@10 {:.4} -> {:.4}", opts.anchor, track.name(), mean(before), mean(after));
            }
            entry.insert("seconds_per_user".into(), json!(seconds[o] / n));
            entry.insert("steps_per_user".into(), json!(steps[o] as f64 / n));
            out[o].insert(bucket.into(), Value::Object(entry));
        }
    }
    Ok(options.iter().zip(out).map(|(opts, history)| json!({"users": cases.len(), "options": opts, "history": history})).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::protocol::leave_one_out;
    use crate::data::{Action, Event};

    /// The sweep's score is the lowest after ÷ before over every bucket and track.
    #[test]
    fn worst_ratio_is_the_lowest_cell() {
        let history = json!({
            "last5": {"in_scene": {"before": 0.2, "after": 0.3}, "agnostic": {"before": 0.1, "after": 0.09}},
            "all": {"in_scene": {"before": 0.4, "after": 0.38}, "agnostic": {"before": 0.1, "after": 0.2}},
        });
        assert!((worst_ratio(&history) - 0.9).abs() < 1e-12, "{}", worst_ratio(&history));
    }

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
