//! The training loop: epochs of shuffled windows (at least `min_epoch_steps` steps each), Adam,
//! validation NDCG@10 after every epoch, the learning rate lowered after every epoch that does
//! not improve it, early stopping on its running mean (see [`super::stopping`]), and a
//! checkpoint after every epoch.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Bytes, Device};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Instant;

use super::checkpoint::{Checkpoint, LoopState, Resumed};
use super::config::TrainConfig;
use super::loss::{batch_loss, training_table};
use super::samples::{epoch_batches, windows};
use super::stopping::plateau_epochs;
use crate::backend::{block_on, read_f32};
use crate::data::protocol::Case;
use crate::data::{Catalog, Event};
use crate::eval::{EvalSetup, Track, item_users, mean_ndcg10, model_ranker, track_ndcg10};
use crate::model::{ItemFeatures, ModelConfig, SceneRec};
use crate::rng::Rng;
use crate::{Error, Result, store};

/// One epoch's figures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EpochReport {
    pub epoch: usize,
    pub loss: f64,
    pub retrieval_loss: f64,
    pub head_loss: f64,
    /// The validation score early stopping follows: the mean NDCG@10 over the validation tracks.
    pub valid_ndcg10: f64,
    /// NDCG@10 on each validation track.
    pub valid_tracks: BTreeMap<String, f64>,
    pub seconds: f64,
    /// Predicted positions (training samples) in the epoch.
    pub samples: usize,
    /// Optimizer steps in the epoch.
    pub steps: usize,
    /// The learning rate of the epoch.
    pub learning_rate: f64,
    /// This process's peak resident memory so far, in MB (Linux; `None` elsewhere). Kept with
    /// the epoch so a finished run that is only re-evaluated still reports what training took.
    #[serde(default)]
    pub peak_rss_mb: Option<f64>,
}

/// Progress callbacks (the CLI draws bars; tests pass [`Silent`]).
pub trait Progress {
    fn epoch_start(&mut self, _epoch: usize, _batches: usize) {}
    fn batch(&mut self, _loss: f64) {}
    fn epoch_end(&mut self, _report: &EpochReport) {}
}

/// No progress output.
pub struct Silent;
impl Progress for Silent {}

/// What training needs: the catalogue, item text embeddings, histories and the split.
pub struct TrainInput<'a> {
    pub catalog: &'a Catalog,
    /// Row-major `[items, lm_dim]` text embeddings.
    pub lm: &'a [f32],
    /// Items whose ID embedding is trained (false: held out, cold).
    pub known: &'a [bool],
    pub histories: &'a [Vec<Event>],
    /// Per user, how many leading events are training data.
    pub train_len: &'a [usize],
    /// Validation queries (indexing `histories`).
    pub valid: &'a [Case],
    /// The tracks validation runs `valid` in; early stopping follows their mean NDCG@10.
    pub valid_tracks: &'a [Track],
}

/// A trained model (on the inference device) and how it got there.
pub struct Trained {
    pub model: SceneRec,
    pub config: ModelConfig,
    pub reports: Vec<EpochReport>,
    pub best_epoch: usize,
    pub best_valid: f64,
    pub seconds: f64,
    pub samples_per_s: f64,
    /// Optimizer steps over the whole run.
    pub steps: usize,
}

/// NDCG@10 of `model` (ranking as `config` says) on each of the input's validation tracks.
fn validate(
    model: &SceneRec,
    config: &ModelConfig,
    features: &ItemFeatures,
    setup: &EvalSetup<'_>,
    valid: &[Case],
    input: &TrainInput<'_>,
) -> Result<BTreeMap<String, f64>> {
    let mut ranker = model_ranker(model, config, features, input.histories);
    track_ndcg10(setup, input.valid_tracks, valid, input.histories, &mut ranker)
}

/// Trains from scratch, or resumes from `checkpoint` if it holds a run of the same config.
pub fn fit(
    cfg: &TrainConfig,
    input: &TrainInput<'_>,
    device: &Device,
    checkpoint: Option<&Checkpoint>,
    progress: &mut dyn Progress,
) -> Result<Trained> {
    cfg.validate()?;
    let mut mcfg = ModelConfig { rerank: cfg.rerank, ..cfg.model.for_catalog(input.catalog) };
    mcfg.validate()?;
    let train_device = device.clone().autodiff();
    let train_features = ItemFeatures::new(input.catalog, input.lm, mcfg.lm_dim, input.known, &train_device)?;
    let eval_features = ItemFeatures::new(input.catalog, input.lm, mcfg.lm_dim, input.known, device)?;
    let train_histories: Vec<Vec<Event>> =
        input.histories.iter().zip(input.train_len).map(|(h, &n)| h[..n].to_vec()).collect();
    let all_windows = windows(&train_histories, mcfg.max_len);
    if all_windows.is_empty() {
        return Err(Error::Data("no user has two training interactions: nothing to learn from".into()));
    }
    let valid: &[Case] = if cfg.valid_users > 0 && cfg.valid_users < input.valid.len() {
        &input.valid[..cfg.valid_users]
    } else {
        input.valid
    };
    let popularity = item_users(input.catalog.len(), input.histories, input.train_len);
    let setup = EvalSetup {
        catalog: input.catalog,
        histories: input.histories,
        item_users: &popularity,
        n_users: input.histories.len(),
        shelf: None,
        batch: 256,
    };
    let fingerprint = input.catalog.fingerprint();

    train_device.seed(cfg.seed);
    let mut model = SceneRec::new(&mcfg, &train_device)?;
    let mut optim = AdamConfig::new().init();
    let mut state = LoopState {
        config: cfg.clone(),
        epochs_done: 0,
        rng: Rng::new(cfg.seed),
        best_valid: f64::NEG_INFINITY,
        best_epoch: 0,
        learning_rate: cfg.learning_rate,
        reports: Vec::new(),
    };
    let mut best: Option<Vec<u8>> = None;
    if let Some(ck) = checkpoint.filter(|c| c.exists()) {
        let Resumed { state: s, weights, optimizer: optim_bytes, best: best_bytes } = ck.load(cfg)?;
        model = store::load(&weights, &train_device, Some((&mcfg, fingerprint)))?.0;
        optim = optim
            .from_bytes(Bytes::from_bytes_vec(optim_bytes))
            .map_err(|e| Error::Config(format!("optimizer checkpoint: {e}")))?;
        best = Some(best_bytes);
        state = s;
    }

    let loss_opts = cfg.loss_options(&mcfg);
    let plateau = |state: &LoopState| {
        let curve: Vec<f64> = state.reports.iter().map(|r| r.valid_ndcg10).collect();
        plateau_epochs(&curve, cfg.stop_window)
    };
    while state.epochs_done < cfg.epochs && (state.epochs_done == 0 || plateau(&state) < cfg.patience) {
        let epoch = state.epochs_done + 1;
        let t0 = Instant::now();
        train_device.seed(cfg.seed.wrapping_add(epoch as u64));
        let batches = epoch_batches(&all_windows, cfg.batch_size, cfg.min_epoch_steps, &mut state.rng);
        progress.epoch_start(epoch, batches.len());
        let (mut sums, mut samples) = ([0.0f64; 3], 0usize);
        for batch in &batches {
            let table = training_table(&model, &train_features, cfg.id_dropout, &mut state.rng);
            let loss = block_on(batch_loss(
                &model,
                table,
                &train_features.scenes,
                batch,
                mcfg.max_len,
                loss_opts,
                &mut state.rng,
                &train_device,
            ))?;
            let values = block_on(read_f32(burn::tensor::Tensor::cat(
                vec![loss.total.clone().detach(), loss.retrieval.detach(), loss.head.detach()],
                0,
            )))?;
            if values.iter().any(|v| !v.is_finite()) {
                return Err(Error::Backend(format!("loss became {values:?} at epoch {epoch}: lower the learning rate")));
            }
            let grads = GradientsParams::from_grads(loss.total.backward(), &model);
            model = optim.step(state.learning_rate, model, grads);
            for (s, v) in sums.iter_mut().zip(&values) {
                *s += *v as f64;
            }
            samples += loss.targets;
            progress.batch(values[0] as f64);
        }
        let valid_model = model.valid();
        let valid_tracks = validate(&valid_model, &mcfg, &eval_features, &setup, valid, input)?;
        let valid_ndcg10 = mean_ndcg10(&valid_tracks);
        let n = batches.len().max(1) as f64;
        let report = EpochReport {
            epoch,
            loss: sums[0] / n,
            retrieval_loss: sums[1] / n,
            head_loss: sums[2] / n,
            valid_ndcg10,
            valid_tracks,
            seconds: t0.elapsed().as_secs_f64(),
            samples,
            steps: batches.len(),
            learning_rate: state.learning_rate,
            peak_rss_mb: peak_rss_mb(),
        };
        progress.epoch_end(&report);
        state.reports.push(report);
        state.epochs_done = epoch;
        let improved = valid_ndcg10 > state.best_valid;
        if improved {
            state.best_valid = valid_ndcg10;
            state.best_epoch = epoch;
            best = Some(block_on(store::save(&valid_model, &mcfg, fingerprint, "pretrained"))?);
        } else {
            state.learning_rate *= cfg.lr_decay;
        }
        if let Some(ck) = checkpoint {
            let weights = block_on(store::save(&valid_model, &mcfg, fingerprint, "checkpoint"))?;
            let optim_bytes = optim.into_bytes().map_err(|e| Error::Config(format!("optimizer state: {e}")))?;
            ck.save(&state, &weights, &optim_bytes, if improved { best.as_deref() } else { None })?;
        }
    }
    let finishing = Instant::now();
    let best = best.ok_or_else(|| Error::Data("training ran no epoch".into()))?;
    let model = store::load(&best, device, Some((&mcfg, fingerprint)))?.0;
    // Re-ranking stays only if it beats retrieval alone on validation (ties go to retrieval).
    if model.head.is_some() && mcfg.rerank > 0 {
        let alone = ModelConfig { rerank: 0, ..mcfg.clone() };
        let alone_valid = mean_ndcg10(&validate(&model, &alone, &eval_features, &setup, valid, input)?);
        eprintln!(
            "validation NDCG@10: {:.4} re-ranked by the head, {alone_valid:.4} by retrieval alone; keeping {}",
            state.best_valid,
            if alone_valid >= state.best_valid { "retrieval alone" } else { "the head's re-ranking" }
        );
        if alone_valid >= state.best_valid {
            state.best_valid = alone_valid;
            mcfg = alone;
            if let Some(ck) = checkpoint {
                ck.save_best(&block_on(store::save(&model, &mcfg, fingerprint, "pretrained"))?)?;
            }
        }
    }
    let total_samples: usize = state.reports.iter().map(|r| r.samples).sum();
    let total_seconds: f64 = state.reports.iter().map(|r| r.seconds).sum();
    Ok(Trained {
        model,
        config: mcfg,
        best_epoch: state.best_epoch,
        best_valid: state.best_valid,
        samples_per_s: total_samples as f64 / total_seconds.max(1e-9),
        steps: state.reports.iter().map(|r| r.steps).sum(),
        reports: state.reports,
        seconds: total_seconds + finishing.elapsed().as_secs_f64(),
    })
}

/// Peak resident memory of this process so far, in MB (Linux; `None` elsewhere).
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
