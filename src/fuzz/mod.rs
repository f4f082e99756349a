//! A fuzzer for what reaches the engine from outside: weights files, item vectors, catalogues
//! (`catalog.json` and `catalog.bin`), history columns and RecBole atomic files. Stable Rust, no
//! cargo-fuzz: each target mutates real seed inputs ([`mutate`]: bytes flipped, cut or repeated, and the structure-aware edits a checksum
//! or a parser alone would never let through) and runs every one under `catch_unwind`. Each
//! input must end as an error or be accepted with sane outputs (finite scores); a panic is a
//! finding. Aborts and hangs cannot be caught in-process, so `scripts/fuzz.sh` runs each target
//! in its own process under a time limit.

pub mod mutate;

use serde::Serialize;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::backend::{BackendKind, block_on, device};
use crate::data::atomic::AtomicTable;
use crate::data::dataset::Dataset;
use crate::data::{Catalog, Item};
use crate::model::{ModelConfig, SceneRec};
use crate::recommender::{Export, HistoryColumns, Recommender};
use crate::vectors::Encoding;
use crate::rng::Rng;
use crate::{Error, Result};

/// The targets, by the name `scenerec fuzz --target` takes.
pub const TARGETS: [&str; 5] = ["weights", "vectors", "catalog", "history", "recbole"];

/// How the inputs of one target ended.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    pub inputs: usize,
    /// Refused with an error.
    pub clean_error: usize,
    /// Accepted, and what it produced was checked sane.
    pub accepted: usize,
    pub panic: usize,
    /// The first few panics' messages, to reproduce them.
    pub panics: Vec<String>,
}

/// Seed inputs: a small model's export (weights, catalogue as JSON and binary, item vectors),
/// and RecBole atomic files.
pub struct Seeds {
    weights: Vec<u8>,
    catalog: String,
    catalog_bin: Vec<u8>,
    vectors: Vec<u8>,
    /// `(.item, .inter)` texts.
    recbole: (String, String),
}

const LM: usize = 8;

impl Seeds {
    /// The model seeds are built here (a small seeded model over a 12-item catalogue, so a load
    /// takes a millisecond); the RecBole seeds are a real `.item` file and the first lines of
    /// its `.inter` file.
    pub fn new(item_file: &str, inter_file: &str) -> Result<Self> {
        let items = (0..12)
            .map(|i| Item { id: format!("item{i}"), title: format!("Item {i}"), genres: vec![(i % 3) as u16], scene: (i % 3) as u16 })
            .collect();
        let catalog = Catalog::new(vec!["A".into(), "B".into(), "C".into()], vec!["x".into(), "y".into(), "z".into()], items)?;
        let config = ModelConfig { lm_dim: LM, dim: 8, heads: 2, head_hidden: 8, max_len: 6, rerank: 4, ..ModelConfig::default() }
            .for_catalog(&catalog);
        let dev = device(BackendKind::Flex, 7)?;
        let model = SceneRec::new(&config, &dev)?;
        let text: Vec<f32> = (0..catalog.len() * LM).map(|i| (i % 5) as f32 / 5.0 - 0.4).collect();
        let export = block_on(Export::new(&model, &config, &catalog, &text, ("fuzz seed", Encoding::DEFAULT), &dev))?;
        let inter = inter_file.lines().take(200).collect::<Vec<_>>().join("\n");
        Ok(Seeds {
            weights: export.weights,
            catalog: catalog.to_json(),
            catalog_bin: catalog.to_bin(),
            vectors: export.vectors,
            recbole: (item_file.to_string(), inter),
        })
    }
}

/// Writes the weights target's seed model (`catalog.json`, `catalog.bin`, `item_vectors.bin`,
/// `seed.weights`) and `inputs` mutated weights files (`mutated-N.weights`) to `dir`, for the
/// browser's robustness test, which loads them through the npm package.
pub fn write_weights(seeds: &Seeds, inputs: usize, seed: u64, dir: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let write = |name: String, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))
    };
    write("catalog.json".into(), seeds.catalog.as_bytes())?;
    write("catalog.bin".into(), &seeds.catalog_bin)?;
    write("item_vectors.bin".into(), &seeds.vectors)?;
    write("seed.weights".into(), &seeds.weights)?;
    let mut rng = Rng::new(seed);
    for i in 0..inputs {
        write(format!("mutated-{i}.weights"), &mutate::weights(&seeds.weights, &mut rng))?;
    }
    Ok(())
}

/// Runs `inputs` mutated inputs through `target`.
pub fn run(target: &str, seeds: &Seeds, inputs: usize, seed: u64) -> Result<Tally> {
    let dev = device(BackendKind::Flex, 1)?;
    let engine = block_on(Recommender::load(&seeds.weights, None, seeds.catalog_bin.clone(), seeds.vectors.clone(), &dev))?;
    let mut rng = Rng::new(seed);
    let mut tally = Tally::default();
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for _ in 0..inputs {
        let outcome = catch_unwind(AssertUnwindSafe(|| match target {
            "weights" => weights_input(seeds, &mut rng, &dev),
            "vectors" => vectors_input(seeds, &mut rng, &dev),
            "catalog" => catalog_input(seeds, &mut rng, &dev),
            "history" => history_input(&engine, &mut rng),
            "recbole" => recbole_input(seeds, &mut rng),
            other => Err(Error::Input(format!("unknown fuzz target `{other}` ({})", TARGETS.join(", ")))),
        }));
        tally.inputs += 1;
        match outcome {
            Ok(Ok(())) => tally.accepted += 1,
            Ok(Err(Error::Input(m))) if m.starts_with("unknown fuzz target") => {
                std::panic::set_hook(quiet);
                return Err(Error::Input(m));
            }
            Ok(Err(_)) => tally.clean_error += 1,
            Err(payload) => {
                tally.panic += 1;
                if tally.panics.len() < 5 {
                    let message = payload
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    tally.panics.push(message);
                }
            }
        }
    }
    std::panic::set_hook(quiet);
    Ok(tally)
}

/// A ranking of a fixed history must succeed with finite scores (non-finite ones are errors).
fn ranks(rec: &Recommender) -> Result<()> {
    let items = [1u32, 4, 7];
    let cols = HistoryColumns { items: &items, scenes: &[1, 1, 1], actions: &[0, 1, 0], times: &[1.0, 2.0, 3.0] };
    let events = rec.events_from(cols)?;
    let ranked = block_on(rec.recommend_events(&events, Some(0), 3, &[], None))?;
    match ranked.iter().all(|r| r.score.is_finite()) {
        true => Ok(()),
        false => Err(Error::Backend("a non-finite score escaped the checks".into())),
    }
}

/// The engine's three files must load as a recommender that then ranks.
fn loads_and_ranks(weights: &[u8], catalog: Vec<u8>, vectors: Vec<u8>, dev: &burn::tensor::Device) -> Result<()> {
    ranks(&block_on(Recommender::load(weights, None, catalog, vectors, dev))?)
}

fn weights_input(seeds: &Seeds, rng: &mut Rng, dev: &burn::tensor::Device) -> Result<()> {
    loads_and_ranks(&mutate::weights(&seeds.weights, rng), seeds.catalog_bin.clone(), seeds.vectors.clone(), dev)
}

fn vectors_input(seeds: &Seeds, rng: &mut Rng, dev: &burn::tensor::Device) -> Result<()> {
    loads_and_ranks(&seeds.weights, seeds.catalog_bin.clone(), mutate::vectors(&seeds.vectors, rng), dev)
}

/// Half the inputs are `catalog.json` texts (what training and display read), half
/// `catalog.bin` files loaded by the engine, which must then rank.
fn catalog_input(seeds: &Seeds, rng: &mut Rng, dev: &burn::tensor::Device) -> Result<()> {
    if rng.below(2) == 0 {
        let catalog = Catalog::from_json(&mutate::text(&seeds.catalog, rng))?;
        let _ = catalog.genre_matrix();
        return Ok(());
    }
    loads_and_ranks(&seeds.weights, mutate::catalog_bin(&seeds.catalog_bin, rng), seeds.vectors.clone(), dev)
}

fn history_input(rec: &Recommender, rng: &mut Rng) -> Result<()> {
    let cols = mutate::history(rng, rec.catalog().len(), rec.catalog().scenes.len());
    let events = rec.events_from(cols.columns())?;
    let (items, scenes) = (rec.catalog().len(), rec.catalog().scenes.len());
    // Mostly valid arguments, a quarter of them odd (out of range, zero, huge).
    let odd = |rng: &mut Rng| rng.below(4) == 0;
    let scene = (rng.below(3) > 0).then(|| if odd(rng) { mutate::size(rng) } else { rng.below(scenes) });
    let k = if odd(rng) { mutate::size(rng) } else { 1 + rng.below(40) };
    let exclude: Vec<usize> = (0..rng.below(4)).map(|_| if odd(rng) { mutate::size(rng) } else { rng.below(items) }).collect();
    let ranked = block_on(rec.recommend_events(&events, scene, k, &exclude, None))?;
    match ranked.iter().all(|r| r.score.is_finite()) && ranked.len() <= k {
        true => Ok(()),
        false => Err(Error::Backend("an insane ranking escaped the checks".into())),
    }
}

fn recbole_input(seeds: &Seeds, rng: &mut Rng) -> Result<()> {
    let (mut item, mut inter) = (seeds.recbole.0.clone(), seeds.recbole.1.clone());
    if rng.below(2) == 0 {
        item = mutate::text(&item, rng);
    } else {
        inter = mutate::text(&inter, rng);
    }
    let items = AtomicTable::parse(&item, "fuzz.item")?;
    let inter = AtomicTable::parse(&inter, "fuzz.inter")?;
    Dataset::from_tables(&items, &inter).map(|_| ())
}
