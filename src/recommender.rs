//! The on-device recommender: what the browser runs, free of any wasm dependency so that it is
//! tested natively. It holds one user's personal copy of the model, ranks items for a scene (or
//! the whole catalogue) from that user's history, fine-tunes on it ([`crate::fine_tune`]), and
//! exports the personal weights.
//!
//! Every input is validated and every failure is an [`Error`]; tensor reads are async
//! ([`read_f32`]) because synchronous reads panic under WebGPU in wasm.

use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::backend::read_f32;
use crate::data::batch::history_batch;
use crate::data::{Action, Catalog, Event};
use crate::model::{ItemFeatures, ItemTable, ModelConfig, SceneIndex, SceneRec};
use crate::rank::{Ranking, because, finite, rank_batch};
use crate::store::{self, Header};
pub use crate::fine_tune::FineTune;
pub use crate::fine_tune::{FineTuneOptions, FineTuneReport};
use crate::{Error, Result};

/// Longest history accepted (the encoder reads the most recent `max_len` events of it).
pub const MAX_HISTORY: usize = 10_000;

/// One interaction as the page records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEvent {
    pub item_id: String,
    pub scene: String,
    /// `"like"` or `"interact"` (the default).
    #[serde(default)]
    pub action: Option<String>,
    /// Seconds since the epoch.
    pub time: f64,
}

impl HistoryEvent {
    /// The page-side form of a data set event.
    pub fn from_event(e: &Event, catalog: &Catalog) -> Self {
        HistoryEvent {
            item_id: catalog.items[e.item as usize].id.clone(),
            scene: catalog.scenes[e.scene as usize].clone(),
            action: Some(match e.action { Action::Like => "like", Action::Interact => "interact" }.into()),
            time: e.time as f64,
        }
    }
}

/// A history as columns of catalogue indices, one entry per event: how the browser passes it
/// (typed arrays, resolved from ids by the TypeScript layer), so a long history crosses the wasm
/// boundary as four copies instead of one JS object per event.
#[derive(Debug, Clone, Copy)]
pub struct HistoryColumns<'a> {
    pub items: &'a [u32],
    pub scenes: &'a [u32],
    /// 0: interact, 1: like ([`Action`]'s codes).
    pub actions: &'a [u8],
    /// Seconds since the epoch.
    pub times: &'a [f64],
}

/// A recommended item by catalogue index, with the history event that explains it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranked {
    pub item: usize,
    pub score: f32,
    /// The explaining event's item and scene.
    pub because: Option<(u32, u16)>,
}

/// Why an item was recommended: the most similar item of the history, and where it was seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Because {
    pub item_id: String,
    pub scene: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recommendation {
    pub item_id: String,
    pub title: String,
    pub score: f32,
    pub because: Option<Because>,
}

#[derive(Clone)]
pub struct Recommender {
    catalog: Catalog,
    header: Header,
    /// Inference copy of the model.
    model: SceneRec,
    /// The item table (the item tower is not fine-tuned, so it never changes).
    table: ItemTable,
    host_table: Vec<f32>,
    /// The items by home scene (fine-tuning's scene softmax reads it).
    scenes: SceneIndex,
    device: Device,
}

impl Recommender {
    /// Loads exported weights, catalogue JSON and item text embeddings (`item_text.f32`).
    pub async fn load(weights: &[u8], catalog_json: &str, item_text: &[u8], device: &Device) -> Result<Self> {
        let catalog = Catalog::from_json(catalog_json)?;
        // The text width comes from the text file and the catalogue, so the weights' own claim
        // is checked against something they do not control.
        let row = catalog.len().checked_mul(4).filter(|&r| r > 0);
        let lm_dim = match row {
            Some(r) if item_text.len().is_multiple_of(r) => item_text.len() / r,
            _ => {
                return Err(Error::Input(format!(
                    "item text embeddings: {} bytes is not a whole number of f32 rows for {} items",
                    item_text.len(),
                    catalog.len()
                )));
            }
        };
        // The shapes the weights must have (load compares items, scenes, genres and text width).
        let expected = ModelConfig { lm_dim, ..ModelConfig::default() }.for_catalog(&catalog);
        let (model, header) = store::load(weights, device, Some((&expected, &catalog.fingerprint())))?;
        let lm: Vec<f32> = item_text.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        Self::new(model, header, catalog, &lm, device).await
    }

    /// A recommender over an already loaded model; `lm` is row-major `[items, lm_dim]`.
    pub async fn new(model: SceneRec, header: Header, catalog: Catalog, lm: &[f32], device: &Device) -> Result<Self> {
        let features = ItemFeatures::new(&catalog, lm, header.model.lm_dim, &vec![true; catalog.len()], device)?;
        let table = model.item_table(&features, None);
        let host_table = read_f32(table.vectors.clone()).await?;
        let scenes = features.scenes;
        Ok(Recommender { catalog, header, model, table, host_table, scenes, device: device.clone() })
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn config(&self) -> &ModelConfig {
        &self.header.model
    }

    fn scene(&self, name: &str) -> Result<u16> {
        self.catalog.scene_index(name).map(|s| s as u16).ok_or_else(|| {
            Error::Input(format!("unknown scene `{name}` (scenes: {})", self.catalog.scenes.join(", ")))
        })
    }

    fn item(&self, id: &str, what: &str) -> Result<usize> {
        self.catalog.item_index(id).ok_or_else(|| Error::Input(format!("unknown item `{id}` in {what}")))
    }

    /// Validates a history and turns it into events, in time order.
    pub fn events(&self, history: &[HistoryEvent]) -> Result<Vec<Event>> {
        check_len(history.len())?;
        let (mut items, mut scenes, mut actions, mut times) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (i, h) in history.iter().enumerate() {
            actions.push(match h.action.as_deref() {
                None | Some("interact") | Some("click") => Action::Interact as u8,
                Some("like") => Action::Like as u8,
                Some(other) => return Err(Error::Input(format!("history[{i}].action `{other}` is not `like` or `interact`"))),
            });
            items.push(self.item(&h.item_id, &format!("history[{i}]"))? as u32);
            scenes.push(self.scene(&h.scene)? as u32);
            times.push(h.time);
        }
        self.events_from(HistoryColumns { items: &items, scenes: &scenes, actions: &actions, times: &times })
    }

    /// Validates a history given as catalogue indices and turns it into events, in time order.
    pub fn events_from(&self, h: HistoryColumns<'_>) -> Result<Vec<Event>> {
        let n = h.items.len();
        check_len(n)?;
        if h.scenes.len() != n || h.actions.len() != n || h.times.len() != n {
            return Err(Error::Input(format!(
                "history columns differ in length: {n} items, {} scenes, {} actions, {} times",
                h.scenes.len(),
                h.actions.len(),
                h.times.len()
            )));
        }
        let mut events = Vec::with_capacity(n);
        for i in 0..n {
            if !h.times[i].is_finite() {
                return Err(Error::Input(format!("history[{i}].time is {}, not a number of seconds", h.times[i])));
            }
            events.push(Event {
                item: self.item_at(h.items[i] as usize, &format!("history[{i}]"))? as u32,
                scene: self.scene_at(h.scenes[i] as usize)?,
                action: Action::from_code(h.actions[i]).ok_or_else(|| {
                    Error::Input(format!("history[{i}].action code {} is not 0 (interact) or 1 (like)", h.actions[i]))
                })?,
                time: h.times[i] as i64,
                rating: None,
            });
        }
        events.sort_by_key(|e| e.time);
        Ok(events)
    }

    /// The query scene for a scene index, or "any scene" for `None`.
    fn query_scene(&self, scene: Option<usize>) -> Result<u16> {
        match scene {
            Some(s) => self.scene_at(s),
            None => Ok(self.header.model.any_scene() as u16),
        }
    }

    fn scene_at(&self, s: usize) -> Result<u16> {
        let n = self.catalog.scenes.len();
        if s < n { Ok(s as u16) } else { Err(Error::Input(format!("scene index {s} is out of range ({n} scenes)"))) }
    }

    fn item_at(&self, i: usize, what: &str) -> Result<usize> {
        let n = self.catalog.len();
        if i < n { Ok(i) } else { Err(Error::Input(format!("item index {i} in {what} is out of range ({n} items)"))) }
    }

    /// The top `k` items of `scene` (`None`: of the whole catalogue, ranked with the "any
    /// scene" query) for this history, excluding the history's items and `exclude`, each with
    /// its fusion score and an explanation.
    pub async fn recommend(
        &self,
        history: &[HistoryEvent],
        scene: Option<&str>,
        k: usize,
        exclude: &[String],
    ) -> Result<Vec<Recommendation>> {
        let events = self.events(history)?;
        let exclude: Vec<usize> = exclude.iter().map(|id| self.item(id, "exclude")).collect::<Result<_>>()?;
        let scene = scene.map(|s| self.scene(s).map(usize::from)).transpose()?;
        let ranked = self.recommend_events(&events, scene, k, &exclude).await?;
        let (items, scenes) = (&self.catalog.items, &self.catalog.scenes);
        Ok(ranked
            .into_iter()
            .map(|r| Recommendation {
                item_id: items[r.item].id.clone(),
                title: items[r.item].title.clone(),
                score: r.score,
                because: r.because.map(|(item, scene)| Because {
                    item_id: items[item as usize].id.clone(),
                    scene: scenes[scene as usize].clone(),
                }),
            })
            .collect())
    }

    /// [`recommend`](Recommender::recommend) by catalogue indices: validated `events` (from
    /// [`events`](Recommender::events) or [`events_from`](Recommender::events_from)), scene and
    /// excluded items.
    pub async fn recommend_events(&self, events: &[Event], scene: Option<usize>, k: usize, exclude: &[usize]) -> Result<Vec<Ranked>> {
        if k == 0 {
            return Err(Error::Input("k must be at least 1".into()));
        }
        // The head re-ranks the model's depth, or all k when more are asked for.
        let rerank = match self.header.model.rerank {
            0 => 0,
            depth => k.max(depth),
        };
        let top = self.ranking(events, scene, exclude, rerank).await?.top(k);
        let items: Vec<usize> = top.iter().map(|&(i, _)| i).collect();
        let reasons = because(&self.host_table, self.header.model.dim, events, &items);
        Ok(top
            .into_iter()
            .zip(reasons)
            .map(|((item, score), reason)| Ranked { item, score, because: reason.map(|e| (e.item, e.scene)) })
            .collect())
    }

    /// The whole ranking behind [`recommend_events`](Recommender::recommend_events): every
    /// candidate (the scene's items, or all for `None`, minus the history and `exclude`) scored,
    /// the best `rerank` re-ranked by the fusion head.
    pub async fn ranking(&self, events: &[Event], scene: Option<usize>, exclude: &[usize], rerank: usize) -> Result<Ranking> {
        let query = self.query_scene(scene)?;
        let mut excluded = vec![false; self.catalog.len()];
        for e in events {
            excluded[e.item as usize] = true;
        }
        for &i in exclude {
            excluded[self.item_at(i, "exclude")?] = true;
        }
        if scene.is_some() {
            for (i, item) in self.catalog.items.iter().enumerate() {
                excluded[i] |= item.scene != query;
            }
        }
        let batch = history_batch(&[events], self.catalog.len(), self.header.model.max_len, &self.device);
        let mut rankings = rank_batch(&self.model, &self.table, &batch, &[query], |_, i| excluded[i], rerank).await?;
        rankings.pop().ok_or_else(|| Error::Backend("ranking returned no result".into()))
    }

    /// Scores of `items` for this history in `scene` (`None`: "any scene"), as ranking scores them.
    pub async fn score(&self, history: &[HistoryEvent], scene: Option<&str>, items: &[String]) -> Result<Vec<f32>> {
        let events = self.events(history)?;
        let scene = scene.map(|s| self.scene(s).map(usize::from)).transpose()?;
        let idx: Vec<usize> = items.iter().map(|id| self.item(id, "items")).collect::<Result<_>>()?;
        self.score_events(&events, scene, &idx).await
    }

    /// [`score`](Recommender::score) by catalogue indices.
    pub async fn score_events(&self, events: &[Event], scene: Option<usize>, items: &[usize]) -> Result<Vec<f32>> {
        let s = self.query_scene(scene)?;
        if items.len() > self.catalog.len() {
            return Err(Error::Input(format!(
                "items lists {} ids; at most {} (the catalogue's size) can be scored at once",
                items.len(),
                self.catalog.len()
            )));
        }
        let idx: Vec<i64> = items.iter().map(|&i| self.item_at(i, "items").map(|i| i as i64)).collect::<Result<_>>()?;
        if idx.is_empty() {
            return Ok(Vec::new());
        }
        let batch = history_batch(&[events], self.catalog.len(), self.header.model.max_len, &self.device);
        let scene_t = Tensor::from_data(TensorData::new(vec![s as i64], [1]), &self.device);
        let user = self.model.user_vectors(&self.table, &batch, scene_t);
        let m = idx.len();
        let rows = Tensor::from_data(TensorData::new(vec![0i64; m], [m]), &self.device);
        let scenes = Tensor::from_data(TensorData::new(vec![s as i64; m], [m]), &self.device);
        let items_t = Tensor::from_data(TensorData::new(idx, [m]), &self.device);
        let (users, items) = (user.select(0, rows), self.table.vectors.clone().select(0, items_t));
        // The score ranking gives: the fusion head's when the model re-ranks with it, else
        // retrieval's dot product.
        let logits = if self.header.model.rerank > 0 {
            self.model.fuse(users, items, scenes)
        } else {
            (users * items).sum_dim(1).reshape([m])
        };
        finite(read_f32(logits).await?)
    }

    /// Fine-tunes on this history, calling `progress(step, loss)` after every step; returning
    /// `false` stops early. The tuned weights are adopted only when the run completes, so an
    /// interrupted run leaves the previous weights in place. (The browser drives
    /// [`FineTune`] step by step instead, yielding to the event loop in between.)
    pub async fn fine_tune(
        &mut self,
        history: &[HistoryEvent],
        opts: &FineTuneOptions,
        mut progress: impl FnMut(usize, f32) -> bool,
    ) -> Result<FineTuneReport> {
        let mut run = self.begin_fine_tune(history, opts)?;
        let mut report = FineTuneReport { losses: Vec::new(), completed: true };
        while !run.done() {
            let loss = run.step().await?;
            report.losses.push(loss);
            if !progress(report.losses.len(), loss) {
                report.completed = false;
                return Ok(report);
            }
        }
        self.adopt(run);
        Ok(report)
    }

    /// Starts fine-tuning on this history (see [`crate::fine_tune`] for what is learned and
    /// tuned). Ranking keeps using the current weights until [`adopt`].
    ///
    /// [`adopt`]: Recommender::adopt
    pub fn begin_fine_tune(&self, history: &[HistoryEvent], opts: &FineTuneOptions) -> Result<FineTune> {
        self.begin_fine_tune_events(&self.events(history)?, opts)
    }

    /// [`begin_fine_tune`](Recommender::begin_fine_tune) on validated events.
    pub fn begin_fine_tune_events(&self, events: &[Event], opts: &FineTuneOptions) -> Result<FineTune> {
        FineTune::begin(&self.model, &self.table, &self.scenes, &self.header.model, events, opts, &self.device)
    }

    /// Makes a fine-tuning run's weights the ones this recommender ranks with.
    pub fn adopt(&mut self, run: FineTune) {
        self.model = run.into_model();
    }

    /// The current (possibly fine-tuned) weights, loadable with [`Recommender::load`].
    pub async fn export_weights(&self) -> Result<Vec<u8>> {
        store::save(&self.model, &self.header.model, &self.header.catalog, "personal").await
    }
}

/// A history must have at least one event and at most [`MAX_HISTORY`].
fn check_len(n: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::Input("the history is empty: record at least one interaction first".into()));
    }
    if n > MAX_HISTORY {
        return Err(Error::Input(format!("the history has {n} events; at most {MAX_HISTORY} are accepted")));
    }
    Ok(())
}
