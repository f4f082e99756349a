//! Training variance: scenerec and the SASRec peer retrained with other seeds (initialisation,
//! batch order, dropout), each measured on the test split in every track. The paired intervals
//! of [`super::paired`] cover which users were sampled, not how a retrained model moves; a gap
//! between two models means little unless it is larger than what retraining alone moves.
//!
//! Each retraining uses the variant its main part chose on validation (its run is the first
//! seed), so the seeds differ in nothing but the seed. The part's results are written after
//! every seed, so an interrupted part keeps the seeds it finished (and the next run resumes the
//! unfinished one from its last epoch).

use serde_json::{Value, json};

use super::{Bench, OURS, Part, SASREC, SCHEDULE, schedule_json, track_reports, write_json};
use crate::eval::{Track, model_ranker};
use crate::experiment::Prepared;
use crate::train::{TrainConfig, Trained};
use crate::Result;

/// Seeds trained besides the main part's (so each model is measured with 1 + `EXTRA_SEEDS`).
pub const EXTRA_SEEDS: u64 = 2;

/// Retrains the model of the part `main` (whose training config for a seed is `config`) with
/// the extra seeds; returns each seed's test NDCG@10 per track, as the results of `part`.
pub fn run(bench: &Bench<'_>, p: &Prepared, part: Part, main: Part, name: &str, config: &TrainConfig) -> Result<Value> {
    let cfg = bench.kept_schedule(main, name, config)?;
    let feats = bench.features(p)?;
    let mut runs = Vec::new();
    let results = |runs: &[Value]| {
        json!({"seeds": {name: {SCHEDULE: schedule_json(&cfg), "runs": runs}}})
    };
    for k in 1..=EXTRA_SEEDS {
        let trained = train_seed(bench, p, name, &cfg, k)?;
        let mut ranker = model_ranker(&trained.model, &trained.config, &feats, &p.data.histories);
        let tracks = track_reports(p, &p.split.test, &mut ranker)?;
        let ndcg: serde_json::Map<String, Value> =
            Track::ALL.iter().map(|t| (t.key().to_string(), tracks[t.key()]["overall"]["ndcg@10"].clone())).collect();
        runs.push(json!({"seed": cfg.seed + k, "ndcg@10": ndcg, "best_epoch": trained.best_epoch,
                         "seconds": trained.seconds, "valid_ndcg@10": trained.best_valid}));
        if k < EXTRA_SEEDS {
            write_json(&bench.part_path(part), &results(&runs))?;
        }
    }
    Ok(results(&runs))
}

/// Trains (or resumes, or finds trained) the extra seeds `1 + index`, `1 + index + count`, … of
/// the part `main`'s model and stops, so that processes side by side train them (see
/// [`super::per_scene::train_shard`] for why processes); the part, run afterwards, finds them
/// trained. `index < count`, as [`Bench::train_shard`] checks.
pub fn train_shard(bench: &Bench<'_>, p: &Prepared, main: Part, name: &str, config: &TrainConfig, index: usize, count: usize) -> Result<()> {
    let cfg = bench.kept_schedule(main, name, config)?;
    for k in (1 + index as u64..=EXTRA_SEEDS).step_by(count) {
        train_seed(bench, p, name, &cfg, k)?;
    }
    Ok(())
}

/// `name` trained with `cfg` (the main part's kept schedule) and its seed moved on by `k`.
fn train_seed(bench: &Bench<'_>, p: &Prepared, name: &str, cfg: &TrainConfig, k: u64) -> Result<Trained> {
    let known = vec![true; p.data.catalog.len()];
    let c = TrainConfig { seed: cfg.seed + k, ..cfg.clone() };
    bench.train(&format!("{name}_seed{}", c.seed), &c, &p.train_input(&known))
}

/// Per model: its test NDCG@10 per track for every seed (the main part's run first), their
/// mean and standard deviation; and per track scenerec's mean over SASRec's on the seeds both
/// were trained with (paired by seed, so an unfinished seed of one leaves the other's out too).
pub fn summary(seeds: &serde_json::Map<String, Value>, tracks: &serde_json::Map<String, Value>, main_seed: u64) -> Value {
    let runs = |name: &str, track: Track| -> Vec<(u64, f64)> {
        let main = tracks.get(track.key()).and_then(|t| t[name]["overall"]["ndcg@10"].as_f64()).map(|v| (main_seed, v));
        let extra = seeds.get(name).and_then(|s| s["runs"].as_array()).into_iter().flatten();
        main.into_iter().chain(extra.filter_map(|r| Some((r["seed"].as_u64()?, r["ndcg@10"][track.key()].as_f64()?)))).collect()
    };
    let mut models = serde_json::Map::new();
    for name in seeds.keys() {
        let mut per_track = serde_json::Map::new();
        for track in Track::ALL {
            let (seeds, values): (Vec<u64>, Vec<f64>) = runs(name, track).into_iter().unzip();
            per_track.insert(track.key().into(), json!({"seeds": seeds, "ndcg@10": values, "mean": mean(&values), "sd": sd(&values)}));
        }
        // The extra seeds' own records (best epoch, training time) stay with them.
        models.insert(name.clone(), json!({"tracks": per_track, "extra_runs": seeds[name]["runs"]}));
    }
    let mut ratio = serde_json::Map::new();
    for track in Track::ALL {
        let theirs = runs(SASREC, track);
        let pairs: Vec<(u64, f64, f64)> = runs(OURS, track)
            .into_iter()
            .filter_map(|(seed, ours)| Some((seed, ours, theirs.iter().find(|(s, _)| *s == seed)?.1)))
            .collect();
        if let (Some(ours), Some(theirs)) =
            (mean(&pairs.iter().map(|p| p.1).collect::<Vec<_>>()), mean(&pairs.iter().map(|p| p.2).collect::<Vec<_>>()))
        {
            let seeds: Vec<u64> = pairs.iter().map(|p| p.0).collect();
            ratio.insert(track.key().into(), json!({"ratio": ours / theirs, "seeds": seeds}));
        }
    }
    json!({"models": models, "scenerec_over_sasrec": ratio})
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Sample standard deviation (n − 1); none for fewer than two values.
fn sd(v: &[f64]) -> Option<f64> {
    let m = mean(v)?;
    (v.len() > 1).then(|| (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The main run counts as the first seed; the mean and the sample deviation come from every
    /// seed of a model, the ratio only from the seeds both models have.
    #[test]
    fn summary_counts_the_main_run_as_a_seed() {
        let tracks: serde_json::Map<String, Value> = serde_json::from_value(json!({
            "agnostic": {"scenerec": {"overall": {"ndcg@10": 0.2}}, "sasrec": {"overall": {"ndcg@10": 0.1}}}
        }))
        .unwrap();
        let seeds: serde_json::Map<String, Value> = serde_json::from_value(json!({
            "scenerec": {"runs": [{"seed": 43, "ndcg@10": {"agnostic": 0.4}}]},
            "sasrec": {"runs": [{"seed": 43, "ndcg@10": {"agnostic": 0.1}}, {"seed": 44, "ndcg@10": {"agnostic": 0.4}}]}
        }))
        .unwrap();
        let s = summary(&seeds, &tracks, 42);
        let ours = &s["models"]["scenerec"]["tracks"]["agnostic"];
        assert_eq!(ours["seeds"], json!([42, 43]));
        assert_eq!(ours["ndcg@10"], json!([0.2, 0.4]));
        assert!((ours["mean"].as_f64().unwrap() - 0.3).abs() < 1e-12);
        // Sample deviation of 0.2 and 0.4: √(2 · 0.1² / 1).
        assert!((ours["sd"].as_f64().unwrap() - 0.02f64.sqrt()).abs() < 1e-12);
        assert!((s["models"]["sasrec"]["tracks"]["agnostic"]["mean"].as_f64().unwrap() - 0.2).abs() < 1e-12);
        // SASRec's seed 44 has no scenerec run to pair with: 0.3 / 0.1.
        let ratio = &s["scenerec_over_sasrec"]["agnostic"];
        assert!((ratio["ratio"].as_f64().unwrap() - 3.0).abs() < 1e-12, "{s}");
        assert_eq!(ratio["seeds"], json!([42, 43]));
        // A track no run measured has no values, and no ratio.
        assert_eq!(s["models"]["scenerec"]["tracks"]["in_scene"]["ndcg@10"], json!([]));
        assert!(s["scenerec_over_sasrec"]["in_scene"].is_null());
    }
}
