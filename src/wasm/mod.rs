//! `#[wasm_bindgen]` wrappers around [`crate::recommender::Recommender`]; no model logic here.
//!
//! Every method returns a `Promise` that rejects with a JS `Error` carrying the crate's error
//! message; nothing on a path user input reaches can panic. The engine lives in an
//! `Rc<RefCell<..>>` so a promise can own it while it runs; overlapping calls that would race
//! are refused ("busy"). Fine-tuning is driven step by step from JS, so the worker can report
//! progress and take a cancel message between steps; ranking keeps working meanwhile.

// A call holds its borrow of the engine across its awaits on purpose: that is what makes an
// overlapping call fail cleanly with "busy" (`try_borrow`) instead of racing.
#![allow(clippy::await_holding_refcell_ref)]

use std::cell::{Ref, RefCell};
use std::rc::Rc;

use js_sys::{Float32Array, Int32Array, Object, Promise, Reflect, Uint8Array, Uint32Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::data::Event;
use crate::recommender::{FineTune, FineTuneOptions, HistoryColumns, NewItem, Recommender};

#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

fn js_err(e: impl std::fmt::Display) -> JsValue {
    JsError::new(&e.to_string()).into()
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(js_err)
}

fn from_js<T: serde::de::DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsValue> {
    serde_wasm_bindgen::from_value(value).map_err(|e| js_err(format!("{what}: {e}")))
}

/// A plain JS object with the given fields.
fn object(fields: &[(&str, JsValue)]) -> Result<JsValue, JsValue> {
    let out = Object::new();
    for (name, value) in fields {
        Reflect::set(&out, &JsValue::from_str(name), value)?;
    }
    Ok(out.into())
}

/// A user's history as catalogue indices, copied into wasm from four typed arrays (one entry
/// per event); `www/lib/worker.ts` resolves ids (with `itemIndices`) and names to them.
#[wasm_bindgen]
pub struct History {
    items: Vec<u32>,
    scenes: Vec<u32>,
    actions: Vec<u8>,
    times: Vec<f64>,
}

#[wasm_bindgen]
impl History {
    /// `actions`: 0 interact, 1 like; `times`: seconds since the epoch.
    #[wasm_bindgen(constructor)]
    pub fn new(items: Vec<u32>, scenes: Vec<u32>, actions: Vec<u8>, times: Vec<f64>) -> History {
        History { items, scenes, actions, times }
    }
}

impl History {
    fn events(&self, rec: &Recommender) -> Result<Vec<Event>, JsValue> {
        let columns = HistoryColumns { items: &self.items, scenes: &self.scenes, actions: &self.actions, times: &self.times };
        rec.events_from(columns).map_err(js_err)
    }
}

/// Catalogue indices from a JS `Uint32Array`, as the engine takes them.
fn indices(items: &[u32]) -> Vec<usize> {
    items.iter().map(|&i| i as usize).collect()
}

/// The raw engine; `www/lib/` wraps it in the typed `Recommender` API.
#[wasm_bindgen]
pub struct Engine {
    inner: Shared,
    run: Rc<RefCell<Option<FineTune>>>,
    backend: String,
}

type Shared = Rc<RefCell<Option<Recommender>>>;

#[derive(Serialize)]
struct StepReport {
    step: usize,
    /// Steps planned (the options' or the default).
    steps: usize,
    loss: f32,
    done: bool,
}

const BUSY_TUNING: &str = "busy: wait for the running fine-tune to finish";

/// The engine, or a clean failure when it is disposed or borrowed (`busy` says by what).
fn engine<'a>(inner: &'a Shared, busy: &str) -> Result<Ref<'a, Recommender>, JsValue> {
    let guard = inner.try_borrow().map_err(|_| js_err(busy))?;
    Ref::filter_map(guard, Option::as_ref).map_err(|_| js_err("this recommender was disposed"))
}

/// Runs `f` on the engine, failing cleanly when it is disposed or busy.
fn with_engine<T>(inner: &Shared, f: impl FnOnce(&Recommender) -> T) -> Result<T, JsValue> {
    Ok(f(&*engine(inner, BUSY_TUNING)?))
}

async fn device_for(kind: &str) -> Result<burn::tensor::Device, JsValue> {
    match kind {
        #[cfg(feature = "flex")]
        "cpu" => Ok(burn::tensor::Device::flex()),
        #[cfg(not(feature = "flex"))]
        "cpu" => Err(js_err("this build is WebGPU-only: load the CPU artifact for device \"cpu\"")),
        #[cfg(feature = "wgpu")]
        "webgpu" => burn::tensor::Device::wgpu_options()
            .init_async()
            .await
            .map_err(|e| js_err(format!("WebGPU is not available: {e:?}"))),
        #[cfg(not(feature = "wgpu"))]
        "webgpu" => Err(js_err("this build is CPU-only: load the WebGPU artifact for device \"webgpu\"")),
        other => Err(js_err(format!("unknown device `{other}` (\"cpu\" or \"webgpu\")"))),
    }
}

#[wasm_bindgen]
impl Engine {
    /// Loads exported weights with a user's personal weights put in (`undefined`: none),
    /// `catalog.bin` and `item_vectors.bin` bytes on `device` (`"cpu"` or `"webgpu"`).
    /// Resolves to an `Engine`.
    pub fn create(weights: Uint8Array, personal: Option<Uint8Array>, catalog: Uint8Array, item_vectors: Uint8Array, device: String) -> Promise {
        let (weights, personal) = (weights.to_vec(), personal.map(|p| p.to_vec()));
        let (catalog, item_vectors) = (catalog.to_vec(), item_vectors.to_vec());
        future_to_promise(async move {
            let dev = device_for(&device).await?;
            let rec = Recommender::load(&weights, personal.as_deref(), catalog, item_vectors, &dev).await.map_err(js_err)?;
            Ok(Engine { inner: Rc::new(RefCell::new(Some(rec))), run: Rc::new(RefCell::new(None)), backend: device }.into())
        })
    }

    /// `"cpu"` or `"webgpu"`.
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.backend.clone()
    }

    /// The catalogue's names, size (items added included) and scene kind: `{scenes, genres,
    /// size, sceneKind}` (`"tabs"` or `"surfaces"`).
    pub fn catalog(&self) -> Result<JsValue, JsValue> {
        with_engine(&self.inner, |r| {
            let c = r.catalog();
            object(&[
                ("scenes", to_js(&c.scenes)?),
                ("genres", to_js(&c.genres)?),
                ("size", JsValue::from(c.len() as u32)),
                ("sceneKind", to_js(&c.scene_kind())?),
            ])
        })?
    }

    /// The catalogue index of each id, -1 where an id is unknown (the caller names it).
    #[wasm_bindgen(js_name = itemIndices)]
    pub fn item_indices(&self, ids: Vec<String>) -> Result<Int32Array, JsValue> {
        with_engine(&self.inner, |r| {
            let found: Vec<i32> = ids.iter().map(|id| r.catalog().item_index(id).map_or(-1, |i| i as i32)).collect();
            Int32Array::from(found.as_slice())
        })
    }

    /// The ids of catalogue indices `items`.
    #[wasm_bindgen(js_name = itemIds)]
    pub fn item_ids(&self, items: Vec<u32>) -> Result<Vec<String>, JsValue> {
        with_engine(&self.inner, |r| {
            let c = r.catalog();
            items
                .iter()
                .map(|&i| match (i as usize) < c.len() {
                    true => Ok(c.id(i as usize).to_string()),
                    false => Err(js_err(format!("item index {i} is out of range ({} items)", c.len()))),
                })
                .collect()
        })?
    }

    /// The top `k` items of scene index `scene` (`undefined`: of the whole catalogue, for "any
    /// scene"), excluding item indices `exclude`. Resolves to
    /// `{items: Uint32Array, scores: Float32Array, becauseItems: Int32Array, becauseScenes:
    /// Int32Array}`: catalogue indices, best first, with the history event explaining each
    /// (-1 where none does). `now` is the request's time in seconds since the epoch
    /// (`undefined`: unknown), which models trained with `query_time` read.
    pub fn recommend(&self, history: History, scene: Option<u32>, k: usize, exclude: Vec<u32>, now: Option<f64>) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let rec = engine(&inner, BUSY_TUNING)?;
            let events = history.events(&rec)?;
            let now = Recommender::request_time(now).map_err(js_err)?;
            let ranked = rec.recommend_events(&events, scene.map(|s| s as usize), k, &indices(&exclude), now).await.map_err(js_err)?;
            let items: Vec<u32> = ranked.iter().map(|r| r.item as u32).collect();
            let scores: Vec<f32> = ranked.iter().map(|r| r.score).collect();
            let because_items: Vec<i32> = ranked.iter().map(|r| r.because.map_or(-1, |(i, _)| i as i32)).collect();
            let because_scenes: Vec<i32> = ranked.iter().map(|r| r.because.map_or(-1, |(_, s)| s as i32)).collect();
            object(&[
                ("items", Uint32Array::from(items.as_slice()).into()),
                ("scores", Float32Array::from(scores.as_slice()).into()),
                ("becauseItems", Int32Array::from(because_items.as_slice()).into()),
                ("becauseScenes", Int32Array::from(because_scenes.as_slice()).into()),
            ])
        })
    }

    /// Resolves to a `Float32Array` of fusion scores for item indices `items` in scene index
    /// `scene` (`undefined`: "any scene") at time `now` (as in `recommend`).
    pub fn score(&self, history: History, scene: Option<u32>, items: Vec<u32>, now: Option<f64>) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let rec = engine(&inner, BUSY_TUNING)?;
            let events = history.events(&rec)?;
            let now = Recommender::request_time(now).map_err(js_err)?;
            let scores = rec.score_events(&events, scene.map(|s| s as usize), &indices(&items), now).await.map_err(js_err)?;
            Ok(Float32Array::from(scores.as_slice()).into())
        })
    }

    /// Adds new items (JSON `[{id, scene, genres?, title?}]`) whose text embeddings are `text`,
    /// one row of the model's text width per item, in order. Resolves when they rank.
    #[wasm_bindgen(js_name = addItems)]
    pub fn add_items(&self, items: String, text: Float32Array) -> Promise {
        let inner = self.inner.clone();
        let text = text.to_vec();
        future_to_promise(async move {
            let items: Vec<NewItem> = serde_json::from_str(&items).map_err(|e| js_err(format!("items: {e}")))?;
            let mut guard = inner.try_borrow_mut().map_err(|_| js_err("busy: add items after the running call finishes"))?;
            let rec = guard.as_mut().ok_or_else(|| js_err("this recommender was disposed"))?;
            rec.add_items(&items, &text).await.map_err(js_err)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Starts fine-tuning on `history` with `options` (`{steps, batch, learningRate, seed,
    /// anchor}`, all optional). Ranking keeps the current weights until `fineTuneCommit`. The caller
    /// drives the run with `fineTuneStep`, so it can report progress and cancel in between.
    #[wasm_bindgen(js_name = fineTuneBegin)]
    pub fn fine_tune_begin(&self, history: History, options: JsValue) -> Result<(), JsValue> {
        let options: FineTuneOptions =
            if options.is_undefined() || options.is_null() { FineTuneOptions::default() } else { from_js(options, "options")? };
        let run = with_engine(&self.inner, |r| r.begin_fine_tune_events(&history.events(r)?, &options).map_err(js_err))??;
        let mut slot = self.run.try_borrow_mut().map_err(|_| js_err("busy: a fine-tuning step is running"))?;
        if slot.is_some() {
            return Err(js_err("a fine-tune is already running: commit or cancel it first"));
        }
        *slot = Some(run);
        Ok(())
    }

    /// One fine-tuning step; resolves to `{step, loss, done}`.
    #[wasm_bindgen(js_name = fineTuneStep)]
    pub fn fine_tune_step(&self) -> Promise {
        let run = self.run.clone();
        future_to_promise(async move {
            let mut slot = run.try_borrow_mut().map_err(|_| js_err("busy: a fine-tuning step is running"))?;
            let ft = slot.as_mut().ok_or_else(|| js_err("no fine-tune is running: call fineTuneBegin first"))?;
            let loss = ft.step().await.map_err(js_err)?;
            to_js(&StepReport { step: ft.steps(), steps: ft.planned(), loss, done: ft.done() })
        })
    }

    /// Adopts the fine-tuned weights (after the last step, or early).
    #[wasm_bindgen(js_name = fineTuneCommit)]
    pub fn fine_tune_commit(&self) -> Result<(), JsValue> {
        let run = self.run.try_borrow_mut().map_err(|_| js_err("busy: a fine-tuning step is running"))?.take();
        let run = run.ok_or_else(|| js_err("no fine-tune is running"))?;
        let mut guard = self.inner.try_borrow_mut().map_err(|_| js_err("busy: another call is running"))?;
        guard.as_mut().ok_or_else(|| js_err("this recommender was disposed"))?.adopt(run);
        Ok(())
    }

    /// Drops a running fine-tune; the weights stay as they were.
    #[wasm_bindgen(js_name = fineTuneCancel)]
    pub fn fine_tune_cancel(&self) -> Result<(), JsValue> {
        self.run.try_borrow_mut().map_err(|_| js_err("busy: a fine-tuning step is running"))?.take();
        Ok(())
    }

    /// The current (personal) weights, loadable with `create`; resolves to a `Uint8Array`.
    #[wasm_bindgen(js_name = exportWeights)]
    pub fn export_weights(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let rec = engine(&inner, "busy: another call is running")?;
            let bytes = rec.export_weights().await.map_err(js_err)?;
            Ok(Uint8Array::from(bytes.as_slice()).into())
        })
    }

    /// Traps the wasm instance on purpose, so browser tests can check that the TypeScript
    /// layer recovers from a trap by starting a fresh instance.
    #[wasm_bindgen(js_name = trapForTests)]
    pub fn trap_for_tests(&self) {
        core::arch::wasm32::unreachable()
    }

    /// Frees the model; later calls reject with "disposed".
    pub fn dispose(&self) -> Result<(), JsValue> {
        let mut guard = self.inner.try_borrow_mut().map_err(|_| js_err("busy: dispose after the running call finishes"))?;
        guard.take();
        self.run.try_borrow_mut().map_err(|_| js_err("busy: dispose after the running step finishes"))?.take();
        Ok(())
    }
}
