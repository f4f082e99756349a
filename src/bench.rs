//! The accuracy benchmark: a popularity baseline, the model, the model without language-model
//! features, the model without cross-scene sharing (one model per scene, each trained on its
//! scene's events only), and cold start (10% of items withheld from training entirely, ranked
//! by text alone). Writes `accuracy.json` and `accuracy.md`.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

use crate::backend::{BackendKind, device};
use crate::cli::commands::load_config;
use crate::cli::progress::TrainBars;
use crate::data::protocol::{Case, cold_start, leave_one_out, scene_from_last_event, scene_histories};
use crate::eval::{EvalSetup, Excluded, Report, evaluate, item_users, model_ranker, popularity_ranker};
use crate::experiment::Prepared;
use crate::metrics::ndcg;
use crate::model::ItemFeatures;
use crate::rank::Ranking;
use crate::train::checkpoint::Checkpoint;
use crate::train::{TrainConfig, TrainInput, Trained, fit};
use crate::{Error, Result};

/// Share of items withheld for the cold-start split.
const COLD_FRACTION: f64 = 0.1;

fn report_json(r: &Report) -> Value {
    json!({"queries": r.queries, "overall": r.overall, "per_scene": r.per_scene})
}

/// Peak resident memory of this process so far, in MB (Linux; `null` elsewhere).
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn train(cfg: &TrainConfig, input: &TrainInput<'_>, runs: &Path, name: &str) -> Result<Trained> {
    eprintln!("== training {name}");
    let dir = runs.join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    }
    fit(cfg, input, &device(BackendKind::Flex, cfg.seed)?, Some(&Checkpoint::new(&dir)?), &mut TrainBars::default())
}

/// Runs the whole benchmark.
pub fn run(data: &Path, config: Option<&Path>, out: &Path, runs: &Path, command: &str) -> Result<()> {
    let cfg = load_config(config)?;
    let p = Prepared::load(data, &cfg.filter)?;
    let catalog = &p.data.catalog;
    let n = catalog.len();
    let dev = device(BackendKind::Flex, cfg.seed)?;
    let all_known = vec![true; n];
    let features = |known: &[bool]| p.features(known, &dev);
    let setup = p.eval_setup();
    let test = &p.split.test;
    let mut models = BTreeMap::new();

    let mut pop = popularity_ranker(&p.item_users);
    models.insert("popularity", report_json(&evaluate(&setup, test, &mut pop)?));

    let main = train(&cfg, &p.train_input(&all_known), runs, "scenerec")?;
    let peak = peak_rss_mb();
    let feats = features(&all_known)?;
    let main_report = evaluate(&setup, test, &mut model_ranker(&main.model, &feats, &p.data.histories, cfg.rerank, main.config.max_len))?;
    models.insert("scenerec", report_json(&main_report));
    let guessed = scene_from_last_event(test, &p.data.histories);
    let no_hint = evaluate(&setup, &guessed, &mut model_ranker(&main.model, &feats, &p.data.histories, cfg.rerank, main.config.max_len))?;

    let mut no_lm_cfg = cfg.clone();
    no_lm_cfg.model.use_lm = false;
    let no_lm = train(&no_lm_cfg, &p.train_input(&all_known), runs, "scenerec_no_lm")?;
    models.insert(
        "scenerec_no_lm",
        report_json(&evaluate(&setup, test, &mut model_ranker(&no_lm.model, &feats, &p.data.histories, cfg.rerank, no_lm.config.max_len))?),
    );

    models.insert("scenerec_per_scene", report_json(&per_scene(&cfg, &p, &feats, runs)?));

    let cold = cold_start_bench(&cfg, &p, runs)?;

    let result = json!({
        "dataset": "ml-1m",
        "protocol": "recbole-ml1m-seq, full ranking",
        "protocol_details": {
            "min_rating": cfg.filter.min_rating, "k_core": [cfg.filter.min_user, cfg.filter.min_item],
            "split": "chronological leave-one-out", "max_len": cfg.model.max_len,
            "ranking": "all items except the user's history; the target scene (tab) is given to the model",
            "users": p.data.users.len(), "items": n, "interactions": p.data.num_events(),
            "scenes": catalog.scenes,
        },
        "command": command,
        "config": cfg,
        "models": models,
        "cold_start": cold,
        "scenerec_scene_from_last_event": {
            "note": "the model ranks for the scene of the user's last event instead of being told the target's scene",
            "overall": no_hint.overall,
        },
        "train": {
            "seconds": main.seconds, "epochs": main.reports.len(), "best_epoch": main.best_epoch,
            "samples_per_s": main.samples_per_s, "peak_rss_mb": peak,
        },
    });
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let json_path = out.join("accuracy.json");
    let text = serde_json::to_string_pretty(&result).map_err(|e| Error::Data(e.to_string()))?;
    std::fs::write(&json_path, text + "\n").map_err(|e| Error::io(&json_path, e))?;
    let md_path = out.join("accuracy.md");
    std::fs::write(&md_path, markdown(&result)).map_err(|e| Error::io(&md_path, e))?;
    eprintln!("wrote {} and {}", json_path.display(), md_path.display());
    Ok(())
}

/// One model per scene, each trained only on its scene's events; each test query goes to the
/// model of its target's scene, with the history restricted to that scene.
fn per_scene(cfg: &TrainConfig, p: &Prepared, feats: &ItemFeatures, runs: &Path) -> Result<Report> {
    let histories = &p.data.histories;
    let scenes = p.data.catalog.scenes.len() as u16;
    // Position of each event within its scene's sub-history: maps a prefix length of the full
    // history to a prefix length of the scene's.
    let in_scene = |u: usize, len: usize, s: u16| histories[u][..len].iter().filter(|e| e.scene == s).count();
    let mut models = Vec::new();
    let mut per_scene_histories = Vec::new();
    for s in 0..scenes {
        let hs = scene_histories(histories, s);
        let train_len: Vec<usize> = p.split.train_len.iter().enumerate().map(|(u, &n)| in_scene(u, n, s)).collect();
        let valid: Vec<Case> = p
            .split
            .valid
            .iter()
            .filter(|c| c.target.scene == s)
            .map(|c| Case { history_len: in_scene(c.user, c.history_len, s), ..*c })
            .collect();
        let known = vec![true; p.data.catalog.len()];
        let input = TrainInput { catalog: &p.data.catalog, lm: &p.lm, known: &known, histories: &hs, train_len: &train_len, valid: &valid };
        let name = format!("scenerec_scene_{}", p.data.catalog.scenes[s as usize]);
        models.push(train(cfg, &input, runs, &name)?);
        per_scene_histories.push(hs);
    }
    let mut rankers: Vec<_> = models
        .iter()
        .zip(&per_scene_histories)
        .map(|(m, hs)| model_ranker(&m.model, feats, hs, cfg.rerank, m.config.max_len))
        .collect();
    let mut ranker = |cases: &[Case], excluded: &Excluded<'_>| -> Result<Vec<Ranking>> {
        let mut out = Vec::with_capacity(cases.len());
        for (q, c) in cases.iter().enumerate() {
            let mapped = [Case { history_len: in_scene(c.user, c.history_len, c.target.scene), ..*c }];
            out.extend(rankers[c.target.scene as usize](&mapped, &|_, i| excluded(q, i))?);
        }
        Ok(out)
    };
    evaluate(&p.eval_setup(), &p.split.test, &mut ranker)
}

/// Cold start: withhold items, train with their ID vectors off, rank each user's last withheld
/// item among all withheld items from the warm history before it.
fn cold_start_bench(cfg: &TrainConfig, p: &Prepared, runs: &Path) -> Result<Value> {
    let split = cold_start(&p.data, COLD_FRACTION, cfg.seed);
    let known: Vec<bool> = split.cold.iter().map(|c| !c).collect();
    let loo = leave_one_out(&split.warm_histories);
    let users = item_users(p.data.catalog.len(), &split.warm_histories, &loo.train_len);
    let setup = EvalSetup {
        catalog: &p.data.catalog,
        histories: &split.warm_histories,
        item_users: &users,
        n_users: split.warm_histories.len(),
        shelf: Some(&split.cold),
        batch: 256,
    };
    let dev = device(BackendKind::Flex, cfg.seed)?;
    let feats = p.features(&known, &dev)?;
    let input = TrainInput {
        catalog: &p.data.catalog,
        lm: &p.lm,
        known: &known,
        histories: &split.warm_histories,
        train_len: &loo.train_len,
        valid: &loo.valid,
    };
    let mut out = serde_json::Map::new();
    for (name, use_lm) in [("scenerec", true), ("scenerec_no_lm", false)] {
        let mut c = cfg.clone();
        c.model.use_lm = use_lm;
        let trained = train(&c, &input, runs, &format!("cold_{name}"))?;
        let mut ranker = model_ranker(&trained.model, &feats, &split.warm_histories, cfg.rerank, trained.config.max_len);
        let r = evaluate(&setup, &split.test, &mut ranker)?;
        out.insert(name.into(), json!({"ndcg@10": r.overall["ndcg@10"], "hr@10": r.overall["hr@10"], "queries": r.queries}));
    }
    let shelf = split.cold.iter().filter(|&&c| c).count();
    let random: f64 = (1..=10).map(|r| ndcg(r, 10)).sum::<f64>() / shelf as f64;
    out.insert("random".into(), json!({"ndcg@10": random}));
    out.insert("shelf_items".into(), json!(shelf));
    Ok(Value::Object(out))
}

/// The short markdown table committed beside the JSON.
fn markdown(r: &Value) -> String {
    let keys = ["hr@10", "ndcg@10", "ndcg@20", "auc", "coverage@10", "diversity@10", "novelty@10"];
    let mut s = format!(
        "# Accuracy on ML-1M ({})\n\nCommand: `{}`\n\n| model | {} |\n|---|{}\n",
        r["protocol"].as_str().unwrap_or(""),
        r["command"].as_str().unwrap_or(""),
        keys.join(" | "),
        "---|".repeat(keys.len())
    );
    let num = |v: &Value| v.as_f64().map(|x| format!("{x:.4}")).unwrap_or_else(|| "–".into());
    if let Some(models) = r["models"].as_object() {
        for (name, m) in models {
            let cells: Vec<String> = keys.iter().map(|k| num(&m["overall"][*k])).collect();
            s += &format!("| {name} | {} |\n", cells.join(" | "));
        }
        let scenes: Vec<String> = r["protocol_details"]["scenes"]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect())
            .unwrap_or_default();
        s += &format!("\nNDCG@10 per scene (scene of the target):\n\n| model | {} |\n|---|{}\n", scenes.join(" | "), "---|".repeat(scenes.len()));
        for (name, m) in models {
            let cells: Vec<String> = scenes.iter().map(|sc| num(&m["per_scene"][sc]["ndcg@10"])).collect();
            s += &format!("| {name} | {} |\n", cells.join(" | "));
        }
    }
    let c = &r["cold_start"];
    s += &format!(
        "\nCold start ({} withheld items, ranked among themselves from text and genres): NDCG@10 scenerec {}, scenerec_no_lm {}, random {}.\n",
        c["shelf_items"],
        num(&c["scenerec"]["ndcg@10"]),
        num(&c["scenerec_no_lm"]["ndcg@10"]),
        num(&c["random"]["ndcg@10"])
    );
    let h = &r["scenerec_scene_from_last_event"]["overall"];
    s += &format!(
        "\nWithout the target-scene hint (scenerec ranks for the scene of the user's last event): HR@10 {}, NDCG@10 {}.\n",
        num(&h["hr@10"]),
        num(&h["ndcg@10"])
    );
    let t = &r["train"];
    s += &format!(
        "\nTraining (scenerec, flex CPU backend, 2 cores): {} s over {} epochs (best {}), {} samples/s, peak RSS {} MB.\n",
        num(&t["seconds"]),
        t["epochs"],
        t["best_epoch"],
        num(&t["samples_per_s"]),
        num(&t["peak_rss_mb"])
    );
    s
}
