//! The on-device recommender: what the browser runs, free of any wasm dependency so that it is
//! tested natively. It holds one user's personal copy of the model, ranks items for a scene (or
//! the whole catalogue) from that user's history, fine-tunes on it ([`crate::fine_tune`]), and
//! exports the personal weights.
//!
//! Every input is validated and every failure is an [`Error`]; tensor reads are async
//! ([`read_f32`]) because synchronous reads panic under WebGPU in wasm.

use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::backend::read_f32;
use crate::data::batch::{history_batch, timed_history_batch};
use crate::data::{Action, Catalog, Event};
use crate::model::{ItemFeatures, ItemTable, ModelConfig, SceneIndex, SceneRec};
use crate::data::catalog::Item;
use crate::rank::{Ranking, because, finite, rerank_heads};
use crate::rng::Rng;
use crate::vectors::{Encoding, ItemVectors};
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
            item_id: catalog.id(e.item as usize).to_string(),
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
    pub score: f32,
    pub because: Option<Because>,
}

/// An item added on the device ([`Recommender::add_items`]): a new product the pretrained
/// model has never seen, ranked from its text embedding, genres and scene.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewItem {
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    pub scene: String,
    #[serde(default)]
    pub genres: Vec<String>,
}

/// Fine-tuning reads the item vectors of at most this many items: the user's own and a uniform
/// sample of the rest (all of them in a smaller catalogue). Its softmax draws
/// [`crate::fine_tune`]'s columns from them, so a uniform sample of a uniform sample keeps the
/// same distribution, while a million-item catalogue is never dequantised whole (8 MB here
/// instead of 256 MB at width 64).
const FINE_TUNE_POOL: usize = 32_768;

#[derive(Clone)]
pub struct Recommender {
    catalog: Catalog,
    header: Header,
    /// Inference copy of the model (without the item ID table when loaded from an export).
    model: SceneRec,
    /// Every item's vector (the item tower's output; the tower is not fine-tuned, so they never
    /// change), quantised: retrieval scores from it directly, and the encoder, the fusion head
    /// and fine-tuning dequantise the rows they need.
    vectors: ItemVectors,
    device: Device,
}

impl Recommender {
    /// Loads an export: weights (the user-side layers; a full checkpoint works too), with a
    /// user's `personal` weights ([`Recommender::export_weights`]) put in when given, the
    /// engine's catalogue (`catalog.bin`, [`Catalog::to_bin`]: ids and scenes, no titles) and
    /// the quantised item vectors ([`crate::vectors`]).
    pub async fn load(weights: &[u8], personal: Option<&[u8]>, catalog: Vec<u8>, item_vectors: Vec<u8>, device: &Device) -> Result<Self> {
        let catalog = Catalog::from_bin(catalog)?;
        let overlaid = personal.map(|p| store::overlay(weights, p)).transpose()?;
        let (model, header) = store::load_for_catalog(overlaid.as_deref().unwrap_or(weights), device, &catalog)?;
        let vectors = ItemVectors::from_bytes(item_vectors, catalog.len(), header.model.dim, catalog.fingerprint())?;
        Ok(Recommender { catalog, header, model, vectors, device: device.clone() })
    }

    /// A recommender over an already loaded model with its ID table; `lm` is row-major
    /// `[items, lm_dim]`. Its item vectors are quantised as a default export's are, so it
    /// ranks as the browser does.
    pub async fn new(model: SceneRec, header: Header, catalog: Catalog, lm: &[f32], device: &Device) -> Result<Self> {
        let vectors = item_vectors(&model, &header.model, &catalog, lm, Encoding::DEFAULT, device).await?;
        Ok(Recommender { catalog, header, model, vectors, device: device.clone() })
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

    /// A request's time (`now`, seconds since the epoch) as the model reads it: `None` is
    /// "unknown", which models with [`ModelConfig::query_time`] are trained on too; others
    /// ignore the time either way.
    pub fn request_time(now: Option<f64>) -> Result<Option<i64>> {
        match now {
            Some(t) if !t.is_finite() => Err(Error::Input(format!("now is {t}, not a number of seconds"))),
            t => Ok(t.map(|t| t as i64)),
        }
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
    /// its fusion score and an explanation, as asked at time `now` (see
    /// [`request_time`](Recommender::request_time)).
    pub async fn recommend(
        &self,
        history: &[HistoryEvent],
        scene: Option<&str>,
        k: usize,
        exclude: &[String],
        now: Option<f64>,
    ) -> Result<Vec<Recommendation>> {
        let events = self.events(history)?;
        let exclude: Vec<usize> = exclude.iter().map(|id| self.item(id, "exclude")).collect::<Result<_>>()?;
        let scene = scene.map(|s| self.scene(s).map(usize::from)).transpose()?;
        let ranked = self.recommend_events(&events, scene, k, &exclude, Self::request_time(now)?).await?;
        let (catalog, scenes) = (&self.catalog, &self.catalog.scenes);
        Ok(ranked
            .into_iter()
            .map(|r| Recommendation {
                item_id: catalog.id(r.item).to_string(),
                score: r.score,
                because: r.because.map(|(item, scene)| Because {
                    item_id: catalog.id(item as usize).to_string(),
                    scene: scenes[scene as usize].clone(),
                }),
            })
            .collect())
    }

    /// [`recommend`](Recommender::recommend) by catalogue indices: validated `events` (from
    /// [`events`](Recommender::events) or [`events_from`](Recommender::events_from)), scene and
    /// excluded items, and the request time in whole seconds.
    pub async fn recommend_events(
        &self,
        events: &[Event],
        scene: Option<usize>,
        k: usize,
        exclude: &[usize],
        now: Option<i64>,
    ) -> Result<Vec<Ranked>> {
        if k == 0 {
            return Err(Error::Input("k must be at least 1".into()));
        }
        // The head re-ranks the model's depth, or all k when more are asked for.
        let rerank = match self.header.model.rerank {
            0 => 0,
            depth => k.max(depth),
        };
        let top = self.ranking(events, scene, exclude, rerank, now).await?.top(k);
        let items: Vec<usize> = top.iter().map(|&(i, _)| i).collect();
        let reasons = because(&self.vectors, events, &items);
        Ok(top
            .into_iter()
            .zip(reasons)
            .map(|((item, score), reason)| Ranked { item, score, because: reason.map(|e| (e.item, e.scene)) })
            .collect())
    }

    /// The whole ranking behind [`recommend_events`](Recommender::recommend_events): every
    /// candidate (the scene's items, or all for `None`, minus the history and `exclude`) scored,
    /// the best `rerank` re-ranked by the fusion head.
    pub async fn ranking(
        &self,
        events: &[Event],
        scene: Option<usize>,
        exclude: &[usize],
        rerank: usize,
        now: Option<i64>,
    ) -> Result<Ranking> {
        let query = self.query_scene(scene)?;
        let mut excluded = vec![false; self.catalog.len()];
        for e in events {
            excluded[e.item as usize] = true;
        }
        for &i in exclude {
            excluded[self.item_at(i, "exclude")?] = true;
        }
        if scene.is_some() {
            for (i, x) in excluded.iter_mut().enumerate() {
                *x |= !self.catalog.in_scene(i, query);
            }
        }
        let (user, scene_t) = self.user_vector(events, query, now);
        let scores = finite(self.vectors.scores(&read_f32(user.clone()).await?))?;
        let mut rankings = [Ranking::from_scores(scores, |i| excluded[i], rerank)];
        rerank_heads(&self.model, user, scene_t, &mut rankings, |items| self.rows(items.into_iter().map(|i| i as usize))).await?;
        let [ranking] = rankings;
        Ok(ranking)
    }

    /// `[1, dim]` interest vector of a history for query scene `query` at time `now`, with the
    /// query as a tensor. The encoder reads only the history's own item vectors: a small table of
    /// them, with the events renumbered into it.
    fn user_vector(&self, events: &[Event], query: u16, now: Option<i64>) -> (Tensor<2>, Tensor<1, Int>) {
        let (items, local) = renumber(events);
        let table = ItemTable::new(self.rows(items));
        let max_len = self.header.model.max_len;
        let batch = match now {
            Some(now) => timed_history_batch(&[&local], &[now], table.len(), max_len, &self.device),
            None => history_batch(&[&local], table.len(), max_len, &self.device),
        };
        let scene_t = Tensor::from_data(TensorData::new(vec![query as i64], [1]), &self.device);
        (self.model.user_vectors(&table, &batch, scene_t.clone()), scene_t)
    }

    /// Dequantised vectors of `items` as `[items, dim]` on the device.
    fn rows(&self, items: impl IntoIterator<Item = usize>) -> Tensor<2> {
        let values = self.vectors.rows(items);
        let dim = self.vectors.dim();
        let n = values.len() / dim.max(1);
        Tensor::from_data(TensorData::new(values, [n, dim]), &self.device)
    }

    /// Scores of `items` for this history in `scene` (`None`: "any scene") at time `now`, as
    /// ranking scores them.
    pub async fn score(&self, history: &[HistoryEvent], scene: Option<&str>, items: &[String], now: Option<f64>) -> Result<Vec<f32>> {
        let events = self.events(history)?;
        let scene = scene.map(|s| self.scene(s).map(usize::from)).transpose()?;
        let idx: Vec<usize> = items.iter().map(|id| self.item(id, "items")).collect::<Result<_>>()?;
        self.score_events(&events, scene, &idx, Self::request_time(now)?).await
    }

    /// [`score`](Recommender::score) by catalogue indices, at `now` in whole seconds.
    pub async fn score_events(&self, events: &[Event], scene: Option<usize>, items: &[usize], now: Option<i64>) -> Result<Vec<f32>> {
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
        let (user, _) = self.user_vector(events, s, now);
        let m = idx.len();
        let rows = Tensor::from_data(TensorData::new(vec![0i64; m], [m]), &self.device);
        let scenes = Tensor::from_data(TensorData::new(vec![s as i64; m], [m]), &self.device);
        let (users, items) = (user.select(0, rows), self.rows(idx.iter().map(|&i| i as usize)));
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
    ///
    /// The run sees the item vectors of a pool of at most [`FINE_TUNE_POOL`] items (the history's
    /// and a uniform sample of the rest), with the events renumbered into it.
    pub fn begin_fine_tune_events(&self, events: &[Event], opts: &FineTuneOptions) -> Result<FineTune> {
        opts.validate()?;
        let n = self.catalog.len();
        let (mut pool, local) = renumber(events);
        if n <= FINE_TUNE_POOL {
            // The whole catalogue: the history's items first, then the others in order.
            let mut taken = vec![false; n];
            pool.iter().for_each(|&i| taken[i] = true);
            pool.extend((0..n).filter(|&i| !taken[i]));
        } else {
            let mut taken: std::collections::HashSet<usize> = pool.iter().copied().collect();
            let mut rng = Rng::new(opts.seed ^ 0x5ce4_e5ec);
            while pool.len() < FINE_TUNE_POOL {
                let i = rng.below(n);
                if taken.insert(i) {
                    pool.push(i);
                }
            }
        }
        let homes = pool.iter().map(|&i| self.catalog.scene_of(i)).collect();
        let scenes = SceneIndex::from_homes(homes, self.catalog.scenes.len(), self.catalog.scene_kind(), &self.device);
        let table = ItemTable::new(self.rows(pool));
        FineTune::begin(&self.model, &table, &scenes, &self.header.model, &local, opts, &self.device)
    }

    /// Makes a fine-tuning run's weights the ones this recommender ranks with.
    pub fn adopt(&mut self, run: FineTune) {
        self.model = run.into_model();
    }

    /// Adds new items to the catalogue (cold start on the device): each one's vector comes from
    /// the item tower's text path, its text embedding (`text`, row-major `[items, lm_dim]`, from
    /// the same language model the catalogue's were), genres and scene, as for an item never
    /// seen in training. They rank at once in every later call. All or nothing: on an error
    /// nothing is added.
    pub async fn add_items(&mut self, items: &[NewItem], text: &[f32]) -> Result<()> {
        let config = &self.header.model;
        if !config.reads_text() {
            return Err(Error::Input("this model has no text input, so it cannot rank new items".into()));
        }
        if items.is_empty() {
            return Err(Error::Input("no items to add".into()));
        }
        if text.len() != items.len().saturating_mul(config.lm_dim) {
            return Err(Error::Input(format!(
                "{} text embedding values for {} items; each item needs {} (the model's text width)",
                text.len(),
                items.len(),
                config.lm_dim
            )));
        }
        let mut added = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let genres = item
                .genres
                .iter()
                .map(|g| {
                    let known = self.catalog.genres.iter().position(|x| x == g);
                    known.map(|p| p as u16).ok_or_else(|| {
                        Error::Input(format!("items[{i}]: unknown genre `{g}` (genres: {})", self.catalog.genres.join(", ")))
                    })
                })
                .collect::<Result<Vec<u16>>>()?;
            let scene = self.scene(&item.scene).map_err(|e| Error::Input(format!("items[{i}]: {e}")))?;
            let title = item.title.clone().unwrap_or_else(|| item.id.clone());
            added.push(Item { id: item.id.clone(), title, genres, scene });
        }
        // The new items alone, as a catalogue, through a tower without the ID table.
        let new = Catalog::new(self.catalog.scenes.clone(), self.catalog.genres.clone(), added.clone())
            .map_err(|e| Error::Input(e.to_string()))?
            .with_scene_kind(self.catalog.scene_kind());
        let features = ItemFeatures::new(&new, text, config.lm_dim, &vec![false; new.len()], &self.device)?;
        let mut tower = self.model.items.clone();
        tower.drop_ids();
        let values = finite(read_f32(tower.forward(&features, None)).await?)?;
        self.catalog.add(added).map_err(|e| Error::Input(e.to_string()))?;
        for row in values.chunks_exact(config.dim) {
            self.vectors.push(row);
        }
        Ok(())
    }

    /// The layers fine-tuning tunes, as they are now (fine-tuned or shared): a user's personal
    /// weights, loadable over the shared ones with [`Recommender::load`] (about 100 KB for the
    /// default model, a fifth of the user-side weights).
    pub async fn export_weights(&self) -> Result<Vec<u8>> {
        let tuned = crate::fine_tune::tunable_params(&self.model);
        store::save_only(&self.model, &self.header.model, &self.header.catalog, "personal", Some(&tuned)).await
    }
}

/// The distinct items of `events` in order of first appearance, and the events with each item
/// replaced by its position in that list.
fn renumber(events: &[Event]) -> (Vec<usize>, Vec<Event>) {
    let mut position = std::collections::HashMap::new();
    let mut items = Vec::new();
    let local = events
        .iter()
        .map(|e| {
            let p = *position.entry(e.item).or_insert_with(|| {
                items.push(e.item as usize);
                items.len() - 1
            });
            Event { item: p as u32, ..*e }
        })
        .collect();
    (items, local)
}

/// The item tower's output for every item of `catalog` (text embeddings `lm`, row-major
/// `[items, lm_dim]`), quantised: what `scenerec export` ships and the browser ranks from.
pub async fn item_vectors(
    model: &SceneRec,
    config: &ModelConfig,
    catalog: &Catalog,
    lm: &[f32],
    encoding: Encoding,
    device: &Device,
) -> Result<ItemVectors> {
    let features = ItemFeatures::new(catalog, lm, config.lm_dim, &vec![true; catalog.len()], device)?;
    let table = read_f32(model.item_table(&features, None).vectors).await?;
    Ok(ItemVectors::quantise(&table, config.dim, encoding))
}

/// A model's browser files for `catalog`: the user-side weights (the item tower without its
/// ID table) and the quantised item vectors, both bound to the catalogue's fingerprint.
pub struct Export {
    pub weights: Vec<u8>,
    pub vectors: Vec<u8>,
}

impl Export {
    /// `model` must hold its ID table; `lm` are the catalogue's text embeddings, `kind` the
    /// weights' provenance.
    pub async fn new(
        model: &SceneRec,
        config: &ModelConfig,
        catalog: &Catalog,
        lm: &[f32],
        (kind, encoding): (&str, Encoding),
        device: &Device,
    ) -> Result<Self> {
        let fingerprint = catalog.fingerprint();
        let vectors = item_vectors(model, config, catalog, lm, encoding, device).await?.to_bytes(fingerprint);
        let mut user_side = model.clone();
        user_side.items.drop_ids();
        let weights = store::save(&user_side, config, fingerprint, kind).await?;
        Ok(Export { weights, vectors })
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
