//! On-device fine-tuning: one user's copy of the model learns from that user's own history.
//!
//! Each of the history's (most recent [`FINE_TUNE_SAMPLES`]) events is a sample, predicted from
//! the events before it, exactly as ranking predicts. What is tuned: the scene layers and the
//! fusion head — the user-facing layers. The item tower (shared knowledge of the catalogue) and
//! the shared sequence encoder stay fixed, so the encoder's state for each sample is computed
//! once when the run begins and every step trains only the small layers above it.
//!
//! A short history says little, so the tuned weights are held near the shared ones: the loss
//! adds `anchor / samples · ‖θ − θ₀‖²` (the shared weights as a prior, whose pull weakens as
//! the history grows), so a three-event history cannot be memorised into weights that rank
//! worse for everything else.

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::backend::read_f32;
use crate::data::Event;
use crate::data::batch::timed_history_batch;
use crate::model::{ItemTable, ModelConfig, SceneIndex, SceneRec};
use crate::rng::Rng;
use crate::train::loss::{LossOptions, user_loss};
use crate::{Error, Result};

/// Softmax columns of a fine-tuning step: the batch's targets plus random items, instead of
/// the whole catalogue. On a real ML-1M slice (tests/recommender.rs: 8 users, the default 30
/// steps of 64, learning rate 0.01) 1024 columns raised the mean held-out rank 103.6 → 81.1,
/// 256 columns only → 85.5.
const FINE_TUNE_COLUMNS: usize = 1024;

/// Fine-tuning learns from at most this many of the most recent events (one sample each).
pub const FINE_TUNE_SAMPLES: usize = 512;

/// Samples whose encoder states are computed together when fine-tuning starts (bounds memory).
const STATE_CHUNK: usize = 64;

/// Default strength of the pull toward the shared weights (see the module docs). Chosen by the
/// benchmark's `fine-tune-sweep` part (`scripts/bench-accuracy.sh fine-tune-sweep`): on the
/// validation split (the validation item held out, 1,000 users), the strength whose worst
/// after-over-before NDCG@10 over histories of 5 / 20 / all events, in-scene and agnostic, is
/// highest; see its figures in bench/results/accuracy.md. For the shipped model the worst cell
/// was 0.889 at 3, 0.932 at 10, 0.980 at 30, 0.999 at 100 and 0.987 at 300. Without the pull
/// every bucket lost (whole history, agnostic: 0.159 → 0.120, an earlier model).
pub const DEFAULT_ANCHOR: f64 = 100.0;

/// The largest [`FineTuneOptions::anchor`]. A stiffer pull holds the weights no closer: Adam's
/// steps are about the learning rate in size whatever the gradient, so they oscillate around the
/// shared weights instead (a 12-event ML-1M history, mean change of 200 items' scores after the
/// default 30 steps: 3.05 without the pull, 0.27 at 3, 0.044 at 30, 0.012 at 300, 0.070 at
/// 3,000, 0.080 at 10⁶).
pub const MAX_ANCHOR: f64 = 1000.0;

/// Fine-tuning knobs; the defaults suit one user's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct FineTuneOptions {
    pub steps: usize,
    /// Samples per step, drawn from the history's events.
    pub batch: usize,
    pub learning_rate: f64,
    pub seed: u64,
    /// Strength of the pull toward the shared weights (0: none; the module docs say why).
    pub anchor: f64,
}

impl Default for FineTuneOptions {
    fn default() -> Self {
        FineTuneOptions { steps: 30, batch: 64, learning_rate: 1e-2, seed: 0, anchor: DEFAULT_ANCHOR }
    }
}

/// Bounds of [`FineTuneOptions`]: a run of the most steps of the largest batches stays within a
/// browser tab's memory and minutes; a learning rate above 1 only diverges.
pub const MAX_STEPS: usize = 10_000;
pub const MAX_BATCH: usize = 4096;
pub const MAX_LEARNING_RATE: f64 = 1.0;

impl FineTuneOptions {
    /// Rejects options outside their bounds, naming the option.
    pub fn validate(&self) -> Result<()> {
        if !(1..=MAX_STEPS).contains(&self.steps) {
            return Err(Error::Input(format!("steps is {}; it must be from 1 to {MAX_STEPS}", self.steps)));
        }
        if !(1..=MAX_BATCH).contains(&self.batch) {
            return Err(Error::Input(format!("batch is {}; it must be from 1 to {MAX_BATCH}", self.batch)));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= MAX_LEARNING_RATE) {
            return Err(Error::Input(format!(
                "learningRate is {}; it must be above 0 and at most {MAX_LEARNING_RATE}",
                self.learning_rate
            )));
        }
        if !(0.0..=MAX_ANCHOR).contains(&self.anchor) {
            return Err(Error::Input(format!("anchor is {}; it must be from 0 to {MAX_ANCHOR}", self.anchor)));
        }
        Ok(())
    }
}

/// The loss after each fine-tuning step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FineTuneReport {
    pub losses: Vec<f32>,
    /// `false` when the progress callback asked to stop early.
    pub completed: bool,
}

/// A fine-tuning run in progress: call [`step`](FineTune::step) until [`done`](FineTune::done),
/// then take the weights with [`into_model`](FineTune::into_model).
pub struct FineTune {
    model: SceneRec,
    table: Tensor<2>,
    scenes: SceneIndex,
    any_scene: usize,
    rerank: usize,
    /// `[samples, dim]` encoder states before each sample's target (fixed: the encoder is not tuned).
    states: Tensor<2>,
    /// Each sample's target: item, and the scene it was seen in.
    targets: Vec<(i64, u16)>,
    /// The history, and where each sample's target is in it (its events before are `seen`).
    events: Vec<Event>,
    ends: Vec<usize>,
    tuned: Vec<ParamId>,
    /// The tuned parameters' shared values (flattened, in visiting order): the prior.
    anchor: Vec<Tensor<1>>,
    optim: burn::optim::ModuleOptimizer,
    rng: Rng,
    opts: FineTuneOptions,
    steps: usize,
    device: Device,
}

impl FineTune {
    /// Starts a run on validated `events` of a model (inference copy) and its item table.
    pub fn begin(
        model: &SceneRec,
        table: &ItemTable,
        scenes: &SceneIndex,
        config: &ModelConfig,
        events: &[Event],
        opts: &FineTuneOptions,
        device: &Device,
    ) -> Result<Self> {
        if events.len() < 2 {
            return Err(Error::Input("fine-tuning needs at least two interactions in the history".into()));
        }
        opts.validate()?;
        let max_len = config.max_len;
        let first = events.len().saturating_sub(FINE_TUNE_SAMPLES).max(1);
        let (mut states, mut targets) = (Vec::new(), Vec::new());
        let all_ends: Vec<usize> = (first..events.len()).collect();
        for ends in all_ends.chunks(STATE_CHUNK) {
            let inputs: Vec<&[Event]> = ends.iter().map(|&t| &events[t.saturating_sub(max_len)..t]).collect();
            // Each target was asked for at its own time.
            let nows: Vec<i64> = ends.iter().map(|&t| events[t].time).collect();
            let batch = timed_history_batch(&inputs, &nows, table.len(), max_len, device);
            states.push(model.query_states(table, &batch));
            targets.extend(ends.iter().map(|&t| (events[t].item as i64, events[t].scene)));
        }
        let train_device = device.clone().autodiff();
        train_device.seed(opts.seed);
        // `train` is the supported way back from an inference module to a trainable one.
        let model = model.clone().train();
        let tuned = tunable_params(&model);
        let anchor = tuned_values(&model, &tuned).into_iter().map(Tensor::detach).collect();
        Ok(FineTune {
            tuned,
            anchor,
            model,
            table: table.vectors.clone().autodiff().detach(),
            scenes: scenes.autodiff(),
            any_scene: config.any_scene(),
            rerank: config.rerank,
            states: Tensor::cat(states, 0).autodiff().detach(),
            targets,
            events: events.to_vec(),
            ends: all_ends,
            optim: AdamConfig::new().init(),
            rng: Rng::new(opts.seed),
            opts: opts.clone(),
            steps: 0,
            device: train_device,
        })
    }

    pub fn done(&self) -> bool {
        self.steps >= self.opts.steps
    }

    /// Steps this run takes in all.
    pub fn planned(&self) -> usize {
        self.opts.steps
    }

    /// Steps taken so far.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// One Adam step on `batch` samples drawn from the history; returns its loss.
    pub async fn step(&mut self) -> Result<f32> {
        let picks: Vec<usize> = (0..self.opts.batch).map(|_| self.rng.below(self.targets.len())).collect();
        let rows = Tensor::from_data(TensorData::new(picks.iter().map(|&i| i as i64).collect::<Vec<_>>(), [picks.len()]), &self.device);
        let targets: Vec<(i64, u16)> = picks.iter().map(|&i| self.targets[i]).collect();
        let seen: Vec<&[Event]> = picks.iter().map(|&i| &self.events[..self.ends[i]]).collect();
        // The head learns only where it re-ranks (a model whose training found re-ranking no
        // better than retrieval ranks without it).
        let opts = LossOptions {
            head_weight: if self.rerank > 0 { 0.5 } else { 0.0 },
            sampled: Some(FINE_TUNE_COLUMNS),
            any_scene: self.any_scene,
            rerank: self.rerank,
            exclude_seen: true,
            // The encoder's states are cached: nothing of it runs here.
            event_dropout: 0.0,
        };
        let states = self.states.clone().select(0, rows);
        let loss =
            user_loss(&self.model, self.table.clone(), &self.scenes, states, &targets, &seen, opts, &mut self.rng, &self.device).await?;
        let drift: Vec<Tensor<1>> = tuned_values(&self.model, &self.tuned)
            .into_iter()
            .zip(&self.anchor)
            .map(|(now, shared)| (now - shared.clone()).powi_scalar(2).sum())
            .collect();
        let total = loss.total + Tensor::cat(drift, 0).sum() * (self.opts.anchor as f32 / self.targets.len() as f32);
        let value = read_f32(total.clone().detach()).await?[0];
        if !value.is_finite() {
            return Err(Error::Backend(format!("fine-tuning diverged (loss {value}); try a lower learning rate")));
        }
        let mut grads = total.backward();
        let grads = GradientsParams::from_params(&mut grads, &self.model, &self.tuned);
        self.model = self.optim.step(self.opts.learning_rate, self.model.clone(), grads);
        self.steps += 1;
        Ok(value)
    }

    /// The tuned model, for inference.
    pub fn into_model(self) -> SceneRec {
        self.model.valid()
    }
}

/// Ids of the parameters fine-tuning updates: the scene layers and the fusion head (what a
/// personal weights file holds).
pub fn tunable_params(model: &SceneRec) -> Vec<ParamId> {
    struct Ids(Vec<ParamId>);
    impl ModuleVisitor for Ids {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.push(param.id);
        }
    }
    let mut ids = Ids(Vec::new());
    model.interest.visit_scene_layers(&mut ids);
    if let Some(head) = &model.head {
        head.visit(&mut ids);
    }
    ids.0
}

/// The current values of the parameters `ids`, flattened, in visiting order.
fn tuned_values(model: &SceneRec, ids: &[ParamId]) -> Vec<Tensor<1>> {
    struct Values<'a> {
        ids: &'a [ParamId],
        out: Vec<Tensor<1>>,
    }
    impl ModuleVisitor for Values<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if self.ids.contains(&param.id) {
                let value = param.val();
                let n = value.shape().num_elements();
                self.out.push(value.reshape([n]));
            }
        }
    }
    let mut values = Values { ids, out: Vec::new() };
    model.visit(&mut values);
    values.out
}
