//! The CLI commands, each a thin layer over the library.

use std::path::Path;
use std::time::Instant;

use super::progress::{TrainBars, bar};
use crate::backend::{BackendKind, device};
use crate::data::atomic::AtomicTable;
use crate::data::dataset::{Dataset, atomic_path};
use crate::embed::{EmbeddingCache, TextEncoder};
use crate::vectors::Encoding;
use crate::eval::{Report, Track, evaluate, model_ranker, quantised_table, table_ranker};
use crate::experiment::{Prepared, cache_path};
use crate::train::checkpoint::Checkpoint;
use crate::train::{TrainConfig, fit};
use crate::backend::block_on;
use crate::recommender::{HistoryEvent, Recommender};
use crate::{Error, Result, store};

/// The config at `path`, or the defaults.
pub fn load_config(path: Option<&Path>) -> Result<TrainConfig> {
    match path {
        Some(p) => TrainConfig::read(p),
        None => Ok(TrainConfig::default()),
    }
}

pub(super) fn write(path: &Path, bytes: impl AsRef<[u8]>) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
}

/// `prepare`: validate the atomic files, add scenes, embed item texts into the cache.
pub fn prepare(source: &Path, out: &Path, derive_scenes: Option<&str>, lm_dir: &Path) -> Result<()> {
    let mut items = AtomicTable::read(&atomic_path(source, "item"))?;
    let inter = AtomicTable::read(&atomic_path(source, "inter"))?;
    let unlisted = Dataset::add_unlisted_items(&mut items, &inter)?;
    if unlisted > 0 {
        eprintln!(
            "{unlisted} items of {} are not in {}: added with their id as their text",
            atomic_path(source, "inter").display(),
            atomic_path(source, "item").display()
        );
    }
    if let Some(rule) = derive_scenes {
        crate::data::scenes::derive_scenes(&mut items, rule)?;
    }
    let data = Dataset::from_tables(&items, &inter)?;
    let repeated = items.rows.len() - data.catalog.len();
    if repeated > 0 {
        eprintln!("{} repeats {repeated} item rows word for word; each is one item", atomic_path(source, "item").display());
    }
    // `Dataset::load(out)` reads `out/NAME.*` with NAME the directory's own name.
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    write(&atomic_path(out, "item"), items.to_text())?;
    write(&atomic_path(out, "inter"), inter.to_text())?;
    let texts: Vec<String> = data.catalog.iter().map(|i| i.text(&data.catalog)).collect();
    let mut cache = EmbeddingCache::open(&cache_path(out))?;
    let encoder = TextEncoder::load(lm_dir)?;
    let pb = bar(texts.len(), "embedding");
    let t0 = Instant::now();
    cache.fill(&texts, &encoder, |done, total| {
        pb.set_length(total as u64);
        pb.set_position(done as u64);
    })?;
    pb.finish_and_clear();
    eprintln!(
        "prepared {}: {} users, {} items, {} interactions, scenes {:?} ({}); {} cached text embeddings ({:.1}s)",
        out.display(),
        data.users.len(),
        data.catalog.len(),
        data.num_events(),
        data.catalog.scenes,
        data.catalog.scene_kind().describe(),
        cache.len(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `embed-items`: new items (`[{id, scene, genres?, title?}]`, as the package's `addItems`
/// takes them) with their `textEmbedding` added, computed from their title and genres by the
/// language model as `prepare` embeds the catalogue's items, so a server can hand the browser
/// items it can rank at once.
pub fn embed_items(items: &Path, lm_dir: &Path, out: Option<&Path>) -> Result<()> {
    let text = std::fs::read_to_string(items).map_err(|e| Error::io(items, e))?;
    let mut list: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(&text).map_err(|e| Error::Input(format!("{}: {e}", items.display())))?;
    let mut texts = Vec::with_capacity(list.len());
    for (i, raw) in list.iter().enumerate() {
        let item: crate::recommender::NewItem = serde_json::from_value(serde_json::Value::Object(raw.clone()))
            .map_err(|e| Error::Input(format!("{}: item {i}: {e}", items.display())))?;
        let genres: Vec<&str> = item.genres.iter().map(String::as_str).collect();
        texts.push(crate::data::catalog::item_text(item.title.as_deref().unwrap_or(&item.id), &genres));
    }
    if texts.is_empty() {
        return Err(Error::Input(format!("{}: no items", items.display())));
    }
    let encoder = TextEncoder::load(lm_dir)?;
    let mut vectors = Vec::with_capacity(texts.len() * crate::embed::LM_DIM);
    for chunk in texts.chunks(crate::embed::EMBED_BATCH) {
        vectors.extend(encoder.embed(chunk)?);
    }
    for (raw, v) in list.iter_mut().zip(vectors.chunks(crate::embed::LM_DIM)) {
        raw.insert("textEmbedding".into(), v.iter().map(|&x| serde_json::Value::from(x)).collect());
    }
    let json = serde_json::to_string(&list).map_err(|e| Error::Data(e.to_string()))?;
    match out {
        Some(path) => write(path, json),
        None => {
            println!("{json}");
            Ok(())
        }
    }
}

/// `train`: pretrain with checkpoints in `out`, then report the test metrics.
pub fn train(data: &Path, config: Option<&Path>, out: &Path, resume: bool) -> Result<()> {
    let cfg = load_config(config)?;
    let prepared = Prepared::load(data, &cfg.filter)?;
    let ck = Checkpoint::new(out)?;
    if ck.exists() && !resume {
        return Err(Error::Input(format!(
            "{} already holds a run: pass --resume to continue it, or choose another --out",
            out.display()
        )));
    }
    let d = &prepared.data;
    eprintln!(
        "training on {} users, {} items, {} interactions ({} scenes)",
        d.users.len(),
        d.catalog.len(),
        d.num_events(),
        d.catalog.scenes.len()
    );
    let known = vec![true; d.catalog.len()];
    let dev = device(BackendKind::Flex, cfg.seed)?;
    let trained = fit(&cfg, &prepared.train_input(&known), &dev, Some(&ck), &mut TrainBars::default())?;
    eprintln!(
        "best epoch {} (valid NDCG@10 {:.4}); {:.0}s, {:.0} samples/s; weights: {}",
        trained.best_epoch,
        trained.best_valid,
        trained.seconds,
        trained.samples_per_s,
        ck.best_path().display()
    );
    let feats = features(&prepared, &dev)?;
    let mut ranker = model_ranker(&trained.model, &trained.config, &feats, &d.histories);
    for track in Track::ALL {
        let queries = track.queries(&prepared.split.test, &d.histories);
        print_report(&format!("test, {} track", track.name()), &evaluate(&prepared.eval_setup(), &queries, &mut ranker)?);
    }
    Ok(())
}

fn features(p: &Prepared, dev: &burn::tensor::Device) -> Result<crate::model::ItemFeatures> {
    p.features(&vec![true; p.data.catalog.len()], dev)
}

/// A prepared data set with weights checked against its catalogue.
struct Loaded {
    prepared: Prepared,
    dev: burn::tensor::Device,
    model: crate::model::SceneRec,
    header: store::Header,
}

fn load_trained(data: &Path, weights: &Path, config: Option<&Path>) -> Result<Loaded> {
    let cfg = load_config(config)?;
    let prepared = Prepared::load(data, &cfg.filter)?;
    let dev = device(BackendKind::Flex, cfg.seed)?;
    let bytes = std::fs::read(weights).map_err(|e| Error::io(weights, e))?;
    let catalog = &prepared.data.catalog;
    let expected = cfg.model.for_catalog(catalog);
    let (model, header) = store::load(&bytes, &dev, Some((&expected, catalog.fingerprint())))?;
    Ok(Loaded { prepared, dev, model, header })
}

/// `eval`: full-ranking metrics of a weights file on the test (or validation) split, in one
/// track or all three (see [`crate::eval::track`]).
///
/// With `quantised`, the model ranks from its item vectors as `scenerec export` quantises them
/// for the browser, so the two reports together give the quantisation's cost.
#[allow(clippy::too_many_arguments)]
pub fn eval(data: &Path, weights: &Path, config: Option<&Path>, split: &str, track: &str, quantised: Option<&str>, json: Option<&Path>) -> Result<()> {
    let tracks: Vec<Track> = match track {
        "all" => Track::ALL.to_vec(),
        name => vec![Track::parse(name).map_err(|e| Error::Input(format!("{e}, or all")))?],
    };
    let Loaded { prepared, dev, model, header, .. } = load_trained(data, weights, config)?;
    let cases = match split {
        "test" => &prepared.split.test,
        "valid" => &prepared.split.valid,
        other => return Err(Error::Input(format!("unknown split `{other}` (test or valid)"))),
    };
    let feats = features(&prepared, &dev)?;
    let table = match quantised {
        Some(encoding) => quantised_table(&model, &feats, Encoding::parse(encoding)?)?,
        None => model.item_table(&feats, None),
    };
    let mut ranker = table_ranker(&model, &header.model, table, &prepared.data.histories);
    let mut reports = std::collections::BTreeMap::new();
    for t in tracks {
        let report = evaluate(&prepared.eval_setup(), &t.queries(cases, &prepared.data.histories), &mut ranker)?;
        print_report(&format!("{split}, {} track", t.name()), &report);
        reports.insert(t.key(), report);
    }
    if let Some(path) = json {
        let file = super::compare::eval_json(&reports, split, prepared.data.catalog.fingerprint())?;
        write(path, serde_json::to_string_pretty(&file).map_err(|e| Error::Data(e.to_string()))?)?;
    }
    Ok(())
}

/// Prints a report as a small table.
pub fn print_report(name: &str, r: &Report) {
    let keys = ["hr@10", "ndcg@10", "auc", "coverage@10"];
    let outside = if r.target_outside > 0.0 { format!(" (target not a candidate, outside the tab or already in the history: {:.1}%)", 100.0 * r.target_outside) } else { String::new() };
    println!("{name}: {} queries{outside}", r.queries);
    println!("{:<10} {}", "scene", keys.map(|k| format!("{k:>12}")).join(""));
    let row = |label: &str, m: &std::collections::BTreeMap<String, f64>| {
        let cells: String = keys.iter().map(|k| format!("{:>12.4}", m.get(*k).copied().unwrap_or(f64::NAN))).collect();
        println!("{label:<10} {cells}");
    };
    row("overall", &r.overall);
    for (scene, m) in &r.per_scene {
        row(scene, m);
    }
}

/// `export`: the browser bundle (see [`write_model_dir`]) and `popularity.json`.
pub fn export(data: &Path, weights: &Path, config: Option<&Path>, encoding: &str, out: &Path) -> Result<()> {
    let encoding = Encoding::parse(encoding)?;
    let Loaded { prepared, dev, model, header, .. } = load_trained(data, weights, config)?;
    let catalog = &prepared.data.catalog;
    let sizes = write_model_dir(out, &model, &header.model, catalog, &prepared.lm, (&header.kind, encoding), &dev)?;
    write(&out.join("popularity.json"), popularity_json(&prepared.data))?;
    eprintln!("exported to {}: {sizes}, popularity.json", out.display());
    Ok(())
}

/// The files the browser loads, and `manifest.json` naming each one's SHA-256 and size:
/// - `model.weights`: the user-side layers (the item tower without its ID table);
/// - `catalog.bin`: what the engine ranks with — item ids and scenes, scene and genre names,
///   the catalogue's fingerprint ([`Catalog::to_bin`]);
/// - `item_vectors.bin`: the item tower's output for every item, quantised ([`crate::vectors`]),
///   instead of the ID table and the text embeddings it is computed from;
/// - `catalog.json`: the whole catalogue with titles and genres, for display: the package
///   fetches it only when the page asks for it (`rec.items()`).
///
/// [`Catalog::to_bin`]: crate::data::Catalog::to_bin
///
/// The package keeps the files in the browser's Cache Storage under their hashes, so a revisit
/// loads from the device (offline too), a new version is fetched only for the files that
/// changed, and a download that does not match its hash is refused. Returns the files' sizes
/// as a line for the user.
fn write_model_dir(
    out: &Path,
    model: &crate::model::SceneRec,
    config: &crate::model::ModelConfig,
    catalog: &crate::data::Catalog,
    lm: &[f32],
    kind: (&str, Encoding),
    dev: &burn::tensor::Device,
) -> Result<String> {
    use sha2::{Digest, Sha256};
    let export = block_on(crate::recommender::Export::new(model, config, catalog, lm, kind, dev))?;
    let (json, bin) = (catalog.to_json(), catalog.to_bin());
    let files = [
        ("model.weights", export.weights.as_slice()),
        ("catalog.bin", &bin),
        ("item_vectors.bin", &export.vectors),
        ("catalog.json", json.as_bytes()),
    ];
    let mut manifest = serde_json::Map::new();
    for (name, bytes) in files {
        write(&out.join(name), bytes)?;
        let sha256: String = Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
        manifest.insert(name.into(), serde_json::json!({ "sha256": sha256, "bytes": bytes.len() }));
    }
    write(&out.join("manifest.json"), serde_json::json!({ "format": MODEL_DIR_FORMAT, "files": manifest }).to_string())?;
    Ok(files.map(|(name, bytes)| format!("{name} ({} KB)", bytes.len() / 1024)).join(", "))
}

/// The layout of an exported model directory: 1 shipped `item_text.f32` and the whole model;
/// 2 ships `item_vectors.bin` and the user-side weights; 3 adds `catalog.bin`, so the engine
/// no longer reads `catalog.json`. The package names the version it finds when it is not this
/// one.
const MODEL_DIR_FORMAT: u32 = 3;

/// Interactions per item (catalogue order) in the prepared logs, as `{"counts": [..]}`: what a
/// page shows someone with no history yet, so the first items they see are ones they may know.
/// Kept out of catalog.json because the catalogue's fingerprint binds weights to it.
fn popularity_json(data: &Dataset) -> String {
    let mut counts = vec![0u32; data.catalog.len()];
    for event in data.histories.iter().flatten() {
        counts[event.item as usize] += 1;
    }
    serde_json::json!({ "counts": counts }).to_string()
}

/// `recommend`: a user's top items in a scene from their full history, with explanations.
pub fn recommend(data: &Path, weights: &Path, config: Option<&Path>, user: Option<&str>, scene: Option<&str>, k: usize) -> Result<()> {
    let Loaded { prepared, dev, model, header, .. } = load_trained(data, weights, config)?;
    let d = &prepared.data;
    let u = match user {
        Some(id) => d.users.iter().position(|x| x == id).ok_or_else(|| Error::Input(format!("unknown user `{id}`")))?,
        None => 0,
    };
    // Without --scene: the whole catalogue ("any scene"), then every scene.
    let scenes: Vec<Option<String>> = match scene {
        Some(name) => vec![Some(name.to_string())],
        None => std::iter::once(None).chain(d.catalog.scenes.iter().cloned().map(Some)).collect(),
    };
    let history: Vec<HistoryEvent> = d.histories[u].iter().map(|e| HistoryEvent::from_event(e, &d.catalog)).collect();
    let rec = block_on(Recommender::new(model, header, d.catalog.clone(), &prepared.lm, &dev))?;
    println!("user {} ({} interactions; last: {})", d.users[u], history.len(), history.last().map(|e| e.item_id.as_str()).unwrap_or("-"));
    for scene in &scenes {
        let top = block_on(rec.recommend(&history, scene.as_deref(), k, &[], None))?;
        println!("\n{}:", scene.as_deref().unwrap_or("all scenes"));
        for (rank, r) in top.into_iter().enumerate() {
            let why = r.because.map(|b| format!("because you watched {} in {}", b.item_id, b.scene)).unwrap_or_default();
            let title = d.catalog.item_index(&r.item_id).map_or(r.item_id.as_str(), |i| d.catalog.item(i).title);
            println!("{:>3}. {:<50} {:>7.3}  {}", rank + 1, title, r.score, why);
        }
    }
    Ok(())
}

/// A ranking request, as the browser package takes it.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RankRequest {
    history: Vec<HistoryEvent>,
    /// The tab; absent or null: the whole catalogue.
    #[serde(default)]
    scene: Option<String>,
    #[serde(default = "default_k")]
    k: usize,
    #[serde(default)]
    exclude: Vec<String>,
    /// The request's time in seconds since the epoch; absent or null: unknown.
    #[serde(default)]
    now: Option<f64>,
}

fn default_k() -> usize {
    20
}

/// `rank`: ranks with an exported model directory exactly as the browser package does
/// (JSON request in, JSON recommendations out) — the native reference for browser tests.
///
/// With `repeat > 1` the ranking runs that many times after one untimed warm-up (as the browser
/// benchmark warms up its side) and the median time per ranking is printed to stderr as
/// `rank_ms <median>` (the native reference of the browser benchmark).
pub fn rank(model_dir: &Path, request: &Path, repeat: usize) -> Result<()> {
    /// Enough rankings for a stable median; the bound keeps a typo from asking for 10^18.
    const MAX_REPEAT: usize = 100_000;
    if repeat > MAX_REPEAT {
        return Err(Error::Input(format!("--repeat is {repeat}; at most {MAX_REPEAT}")));
    }
    let read = |name: &str| std::fs::read(model_dir.join(name)).map_err(|e| Error::io(model_dir.join(name), e));
    let text = std::fs::read_to_string(request).map_err(|e| Error::io(request, e))?;
    let req: RankRequest = serde_json::from_str(&text).map_err(|e| Error::Input(format!("{}: {e}", request.display())))?;
    let dev = device(BackendKind::Flex, 0)?;
    let rec = block_on(Recommender::load(&read("model.weights")?, None, read("catalog.bin")?, read("item_vectors.bin")?, &dev))?;
    let mut times = Vec::with_capacity(repeat);
    let mut out = Vec::new();
    if repeat > 1 {
        block_on(rec.recommend(&req.history, req.scene.as_deref(), req.k, &req.exclude, req.now))?;
    }
    for _ in 0..repeat.max(1) {
        let t0 = Instant::now();
        out = block_on(rec.recommend(&req.history, req.scene.as_deref(), req.k, &req.exclude, req.now))?;
        times.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    if repeat > 1 {
        times.sort_by(f64::total_cmp);
        eprintln!("rank_ms {:.3}", times[times.len() / 2]);
    }
    println!("{}", serde_json::to_string_pretty(&out).map_err(|e| Error::Data(e.to_string()))?);
    Ok(())
}

/// `tensors`: writes a weights file's parameters by name — `tensors.json` (config, and each
/// tensor's name, shape and offset in floats) and `tensors.f32` (little-endian values) — for
/// tools outside Burn, such as the browser benchmark's TensorFlow.js peer.
pub fn tensors(weights: &Path, out: &Path) -> Result<()> {
    let bytes = std::fs::read(weights).map_err(|e| Error::io(weights, e))?;
    let (model, header) = crate::store::load(&bytes, &device(BackendKind::Flex, 0)?, None)?;
    let mut index = Vec::new();
    let mut values: Vec<u8> = Vec::new();
    for t in block_on(crate::store::named_tensors(&model))? {
        index.push(serde_json::json!({ "name": t.name, "shape": t.shape, "offset": values.len() / 4 }));
        values.extend(t.values.iter().flat_map(|x| x.to_le_bytes()));
    }
    let json = serde_json::json!({ "model": header.model, "tensors": index });
    write(&out.join("tensors.json"), json.to_string())?;
    write(&out.join("tensors.f32"), &values)?;
    eprintln!("wrote {} tensors ({} KB) to {}", index.len(), values.len() / 1024, out.display());
    Ok(())
}

/// `synth`: a randomly initialised model over a synthetic one-scene catalogue of `items` items
/// (random genres and unit text vectors), written like `export` — for speed benchmarks only,
/// where what matters is the model's shape, not what it learned.
/// `fuzz`: `inputs` mutated inputs through `target`; any panic is an error (after the tally).
/// With `write`, writes the weights target's mutated files there instead.
pub fn fuzz(target: &str, inputs: usize, seed: u64, data: &Path, json: Option<&Path>, write: Option<&Path>) -> Result<()> {
    use crate::data::dataset::atomic_path;
    let read = |ext: &str| {
        let path = atomic_path(data, ext);
        std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))
    };
    let seeds = crate::fuzz::Seeds::new(&read("item")?, &read("inter")?)?;
    if let Some(dir) = write {
        if target != "weights" {
            return Err(Error::Input(format!("--write writes weights files; the target is `{target}`")));
        }
        crate::fuzz::write_weights(&seeds, inputs, seed, dir)?;
        eprintln!("wrote the seed model and {inputs} mutated weights files to {}", dir.display());
        return Ok(());
    }
    let t0 = std::time::Instant::now();
    let tally = crate::fuzz::run(target, &seeds, inputs, seed)?;
    eprintln!(
        "fuzz {target}: {} inputs in {:.1} s: {} refused with an error, {} accepted, {} panics",
        tally.inputs,
        t0.elapsed().as_secs_f64(),
        tally.clean_error,
        tally.accepted,
        tally.panic
    );
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&tally).map_err(|e| Error::Data(e.to_string()))?;
        std::fs::write(path, text).map_err(|e| Error::io(path, e))?;
    }
    match tally.panics.first() {
        Some(first) => Err(Error::Data(format!("{} inputs panicked, the first with: {first}", tally.panic))),
        None => Ok(()),
    }
}

pub fn synth(items: usize, seed: u64, encoding: &str, out: &Path) -> Result<()> {
    let encoding = Encoding::parse(encoding)?;
    use crate::data::{Catalog, Item};
    if items == 0 {
        return Err(Error::Input("--items must be at least 1".into()));
    }
    let mut rng = crate::rng::Rng::new(seed);
    let genres: Vec<String> = (0..18).map(|g| format!("genre-{g}")).collect();
    let catalog_items: Vec<Item> = (0..items)
        .map(|i| Item { id: format!("item-{i}"), title: format!("Item {i}"), genres: vec![rng.below(18) as u16], scene: 0 })
        .collect();
    let catalog = Catalog::new(vec!["all".into()], genres, catalog_items)?;
    let config = TrainConfig::default().model.for_catalog(&catalog);
    let dev = device(BackendKind::Flex, seed)?;
    let model = crate::model::SceneRec::new(&config, &dev)?;
    let mut lm = Vec::with_capacity(items * config.lm_dim);
    for _ in 0..items {
        let v: Vec<f32> = (0..config.lm_dim).map(|_| rng.unit() - 0.5).collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
        lm.extend(v.into_iter().map(|x| x / norm));
    }
    let sizes = write_model_dir(out, &model, &config, &catalog, &lm, ("synthetic", encoding), &dev)?;
    eprintln!("synthetic model with {items} items written to {}: {sizes}", out.display());
    Ok(())
}

/// `bench`: runs the named benchmark parts (see [`crate::bench`]), then merges every part's
/// results into `out`; with `shard` (`I/N`) it only trains that shard of the one named part's
/// models (see [`crate::bench::Bench::train_shard`]). With `jobs` above 1, each named part that
/// trains several models has them trained first by that many `--shard` processes side by side
/// (see [`super::shards`]). `fine_tune_users` caps the users the fine-tuning parts measure.
#[allow(clippy::too_many_arguments)]
pub fn bench(
    data: &Path,
    config: Option<&Path>,
    out: &Path,
    runs: &Path,
    parts: &str,
    command: &str,
    shard: Option<&str>,
    jobs: usize,
    fine_tune_users: Option<usize>,
) -> Result<()> {
    use crate::bench::{Bench, Part, merge};
    let parts: Vec<Part> = match parts {
        "all" => Part::ALL.to_vec(),
        "none" => Vec::new(),
        list => list.split(',').map(|p| Part::parse(p.trim())).collect::<Result<_>>()?,
    };
    let progress = |_: &str| -> Box<dyn crate::train::Progress> { Box::new(TrainBars::default()) };
    if fine_tune_users == Some(0) {
        return Err(Error::Input("--fine-tune-users 0: the fine-tuning parts need at least one user".into()));
    }
    if jobs == 0 || (jobs > 1 && shard.is_some()) {
        return Err(Error::Input(format!("--jobs {jobs}: want at least 1, and not with --shard (which is one of the jobs)")));
    }
    let bench = Bench { cfg: load_config(config)?, data, runs: runs.to_path_buf(), out: out.to_path_buf(), progress: &progress, fine_tune_users };
    if let Some(shard) = shard {
        let [part] = parts[..] else {
            return Err(Error::Input("--shard trains one part's models: name one part, e.g. --parts per-scene".into()));
        };
        let bad = || Error::Input(format!("--shard `{shard}`: want I/N, e.g. 0/2"));
        let (index, count) = shard.split_once('/').ok_or_else(bad)?;
        return bench.train_shard(part, index.trim().parse().map_err(|_| bad())?, count.trim().parse().map_err(|_| bad())?);
    }
    // What each shard process is told besides its part and shard: the same data, config and places.
    let mut shard_args: Vec<std::ffi::OsString> = vec!["--data".into(), data.into(), "--out".into(), out.into()];
    shard_args.extend(["--runs".into(), runs.into()]);
    if let Some(c) = config {
        shard_args.extend(["--config".into(), c.into()]);
    }
    for part in parts {
        if jobs > 1 && Part::SHARDED.contains(&part) {
            super::shards::train_in_processes(part, jobs, &shard_args, &runs.join("logs"))?;
        }
        bench.run(part)?;
    }
    merge(&bench, command)
}
