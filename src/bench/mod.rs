//! The accuracy benchmark: every model — scenerec, its ablations and the peers — trained (or
//! fitted) on the same split in the same run, tuned and early-stopped on the validation split,
//! and measured on the test split in the three tracks of [`crate::eval::track`], with ties
//! counted against the target. Plus cold start and on-device fine-tuning.
//!
//! The benchmark is cut into parts ([`Part`]), each runnable alone (in its own process, so each
//! part's peak memory is its own); a part writes `<runs>/parts/<part>.json`, and
//! [`merge`] assembles the parts into `accuracy.json` and `accuracy.md` (and every model's
//! per-query ranks into [`ranks::FILE`]).

mod cold;
mod fine_tune;
mod markdown;
pub mod paired;
mod per_scene;
pub mod ranks;
mod seeds;

use serde_json::{Value, json};
use std::path::{Path, PathBuf};

use crate::backend::{BackendKind, device};
use crate::eval::{EvalSetup, Ranker, Report, Track, evaluate, mean_ndcg10, model_ranker, track_ndcg10};
use crate::experiment::Prepared;
use crate::model::ItemFeatures;
use crate::peers::itemknn::{self, ItemKnn, KnnParams};
use crate::peers::markov::Markov;
use crate::peers::popularity::popularity_ranker;
use crate::peers::{sasrec, training_prefixes};
use crate::train::checkpoint::Checkpoint;
use crate::train::fit::peak_rss_mb;
use crate::train::{Progress, TrainConfig, TrainInput, Trained, fit};
use crate::{Error, Result};

/// One part of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Popularity, Markov and ItemKNN (tuned on validation).
    Peers,
    /// The SASRec peer.
    SasRec,
    /// The multi-scene model.
    SceneRec,
    /// The model without the language model's text embeddings.
    NoLm,
    /// One model per scene, no sharing.
    PerScene,
    /// Withheld items ranked from text.
    ColdStart,
    /// The default pull toward the shared weights of fine-tuning, chosen on validation.
    FineTuneSweep,
    /// On-device fine-tuning of the `scenerec` part's model.
    FineTune,
    /// On-device fine-tuning of the same users with a model pretrained without them.
    FineTuneUnseen,
    /// The SASRec peer retrained with other seeds (training variance).
    SasRecSeeds,
    /// The multi-scene model retrained with other seeds.
    SceneRecSeeds,
}

impl Part {
    /// In the order the full benchmark runs them (fine-tuning needs the scenerec part's model,
    /// the seeds parts and unseen fine-tuning their main part's kept schedule).
    pub const ALL: [Part; 11] = [
        Part::Peers,
        Part::SasRec,
        Part::SceneRec,
        Part::NoLm,
        Part::PerScene,
        Part::ColdStart,
        Part::FineTuneSweep,
        Part::FineTune,
        Part::FineTuneUnseen,
        Part::SasRecSeeds,
        Part::SceneRecSeeds,
    ];

    /// The parts that train several models, which [`Bench::train_shard`] trains in shards.
    pub const SHARDED: [Part; 4] = [Part::PerScene, Part::ColdStart, Part::SasRecSeeds, Part::SceneRecSeeds];

    pub fn name(self) -> &'static str {
        match self {
            Part::Peers => "peers",
            Part::SasRec => "sasrec",
            Part::SceneRec => "scenerec",
            Part::NoLm => "no-lm",
            Part::PerScene => "per-scene",
            Part::ColdStart => "cold-start",
            Part::FineTuneSweep => "fine-tune-sweep",
            Part::FineTune => "fine-tune",
            Part::FineTuneUnseen => "fine-tune-unseen",
            Part::SasRecSeeds => "sasrec-seeds",
            Part::SceneRecSeeds => "scenerec-seeds",
        }
    }

    /// The models whose figures the part produces.
    fn models(self) -> &'static [&'static str] {
        match self {
            Part::Peers => &[POPULARITY, MARKOV, ITEMKNN],
            Part::SasRec => &[SASREC],
            Part::SceneRec => &[OURS],
            Part::NoLm => &[NO_LM],
            Part::PerScene => &[PER_SCENE],
            _ => &[],
        }
    }

    /// The part's results as a merged results file recorded them, with its models' per-query
    /// ranks from `kept_ranks` (the tracks of [`ranks::load`]) where it has them, or `None`
    /// when the file holds none of them: a merge on a machine without the part's own results
    /// (a fresh clone) keeps the figures committed before.
    fn results_in(self, merged: &Value, kept_ranks: &Value) -> Option<Value> {
        let extra = |key: &str| Some(merged[key].clone()).filter(|v| !v.is_null()).map(|v| json!({key: v}));
        let seeds = |name: &str| {
            let runs = &merged["training_variance"]["models"][name]["extra_runs"];
            (!runs.is_null()).then(|| json!({"seeds": {name: {"runs": runs}}}))
        };
        match self {
            Part::ColdStart => extra("cold_start"),
            Part::FineTuneSweep => extra("fine_tune_sweep"),
            Part::FineTune => extra("fine_tune"),
            Part::FineTuneUnseen => extra("fine_tune_unseen"),
            Part::SasRecSeeds => seeds(SASREC),
            Part::SceneRecSeeds => seeds(OURS),
            _ => {
                let mut models = serde_json::Map::new();
                for &name in self.models() {
                    let tracks: Option<serde_json::Map<String, Value>> = Track::ALL
                        .iter()
                        .map(|t| {
                            let mut report = Some(merged["tracks"][t.key()][name].clone()).filter(|v| !v.is_null())?;
                            if let Some(r) = ranks::of(kept_ranks, t.key(), name) {
                                report[RANKS] = r;
                            }
                            Some((t.key().to_string(), report))
                        })
                        .collect();
                    models.insert(name.into(), json!({"tracks": tracks?, "train": merged["train"][name]}));
                }
                Some(json!({"models": models}))
            }
        }
    }

    pub fn parse(name: &str) -> Result<Self> {
        Part::ALL.into_iter().find(|p| p.name() == name).ok_or_else(|| {
            let names: Vec<&str> = Part::ALL.iter().map(|p| p.name()).collect();
            Error::Input(format!("unknown benchmark part `{name}` ({})", names.join(", ")))
        })
    }
}

/// What every part shares.
pub struct Bench<'a> {
    pub cfg: TrainConfig,
    pub data: &'a Path,
    /// Working directory: training runs, and `parts/` for the parts' results.
    pub runs: PathBuf,
    /// Where [`merge`] writes `accuracy.json`: on a machine without a part's own results (a
    /// fresh clone), that file's figures for it are carried.
    pub out: PathBuf,
    /// A progress reporter for the training run of the given name.
    pub progress: &'a dyn Fn(&str) -> Box<dyn Progress>,
    /// At most this many users in the fine-tuning parts (`None`: each part's own number).
    pub fine_tune_users: Option<usize>,
}

impl Bench<'_> {
    fn part_path(&self, part: Part) -> PathBuf {
        self.runs.join("parts").join(format!("{}.json", part.name()))
    }

    /// Runs one part and writes its results.
    pub fn run(&self, part: Part) -> Result<()> {
        eprintln!("== benchmark part {}", part.name());
        let p = Prepared::load(self.data, &self.cfg.filter)?;
        let result = match part {
            Part::Peers => self.peers(&p)?,
            Part::SasRec => self.tuned_part(&p, SASREC, sasrec::config(&self.cfg).schedules())?,
            Part::SceneRec => self.tuned_part(&p, OURS, self.cfg.schedules())?,
            Part::NoLm => {
                let mut c = self.cfg.clone();
                c.model.use_lm = false;
                self.model_part(&p, NO_LM, &c)?
            }
            Part::PerScene => per_scene::run(self, &p)?,
            Part::ColdStart => cold::run(self, &p)?,
            Part::FineTuneSweep => fine_tune::run_sweep(self, &p)?,
            Part::FineTune => fine_tune::run(self, &p)?,
            Part::FineTuneUnseen => fine_tune::run_unseen(self, &p)?,
            Part::SasRecSeeds => seeds::run(self, &p, part, Part::SasRec, SASREC, &sasrec::config(&self.cfg))?,
            Part::SceneRecSeeds => seeds::run(self, &p, part, Part::SceneRec, OURS, &self.cfg)?,
        };
        let mut result = result;
        result["peak_rss_mb"] = json!(peak_rss_mb());
        let path = self.part_path(part);
        write_json(&path, &result)?;
        eprintln!("wrote {}", path.display());
        Ok(())
    }

    /// Trains shard `index` of `count` of a part that trains several models (per-scene: its
    /// scene models; cold-start: its two models; the seeds parts: their seeds) and stops,
    /// writing no results: shards run side by side in separate processes, then the part
    /// measures their models.
    pub fn train_shard(&self, part: Part, index: usize, count: usize) -> Result<()> {
        if count == 0 || index >= count {
            return Err(Error::Input(format!("shard {index}/{count}: want I/N with I < N")));
        }
        if !Part::SHARDED.contains(&part) {
            let names: Vec<&str> = Part::SHARDED.iter().map(|p| p.name()).collect();
            let msg = format!("--shard belongs to the parts that train several models ({}), not {}", names.join(", "), part.name());
            return Err(Error::Input(msg));
        }
        eprintln!("== benchmark part {}, models of shard {index}/{count}", part.name());
        let p = Prepared::load(self.data, &self.cfg.filter)?;
        match part {
            Part::PerScene => per_scene::train_shard(self, &p, index, count),
            Part::ColdStart => cold::train_shard(self, &p, index, count),
            Part::SasRecSeeds => seeds::train_shard(self, &p, Part::SasRec, SASREC, &sasrec::config(&self.cfg), index, count),
            Part::SceneRecSeeds => seeds::train_shard(self, &p, Part::SceneRec, OURS, &self.cfg, index, count),
            _ => unreachable!("checked against Part::SHARDED"),
        }
    }

    /// Trains `name` in `<runs>/<name>` with early stopping on validation. A run of the same
    /// config left there (an interrupted benchmark) is resumed from its last epoch; anything
    /// else there is cleared first.
    fn train(&self, name: &str, cfg: &TrainConfig, input: &TrainInput<'_>) -> Result<Trained> {
        let dir = self.runs.join(name);
        let checkpoint = Checkpoint::new(&dir)?;
        if checkpoint.resumable_by(cfg) {
            eprintln!("== resuming {name} from {}", dir.display());
        } else {
            eprintln!("== training {name}");
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        let dev = device(BackendKind::Flex, cfg.seed)?;
        fit(cfg, input, &dev, Some(&Checkpoint::new(&dir)?), &mut *(self.progress)(name))
    }

    fn features(&self, p: &Prepared) -> Result<ItemFeatures> {
        p.features(&vec![true; p.data.catalog.len()], &device(BackendKind::Flex, self.cfg.seed)?)
    }

    /// A trained model of `cfg`, measured in every track.
    fn model_part(&self, p: &Prepared, name: &str, cfg: &TrainConfig) -> Result<Value> {
        self.tuned_part(p, name, vec![("", cfg.clone())])
    }

    /// Where the tuned part `name` leaves the weights of its best variant.
    pub fn model_path(&self, name: &str) -> PathBuf {
        self.runs.join(format!("{name}.weights"))
    }

    /// The model trained with each of `variants`, the best on validation measured in every
    /// track and its weights left at [`model_path`](Self::model_path); every variant's
    /// validation score and training time is reported.
    fn tuned_part(&self, p: &Prepared, name: &str, variants: Vec<(&str, TrainConfig)>) -> Result<Value> {
        let known = vec![true; p.data.catalog.len()];
        let input = p.train_input(&known);
        let mut best: Option<(Trained, PathBuf, &TrainConfig)> = None;
        let mut tried = Vec::new();
        for (i, (label, cfg)) in variants.iter().enumerate() {
            let run = if variants.len() == 1 { name.to_string() } else { format!("{name}_{i}") };
            let trained = self.train(&run, cfg, &input)?;
            tried.push(json!({"variant": label, "valid_ndcg@10": trained.best_valid, "seconds": trained.seconds,
                              "best_epoch": trained.best_epoch, "schedule": schedule_json(cfg)}));
            if best.as_ref().is_none_or(|(b, ..)| trained.best_valid > b.best_valid) {
                best = Some((trained, Checkpoint::new(&self.runs.join(&run))?.best_path(), cfg));
            }
        }
        let (trained, weights, chosen) = best.ok_or_else(|| Error::Data(format!("{name}: no variant to train")))?;
        let kept = self.model_path(name);
        std::fs::copy(&weights, &kept).map_err(|e| Error::io(&kept, e))?;
        let feats = self.features(p)?;
        let mut ranker = model_ranker(&trained.model, &trained.config, &feats, &p.data.histories);
        let tracks = track_reports(p, &p.split.test, &mut ranker)?;
        let mut train = train_json(&trained);
        train[SCHEDULE] = schedule_json(chosen);
        if tried.len() > 1 {
            train["variants"] = json!(tried);
        }
        Ok(json!({"models": {name: {"tracks": tracks, "train": train}}}))
    }

    /// The results file at [`out`](Self::out) when it was made from the same data set and config
    /// (what a merge carries parts from).
    fn previous_results(&self) -> Result<Option<Value>> {
        let path = self.out.join("accuracy.json");
        if !path.exists() {
            return Ok(None);
        }
        let prev = read_json(&path)?;
        Ok((prev["dataset"] == json!(dataset_name(self.data)) && prev["config"] == json!(self.cfg)).then_some(prev))
    }

    /// `config` with the schedule the tuned part `main` kept (its model `name`), so a model
    /// retrained from it differs from the part's in nothing the caller does not change. From the
    /// part's own results, or else from the results file it was carried into (a fresh clone).
    fn kept_schedule(&self, main: Part, name: &str, config: &TrainConfig) -> Result<TrainConfig> {
        let part_path = self.part_path(main);
        let (path, train) = if part_path.exists() {
            let train = read_json(&part_path)?["models"][name]["train"].take();
            (part_path, train)
        } else {
            let carried = self.previous_results()?.map(|mut prev| prev["train"][name].take()).filter(|t| !t.is_null());
            (self.out.join("accuracy.json"), carried.ok_or_else(|| missing(&part_path, main))?)
        };
        let kept = &train[SCHEDULE];
        let stale = || Error::Input(format!("{}: no `{SCHEDULE}` for {name} (rerun the {} part)", path.display(), main.name()));
        Ok(TrainConfig {
            lr_decay: kept["lr_decay"].as_f64().ok_or_else(stale)?,
            exclude_seen: kept["exclude_seen"].as_bool().ok_or_else(stale)?,
            ..config.clone()
        })
    }

    /// Popularity, Markov and ItemKNN, each fitted on the training prefixes; ItemKNN's knobs
    /// are chosen by the same validation rule the trained models stop on.
    fn peers(&self, p: &Prepared) -> Result<Value> {
        let n = p.data.catalog.len();
        let (histories, train_len) = (&p.data.histories, &p.split.train_len);
        let mut models = serde_json::Map::new();
        let t0 = std::time::Instant::now();
        let pop = track_reports(p, &p.split.test, &mut popularity_ranker(&p.item_users))?;
        models.insert(POPULARITY.into(), json!({"tracks": pop, "train": {"seconds": t0.elapsed().as_secs_f64()}}));

        let t0 = std::time::Instant::now();
        let markov = Markov::fit(n, training_prefixes(histories, train_len), &p.item_users);
        let seconds = t0.elapsed().as_secs_f64();
        let tracks = track_reports(p, &p.split.test, &mut markov.ranker(histories))?;
        models.insert(MARKOV.into(), json!({"tracks": tracks, "train": {"seconds": seconds}}));

        let t0 = std::time::Instant::now();
        let mut tuning = Vec::new();
        let mut best: Option<(f64, KnnParams)> = None;
        for params in itemknn::grid() {
            let knn = ItemKnn::fit(n, training_prefixes(histories, train_len), &p.item_users, params);
            let valid = validation_score(p, &mut knn.ranker(histories))?;
            eprintln!("itemknn {params:?}: valid NDCG@10 {valid:.4}");
            tuning.push(json!({"params": params, "valid_ndcg@10": valid}));
            if best.is_none_or(|(b, _)| valid > b) {
                best = Some((valid, params));
            }
        }
        let (valid, params) = best.ok_or_else(|| Error::Data("empty ItemKNN grid".into()))?;
        let knn = ItemKnn::fit(n, training_prefixes(histories, train_len), &p.item_users, params);
        let tracks = track_reports(p, &p.split.test, &mut knn.ranker(histories))?;
        models.insert(
            ITEMKNN.into(),
            json!({"tracks": tracks, "train": {"seconds": t0.elapsed().as_secs_f64(), "params": params,
                   "valid_ndcg@10": valid, "tuning": tuning}}),
        );
        Ok(json!({"models": models}))
    }
}

/// The validation rule the trained models stop on ([`track_ndcg10`] over the three tracks of
/// the validation split, averaged), for the peers that are tuned instead.
fn validation_score(p: &Prepared, ranker: &mut Ranker<'_>) -> Result<f64> {
    Ok(mean_ndcg10(&track_ndcg10(&p.eval_setup(), &Track::ALL, &p.split.valid, &p.data.histories, ranker)?))
}

/// A ranker's test reports in every track, keyed by [`Track::key`].
fn track_reports(p: &Prepared, cases: &[crate::data::protocol::Case], ranker: &mut Ranker<'_>) -> Result<Value> {
    track_reports_with(&p.eval_setup(), cases, &p.data.histories, ranker)
}

fn track_reports_with(
    setup: &EvalSetup<'_>,
    cases: &[crate::data::protocol::Case],
    histories: &[Vec<crate::data::Event>],
    ranker: &mut Ranker<'_>,
) -> Result<Value> {
    let mut out = serde_json::Map::new();
    for track in Track::ALL {
        let report = evaluate(setup, &track.queries(cases, histories), ranker)?;
        eprintln!("  {:<10} NDCG@10 {:.4}  HR@10 {:.4}", track.name(), report.ndcg10(), report.overall["hr@10"]);
        let mut r = report_json(&report);
        // Kept in the part's results for [`merge`]'s paired comparisons (and in [`ranks::FILE`]),
        // not in accuracy.json.
        r[RANKS] = json!(report.ranks);
        out.insert(track.key().into(), r);
    }
    Ok(Value::Object(out))
}

/// The key of a track report's per-query target ranks in a part's results (and, encoded, in
/// `eval --json`'s reports).
pub(crate) const RANKS: &str = "ranks";

/// The models' names in the results, each written by one part ([`Part::models`]); the model
/// every paired comparison is made against is [`OURS`].
const POPULARITY: &str = "popularity";
const MARKOV: &str = "markov";
const ITEMKNN: &str = "itemknn";
const SASREC: &str = "sasrec";
const OURS: &str = "scenerec";
const NO_LM: &str = "scenerec_no_lm";
const PER_SCENE: &str = "scenerec_per_scene";
/// Every model, in table order: peers, then ours and its ablations.
const MODELS: [&str; 7] = [POPULARITY, MARKOV, ITEMKNN, SASREC, OURS, NO_LM, PER_SCENE];

/// Per track, scenerec against every other model with per-query ranks on the same queries
/// ([`paired::compare`] of NDCG@10); takes the ranks out of `tracks` (they stay in the parts).
fn paired_comparisons(tracks: &mut serde_json::Map<String, Value>, seed: u64) -> Value {
    let mut out = serde_json::Map::new();
    for (track, models) in tracks.iter_mut() {
        let Some(models) = models.as_object_mut() else { continue };
        let ranks: Vec<(String, Vec<f64>)> = models
            .iter_mut()
            .filter_map(|(name, m)| {
                let r: Vec<u64> = serde_json::from_value(m.as_object_mut()?.remove(RANKS)?).ok()?;
                Some((name.clone(), paired::ndcg10_of_ranks(&r)))
            })
            .collect();
        let Some((_, ours)) = ranks.iter().find(|(name, _)| name == OURS) else { continue };
        let against: serde_json::Map<String, Value> = ranks
            .iter()
            .filter(|(name, _)| name != OURS)
            .filter_map(|(name, theirs)| Some((name.clone(), json!(paired::compare(ours, theirs, paired::RESAMPLES, seed)?))))
            .collect();
        out.insert(track.clone(), Value::Object(against));
    }
    Value::Object(out)
}

/// Keeps the previous results' paired comparisons that this merge could not recompute (carried
/// parts without kept ranks: results merged before [`ranks::FILE`] was written) and that still
/// hold: both scenerec's part and the other model's were carried unchanged. A comparison with a
/// rerun model is left out rather than kept stale.
fn carry_paired(paired: &mut Value, previous: &Value, carried: &[Part]) {
    let carried_model = |name: &str| carried.iter().any(|p| p.models().contains(&name));
    if !carried_model(OURS) {
        return;
    }
    let Some(tracks) = previous["paired"].as_object() else { return };
    for (track, models) in tracks {
        for (name, comparison) in models.as_object().into_iter().flatten() {
            if carried_model(name) && paired[track][name].is_null() {
                paired[track][name] = comparison.clone();
            }
        }
    }
}

/// The data set's name: its directory's.
fn dataset_name(data: &Path) -> Option<String> {
    data.file_name().map(|n| n.to_string_lossy().to_string())
}

fn report_json(r: &Report) -> Value {
    json!({"queries": r.queries, "overall": r.overall, "per_scene": r.per_scene, "target_outside": r.target_outside})
}

/// Refuses to go on without `path`, a file the part `part` writes, naming the part to run.
fn written_by(path: &Path, part: Part) -> Result<()> {
    if path.exists() { Ok(()) } else { Err(missing(path, part)) }
}

/// The error for a missing `path`, a file the part `part` writes: it names the part to run.
fn missing(path: &Path, part: Part) -> Error {
    Error::Input(format!("{}: missing (run the benchmark's {} part first)", path.display(), part.name()))
}

/// The key of the schedule a tuned model was trained with, in its part's `train` record.
const SCHEDULE: &str = "schedule";

/// What the tuned parts choose between ([`TrainConfig::schedules`]).
fn schedule_json(cfg: &TrainConfig) -> Value {
    json!({"lr_decay": cfg.lr_decay, "exclude_seen": cfg.exclude_seen})
}

fn train_json(t: &Trained) -> Value {
    json!({
        "seconds": t.seconds, "epochs": t.reports.len(), "best_epoch": t.best_epoch, "steps": t.steps,
        "valid_ndcg@10": t.best_valid, "samples_per_s": t.samples_per_s,
        "peak_rss_mb": t.reports.iter().filter_map(|r| r.peak_rss_mb).reduce(f64::max),
        "valid_curve": t.reports.iter().map(|r| r.valid_tracks.clone()).collect::<Vec<_>>(),
    })
}

fn write_json(path: &Path, value: &Value) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Data(e.to_string()))?;
    std::fs::write(path, text + "\n").map_err(|e| Error::io(path, e))
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::Data(format!("{}: {e}", path.display())))
}

/// Assembles the parts' results into `<out>/accuracy.json` and `<out>/accuracy.md`, and their
/// per-query ranks into [`ranks::FILE`] there. Parts not yet run are left out (and named in the
/// markdown).
pub fn merge(bench: &Bench<'_>, command: &str) -> Result<()> {
    let out = bench.out.as_path();
    let p = Prepared::load(bench.data, &bench.cfg.filter)?;
    let catalog = &p.data.catalog;
    let mut tracks = serde_json::Map::new();
    let mut train = serde_json::Map::new();
    let mut extra = serde_json::Map::new();
    let mut seeds = serde_json::Map::new();
    let mut missing = Vec::new();
    let mut carried = Vec::new();
    // The results file this merge replaces, if it is of the same data set and config: parts not
    // run on this machine keep their figures from it.
    let (dataset, config) = (json!(dataset_name(bench.data)), json!(bench.cfg));
    let previous = bench.previous_results()?;
    let kept_ranks = ranks::load(out, &dataset, &config)?;
    for part in Part::ALL {
        let path = bench.part_path(part);
        let result = if path.exists() {
            read_json(&path)?
        } else if let Some(result) = previous.as_ref().and_then(|prev| part.results_in(prev, &kept_ranks)) {
            carried.push(part);
            result
        } else {
            missing.push(part.name());
            continue;
        };
        if let Some(models) = result["models"].as_object() {
            for (name, m) in models {
                for track in Track::ALL {
                    let entry = tracks.entry(track.key()).or_insert_with(|| json!({}));
                    entry[name] = m["tracks"][track.key()].clone();
                }
                let mut t = m["train"].clone();
                // Training's own peak where its epochs recorded one, else the part's.
                if t["peak_rss_mb"].is_null() {
                    t["peak_rss_mb"] = result["peak_rss_mb"].clone();
                }
                train.insert(name.clone(), t);
            }
        }
        if let Some(s) = result["seeds"].as_object() {
            seeds.extend(s.clone());
        }
        for key in ["cold_start", "fine_tune_sweep", "fine_tune", "fine_tune_unseen"] {
            if !result[key].is_null() {
                extra.insert(key.into(), result[key].clone());
            }
        }
    }
    // How often the last event's tab does not hold the target (the same for every model).
    if let Some(last) = tracks.get_mut(Track::LastScene.key()) {
        let outside = last.as_object().and_then(|m| m.values().find_map(|r| r["target_outside"].as_f64()));
        last["target_outside_scene"] = json!(outside);
    }
    let all_ranks = ranks::collect(&tracks);
    let mut paired = paired_comparisons(&mut tracks, bench.cfg.seed);
    if let Some(prev) = &previous {
        carry_paired(&mut paired, prev, &carried);
    }
    let variance = (!seeds.is_empty()).then(|| seeds::summary(&seeds, &tracks, bench.cfg.seed));
    let result = json!({
        "dataset": dataset,
        "command": command,
        "protocol": {
            "positives": match bench.cfg.filter.min_rating {
                Some(min) => format!("ratings of at least {min}"),
                None => "every interaction".into(),
            },
            "k_core": [bench.cfg.filter.min_user, bench.cfg.filter.min_item],
            "split": "chronological leave-one-out (last event: test, the one before: validation)",
            "max_len": bench.cfg.model.max_len,
            "ranking": "full ranking of the track's candidates minus the user's history; ties count against the target",
            "validation": "early stopping and tuning on the mean NDCG@10 of the three tracks on the validation split",
            "users": p.data.users.len(), "items": catalog.len(), "interactions": p.data.num_events(),
            "scenes": catalog.scenes,
        },
        "config": config,
        "tracks": tracks,
        "paired": paired,
        "training_variance": variance,
        "cold_start": extra.get("cold_start"),
        "fine_tune_sweep": extra.get("fine_tune_sweep"),
        "fine_tune": extra.get("fine_tune"),
        "fine_tune_unseen": extra.get("fine_tune_unseen"),
        "train": train,
        "missing_parts": missing,
        "carried_parts": carried.iter().map(|p| p.name()).collect::<Vec<_>>(),
    });
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    write_json(&out.join("accuracy.json"), &result)?;
    ranks::save(out, &result, all_ranks)?;
    let md = out.join("accuracy.md");
    std::fs::write(&md, markdown::render(&result)).map_err(|e| Error::io(&md, e))?;
    eprintln!("wrote {} and {}", out.join("accuracy.json").display(), md.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A retraining takes the schedule the tuned part kept, not the config's: from the part's
    /// results, or on a fresh clone from the results file of the same config it was carried
    /// into; a results file from before the part recorded it is refused, naming the part to
    /// rerun.
    #[test]
    fn kept_schedule_comes_from_the_part() {
        let runs = std::env::temp_dir().join(format!("scenerec-kept-{}", std::process::id()));
        let progress = |_: &str| -> Box<dyn Progress> { unreachable!("nothing is trained") };
        let cfg = TrainConfig { lr_decay: 1.0, exclude_seen: true, ..TrainConfig::default() };
        let out = runs.join("out");
        let bench = Bench { cfg: cfg.clone(), data: Path::new("unused"), runs: runs.clone(), out: out.clone(), progress: &progress, fine_tune_users: None };
        let missing = bench.kept_schedule(Part::SasRec, "sasrec", &cfg).unwrap_err().to_string();
        assert!(missing.contains("run the benchmark's sasrec part first"), "{missing}");

        let carried = TrainConfig { lr_decay: 0.25, ..cfg.clone() };
        let results = |config: &TrainConfig| {
            json!({"dataset": "unused", "config": config, "train": {"sasrec": {SCHEDULE: schedule_json(&carried)}}})
        };
        write_json(&out.join("accuracy.json"), &results(&cfg)).unwrap();
        assert_eq!(bench.kept_schedule(Part::SasRec, "sasrec", &cfg).unwrap().lr_decay, 0.25, "carried into the results file");
        write_json(&out.join("accuracy.json"), &results(&TrainConfig { seed: 7, ..cfg.clone() })).unwrap();
        let other = bench.kept_schedule(Part::SasRec, "sasrec", &cfg).unwrap_err().to_string();
        assert!(other.contains("run the benchmark's sasrec part first"), "another config's results: {other}");

        let chosen = TrainConfig { lr_decay: 0.5, exclude_seen: false, ..cfg.clone() };
        let part = json!({"models": {"sasrec": {"train": {SCHEDULE: schedule_json(&chosen)}}}});
        write_json(&bench.part_path(Part::SasRec), &part).unwrap();
        let kept = bench.kept_schedule(Part::SasRec, "sasrec", &cfg).unwrap();
        assert_eq!((kept.lr_decay, kept.exclude_seen, kept.seed), (0.5, false, cfg.seed));

        write_json(&bench.part_path(Part::SasRec), &json!({"models": {"sasrec": {"train": {}}}})).unwrap();
        let stale = bench.kept_schedule(Part::SasRec, "sasrec", &cfg).unwrap_err().to_string();
        assert!(stale.contains("rerun the sasrec part"), "{stale}");
        std::fs::remove_dir_all(&runs).unwrap();
    }

    /// Each model's ranks leave the merged tracks and become scenerec's paired comparisons with
    /// the others in the same track; a track without scenerec gets none.
    #[test]
    fn paired_comparisons_take_the_ranks_out() {
        let mut tracks = serde_json::Map::new();
        tracks.insert(
            "agnostic".into(),
            json!({"scenerec": {"overall": {}, "ranks": [1, 3, 0, 2]}, "markov": {"overall": {}, "ranks": [2, 0, 0, 2]},
                   "target_outside_scene": 0.5}),
        );
        tracks.insert("in_scene".into(), json!({"markov": {"overall": {}, "ranks": [1, 1, 1, 1]}}));
        let paired = paired_comparisons(&mut tracks, 7);
        let markov = &paired["agnostic"]["markov"];
        // NDCG@10 of ranks 1, 3, 0, 2 against 2, 0, 0, 2: (1 + 0.5 + 0.6309) / (2 · 0.6309).
        assert!((markov["ratio"].as_f64().unwrap() - 2.1309 / 1.2619).abs() < 1e-3, "{paired}");
        assert_eq!(markov["queries"], 4);
        assert!(paired["in_scene"].is_null(), "{paired}");
        assert!(!serde_json::to_string(&tracks).unwrap().contains("ranks"), "{tracks:?}");
    }

    /// A merge without scenerec's ranks keeps the previous paired comparisons of models whose
    /// parts it carried, and leaves out those of a rerun model rather than keep them stale.
    #[test]
    fn carried_paired_comparisons_are_those_still_true() {
        let previous = json!({"paired": {"agnostic": {"sasrec": {"ratio": 0.97}, "scenerec_per_scene": {"ratio": 1.9}}}});
        let mut paired = json!({});
        carry_paired(&mut paired, &previous, &[Part::SasRec, Part::SceneRec]);
        assert_eq!(paired, json!({"agnostic": {"sasrec": {"ratio": 0.97}}}));

        let mut recomputed = json!({"agnostic": {"sasrec": {"ratio": 1.01}}});
        carry_paired(&mut recomputed, &previous, &[Part::SasRec, Part::SceneRec, Part::PerScene]);
        assert_eq!(recomputed, json!({"agnostic": {"sasrec": {"ratio": 1.01}, "scenerec_per_scene": {"ratio": 1.9}}}));

        let mut without_ours = json!({});
        carry_paired(&mut without_ours, &previous, &[Part::SasRec, Part::PerScene]);
        assert_eq!(without_ours, json!({}), "scenerec rerun: every old comparison is stale");
    }
}
