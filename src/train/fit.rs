//! The training loop: epochs of shuffled windows, Adam, validation NDCG@10 after every epoch,
//! early stopping on it, and a checkpoint after every epoch.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Bytes, Device};
use serde::{Deserialize, Serialize};
use std::time::Instant;

use super::checkpoint::{Checkpoint, LoopState, Resumed};
use super::config::TrainConfig;
use super::loss::{LossOptions, batch_loss, training_table};
use super::samples::{epoch_batches, windows};
use crate::backend::{block_on, read_f32};
use crate::data::protocol::Case;
use crate::data::{Catalog, Event};
use crate::eval::{EvalSetup, evaluate, item_users, model_ranker};
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
    pub valid_ndcg10: f64,
    pub seconds: f64,
    /// Predicted positions (training samples) in the epoch.
    pub samples: usize,
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
    let mcfg = cfg.model.for_catalog(input.catalog);
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
        stale: 0,
        reports: Vec::new(),
    };
    let mut best: Option<Vec<u8>> = None;
    if let Some(ck) = checkpoint.filter(|c| c.exists()) {
        let Resumed { state: s, weights, optimizer: optim_bytes, best: best_bytes } = ck.load(cfg)?;
        model = store::load(&weights, &train_device, Some((&mcfg, &fingerprint)))?.0;
        optim = optim
            .from_bytes(Bytes::from_bytes_vec(optim_bytes))
            .map_err(|e| Error::Config(format!("optimizer checkpoint: {e}")))?;
        best = Some(best_bytes);
        state = s;
    }

    let loss_opts = LossOptions { head_weight: cfg.head_weight, sampled: None };
    let started = Instant::now();
    while state.epochs_done < cfg.epochs && (state.stale < cfg.patience || state.epochs_done == 0) {
        let epoch = state.epochs_done + 1;
        let t0 = Instant::now();
        train_device.seed(cfg.seed.wrapping_add(epoch as u64));
        let batches = epoch_batches(&all_windows, cfg.batch_size, &mut state.rng);
        progress.epoch_start(epoch, batches.len());
        let (mut sums, mut samples) = ([0.0f64; 3], 0usize);
        for batch in &batches {
            let table = training_table(&model, &train_features, cfg.id_dropout, &mut state.rng);
            let loss = batch_loss(&model, table, batch, mcfg.max_len, loss_opts, &mut state.rng, &train_device);
            let values = block_on(read_f32(burn::tensor::Tensor::cat(
                vec![loss.total.clone().detach(), loss.retrieval.detach(), loss.head.detach()],
                0,
            )))?;
            if values.iter().any(|v| !v.is_finite()) {
                return Err(Error::Backend(format!("loss became {values:?} at epoch {epoch}: lower the learning rate")));
            }
            let grads = GradientsParams::from_grads(loss.total.backward(), &model);
            model = optim.step(cfg.learning_rate, model, grads);
            for (s, v) in sums.iter_mut().zip(&values) {
                *s += *v as f64;
            }
            samples += loss.targets;
            progress.batch(values[0] as f64);
        }
        let valid_model = model.valid();
        let mut ranker = model_ranker(&valid_model, &eval_features, input.histories, cfg.rerank, mcfg.max_len);
        let valid_ndcg10 = evaluate(&setup, valid, &mut ranker)?.ndcg10();
        let n = batches.len().max(1) as f64;
        let report = EpochReport {
            epoch,
            loss: sums[0] / n,
            retrieval_loss: sums[1] / n,
            head_loss: sums[2] / n,
            valid_ndcg10,
            seconds: t0.elapsed().as_secs_f64(),
            samples,
        };
        progress.epoch_end(&report);
        state.reports.push(report);
        state.epochs_done = epoch;
        let improved = valid_ndcg10 > state.best_valid;
        if improved {
            state.best_valid = valid_ndcg10;
            state.best_epoch = epoch;
            state.stale = 0;
            best = Some(block_on(store::save(&valid_model, &mcfg, &fingerprint, "pretrained"))?);
        } else {
            state.stale += 1;
        }
        if let Some(ck) = checkpoint {
            let weights = block_on(store::save(&valid_model, &mcfg, &fingerprint, "checkpoint"))?;
            let optim_bytes = optim.into_bytes().map_err(|e| Error::Config(format!("optimizer state: {e}")))?;
            ck.save(&state, &weights, &optim_bytes, if improved { best.as_deref() } else { None })?;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let best = best.ok_or_else(|| Error::Data("training ran no epoch".into()))?;
    let model = store::load(&best, device, Some((&mcfg, &fingerprint)))?.0;
    let total_samples: usize = state.reports.iter().map(|r| r.samples).sum();
    let total_seconds: f64 = state.reports.iter().map(|r| r.seconds).sum();
    Ok(Trained {
        model,
        config: mcfg,
        best_epoch: state.best_epoch,
        best_valid: state.best_valid,
        samples_per_s: total_samples as f64 / total_seconds.max(1e-9),
        reports: state.reports,
        seconds,
    })
}
