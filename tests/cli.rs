//! The command line end to end on a real slice of ML-1M: train, resume refusal, eval, export,
//! recommend, benchmark parts, and clear errors for bad input.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn scenerec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scenerec")).args(args).output().expect("the CLI runs")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A prepared data set holding the first 40k interactions of ML-1M (whole users).
fn small_dataset(root: &Path) -> PathBuf {
    let src = common::prepared_dir();
    let dir = root.join("small");
    std::fs::create_dir_all(&dir).unwrap();
    let inter = std::fs::read_to_string(src.join("ml-1m.inter")).unwrap();
    let head: Vec<&str> = inter.lines().take(40_001).collect();
    std::fs::write(dir.join("small.inter"), head.join("\n") + "\n").unwrap();
    std::fs::copy(src.join("ml-1m.item"), dir.join("small.item")).unwrap();
    std::fs::copy(src.join("embeddings.bin"), dir.join("embeddings.bin")).unwrap();
    dir
}

/// A fresh working directory named for the test, with the slice and a one-epoch config of a
/// small model in it: (directory, data, config).
fn workspace(name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let root = std::env::temp_dir().join(format!("scenerec-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let data = small_dataset(&root);
    let config = root.join("config.json");
    std::fs::write(&config, r#"{"epochs": 1, "min_epoch_steps": 0, "model": {"dim": 16, "layers": 1, "max_len": 20}}"#).unwrap();
    (root, data, config)
}

#[test]
fn train_eval_export_recommend() {
    let (root, data, config) = workspace("cli");
    let run = root.join("run");
    let (d, c, r) = (data.to_str().unwrap(), config.to_str().unwrap(), run.to_str().unwrap());

    let out = scenerec(&["train", "--data", d, "--config", c, "--out", r]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("valid NDCG@10"), "per-epoch progress is printed: {}", text(&out));
    let weights = run.join("best.weights");
    let w = weights.to_str().unwrap();

    let again = scenerec(&["train", "--data", d, "--config", c, "--out", r]);
    assert!(!again.status.success() && text(&again).contains("--resume"), "{}", text(&again));

    let report = root.join("report.json");
    let out = scenerec(&["eval", "--data", d, "--config", c, "--weights", w, "--json", report.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    for track in ["agnostic", "in_scene", "last_scene"] {
        let ndcg = json[track]["overall"]["ndcg@10"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&ndcg), "{track}: {ndcg}");
        assert!(json[track]["per_scene"]["Comedy"]["hr@10"].is_number());
    }
    assert_eq!(json["agnostic"]["target_outside"].as_f64(), Some(0.0));
    assert!(json["last_scene"]["target_outside"].as_f64().unwrap() > 0.1, "the last event's scene is often not the target's");
    let one = scenerec(&["eval", "--data", d, "--config", c, "--weights", w, "--track", "in-scene"]);
    assert!(one.status.success() && text(&one).contains("in-scene track") && !text(&one).contains("agnostic"), "{}", text(&one));
    // The browser's quantised item vectors rank about as the f32 model does (on this slice's
    // weak model 0.0679 and 0.0655; what it costs a trained model is in the browser benchmark).
    let quantised = root.join("quantised.json");
    let q = scenerec(&["eval", "--data", d, "--config", c, "--weights", w, "--track", "in-scene", "--quantised", "int8", "--json", quantised.to_str().unwrap()]);
    assert!(q.status.success(), "{}", text(&q));
    let q: serde_json::Value = serde_json::from_slice(&std::fs::read(&quantised).unwrap()).unwrap();
    let ndcg = |v: &serde_json::Value| v["in_scene"]["overall"]["ndcg@10"].as_f64().unwrap();
    eprintln!("in-scene NDCG@10: f32 {:.4}, quantised {:.4}", ndcg(&json), ndcg(&q));
    assert!((ndcg(&q) - ndcg(&json)).abs() <= 0.01, "f32 {} vs quantised {}", ndcg(&json), ndcg(&q));
    // The two reports paired: only the track both hold, the same queries, a ratio near 1.
    let (r, qr) = (report.to_str().unwrap(), root.join("quantised.json"));
    let paired = root.join("paired.json");
    let out = scenerec(&["compare", "--ours", qr.to_str().unwrap(), "--theirs", r, "--json", paired.to_str().unwrap()]);
    assert!(out.status.success() && text(&out).contains("in_scene") && !text(&out).contains("agnostic"), "{}", text(&out));
    let paired: serde_json::Value = serde_json::from_slice(&std::fs::read(&paired).unwrap()).unwrap();
    let in_scene = &paired["in_scene"];
    assert!((in_scene["theirs"].as_f64().unwrap() - ndcg(&json)).abs() < 1e-9, "NDCG@10 from the kept ranks is the report's: {in_scene}");
    let [lo, hi] = [0, 1].map(|i| in_scene["ci95"][i].as_f64().unwrap());
    assert!(lo <= in_scene["ratio"].as_f64().unwrap() && in_scene["ratio"].as_f64().unwrap() <= hi, "{in_scene}");
    assert_eq!(in_scene["queries"].as_u64(), json["in_scene"]["queries"].as_u64());
    let same = scenerec(&["compare", "--ours", r, "--theirs", r]);
    assert!(same.status.success() && text(&same).contains("= 1.000 [1.000, 1.000]"), "{}", text(&same));
    let valid = root.join("valid.json");
    let out = scenerec(&["eval", "--data", d, "--config", c, "--weights", w, "--split", "valid", "--json", valid.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let other = scenerec(&["compare", "--ours", valid.to_str().unwrap(), "--theirs", r]);
    assert!(!other.status.success() && text(&other).contains("rank different queries: another split"), "{}", text(&other));
    let mut old = json.clone();
    old.as_object_mut().unwrap().remove("split");
    let old_path = root.join("old.json");
    std::fs::write(&old_path, old.to_string()).unwrap();
    let old = scenerec(&["compare", "--ours", old_path.to_str().unwrap(), "--theirs", r]);
    assert!(!old.status.success() && text(&old).contains("not a report of `scenerec eval --json` with per-query ranks"), "{}", text(&old));
    let bad = scenerec(&["eval", "--data", d, "--config", c, "--weights", w, "--track", "target"]);
    assert!(!bad.status.success() && text(&bad).contains("unknown track `target`"), "{}", text(&bad));

    let export = root.join("export");
    let out = scenerec(&["export", "--data", d, "--config", c, "--weights", w, "--out", export.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let catalog = scenerec::data::Catalog::from_json(&std::fs::read_to_string(export.join("catalog.json")).unwrap()).unwrap();
    // The browser's files: the item vectors (6-bit codes and one f32 scale per row, plus the frame)
    // instead of the ID table and the text embeddings, and the weights without the ID table.
    let (trained, exported) = (std::fs::read(&weights).unwrap(), std::fs::read(export.join("model.weights")).unwrap());
    let dim = scenerec::store::read_header(&exported).unwrap().0.model.dim;
    let vectors = std::fs::metadata(export.join("item_vectors.bin")).unwrap().len() as usize;
    let row = (dim * 6).div_ceil(8) + 4;
    assert!((catalog.len() * row..catalog.len() * row + 400).contains(&vectors), "{vectors} bytes of item vectors");
    assert!(exported.len() + catalog.len() * dim * 4 <= trained.len() + 200, "the export leaves the ID table out");
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(export.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["format"], 3);
    // The engine's catalogue: ids and scenes, bound to the whole catalogue's fingerprint.
    let bin = scenerec::data::Catalog::from_bin(std::fs::read(export.join("catalog.bin")).unwrap()).unwrap();
    assert_eq!((bin.len(), bin.fingerprint(), bin.id(7)), (catalog.len(), catalog.fingerprint(), catalog.id(7)));
    for name in ["model.weights", "catalog.bin", "item_vectors.bin", "catalog.json"] {
        use sha2::Digest;
        let bytes = std::fs::read(export.join(name)).unwrap();
        let hex: String = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(manifest["files"][name]["sha256"], hex.as_str(), "{name}");
        assert_eq!(manifest["files"][name]["bytes"], bytes.len(), "{name}");
    }
    let popularity: serde_json::Value = serde_json::from_slice(&std::fs::read(export.join("popularity.json")).unwrap()).unwrap();
    let counts: Vec<u64> = popularity["counts"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap()).collect();
    assert_eq!(counts.len(), catalog.len());
    assert!(counts.iter().all(|&c| c > 0), "every item of a 10-core slice was interacted with");

    let out = scenerec(&["tensors", "--weights", w, "--out", export.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(export.join("tensors.json")).unwrap()).unwrap();
    let tensors = index["tensors"].as_array().unwrap();
    let floats: u64 = tensors.iter().map(|t| t["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap()).product::<u64>()).sum();
    assert_eq!(floats * 4, std::fs::metadata(export.join("tensors.f32")).unwrap().len());
    let item_ids = tensors.iter().find(|t| t["name"] == "items.id.weight").expect("the item ID table by name");
    assert_eq!(item_ids["shape"][0].as_u64().unwrap() as usize, catalog.len());

    let out = scenerec(&["recommend", "--data", d, "--config", c, "--weights", w, "--scene", "Sci-Fi", "-k", "5"]);
    assert!(out.status.success(), "{}", text(&out));
    let listed = String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.contains("because you watched")).count();
    assert_eq!(listed, 5, "{}", text(&out));

    let request = root.join("request.json");
    std::fs::write(&request, format!(r#"{{"history": [{{"itemId": {:?}, "scene": {:?}, "time": 1}}], "k": 3}}"#, catalog.id(0), catalog.scenes[catalog.scene_of(0) as usize])).unwrap();
    let (e, r) = (export.to_str().unwrap(), request.to_str().unwrap());
    let ranked = scenerec(&["rank", "--model", e, "--request", r]);
    assert!(ranked.status.success(), "{}", text(&ranked));
    let huge = scenerec(&["rank", "--model", e, "--request", r, "--repeat", "18446744073709551615"]);
    assert!(!huge.status.success() && text(&huge).contains("--repeat is 18446744073709551615; at most"), "{}", text(&huge));

    let bad_scene = scenerec(&["recommend", "--data", d, "--config", c, "--weights", w, "--scene", "Westerns"]);
    assert!(!bad_scene.status.success() && text(&bad_scene).contains("unknown scene `Westerns`"), "{}", text(&bad_scene));
    std::fs::write(root.join("cut.weights"), &std::fs::read(&weights).unwrap()[..100]).unwrap();
    let cut = scenerec(&["eval", "--data", d, "--config", c, "--weights", root.join("cut.weights").to_str().unwrap()]);
    assert!(!cut.status.success() && text(&cut).contains("truncated"), "{}", text(&cut));
    let typo = root.join("typo.json");
    std::fs::write(&typo, r#"{"epocs": 3}"#).unwrap();
    let out = scenerec(&["train", "--data", d, "--config", typo.to_str().unwrap(), "--out", root.join("r2").to_str().unwrap()]);
    assert!(!out.status.success() && text(&out).contains("unknown field `epocs`"), "{}", text(&out));
    std::fs::remove_dir_all(&root).ok();
}

/// Scenes that are surfaces, on a real log: the ML-1M slice with each rating's scene the part of
/// the week it was made in (weekday or weekend) instead of its movie's genre channel, and no
/// scene column in `.item`. Every scene then ranks the whole catalogue, in evaluation and in
/// the exported model.
#[test]
fn surfaces_rank_the_whole_catalogue() {
    let (root, small, config) = workspace("surfaces");
    let data = root.join("week");
    std::fs::create_dir_all(&data).unwrap();
    let inter = std::fs::read_to_string(small.join("small.inter")).unwrap();
    let mut lines = inter.lines();
    let mut out = format!("{}\tscene:token\n", lines.next().unwrap());
    for line in lines {
        let time: i64 = line.rsplit('\t').next().unwrap().parse().unwrap();
        // 1970-01-01 was a Thursday: day 2 and 3 of the week counted from it are the weekend.
        let part = if matches!((time / 86_400) % 7, 2 | 3) { "weekend" } else { "weekday" };
        out += &format!("{line}\t{part}\n");
    }
    std::fs::write(data.join("week.inter"), out).unwrap();
    let item = std::fs::read_to_string(small.join("small.item")).unwrap();
    let without_scene: String = item.lines().map(|l| l.rsplit_once('\t').unwrap().0.to_string() + "\n").collect();
    std::fs::write(data.join("week.item"), without_scene).unwrap();
    std::fs::copy(small.join("embeddings.bin"), data.join("embeddings.bin")).unwrap();
    let run = root.join("run");
    let (d, c, r) = (data.to_str().unwrap(), config.to_str().unwrap(), run.to_str().unwrap());

    let trained = scenerec(&["train", "--data", d, "--config", c, "--out", r]);
    assert!(trained.status.success(), "{}", text(&trained));
    let w = run.join("best.weights");
    let report = root.join("report.json");
    let out = scenerec(&["eval", "--data", d, "--config", c, "--weights", w.to_str().unwrap(), "--json", report.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    for track in ["agnostic", "in_scene", "last_scene"] {
        assert_eq!(json[track]["target_outside"].as_f64(), Some(0.0), "{track}: no surface hides a target");
        assert!(json[track]["per_scene"]["weekend"]["hr@10"].is_number(), "{track}");
    }

    let export = root.join("export");
    let out = scenerec(&["export", "--data", d, "--config", c, "--weights", w.to_str().unwrap(), "--out", export.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let catalog = scenerec::data::Catalog::from_bin(std::fs::read(export.join("catalog.bin")).unwrap()).unwrap();
    assert_eq!(catalog.scene_kind(), scenerec::data::SceneKind::Surfaces);
    let weekday = catalog.scene_index("weekday").unwrap() as u16;
    let request = root.join("request.json");
    let history = format!(r#"[{{"itemId": {:?}, "scene": "weekday", "time": 1}}]"#, catalog.id(0));
    std::fs::write(&request, format!(r#"{{"history": {history}, "scene": "weekend", "k": 20}}"#)).unwrap();
    let ranked = scenerec(&["rank", "--model", export.to_str().unwrap(), "--request", request.to_str().unwrap()]);
    assert!(ranked.status.success(), "{}", text(&ranked));
    let items: Vec<serde_json::Value> = serde_json::from_slice(&ranked.stdout).unwrap();
    let homes: Vec<u16> = items.iter().map(|i| catalog.scene_of(catalog.item_index(i["itemId"].as_str().unwrap()).unwrap())).collect();
    assert_eq!(homes.len(), 20);
    assert!(homes.contains(&weekday), "the weekend surface ranks items met mostly on weekdays: {homes:?}");
    std::fs::remove_dir_all(&root).ok();
}

/// The fine-tuning parts of the benchmark on a slice: the unseen-users part refuses to run
/// before the scenerec part, then measures the fine-tune part's users (all of them, on a slice
/// this small) with a model trained on the others; the sweep measures every strength on
/// validation users and names the best.
#[test]
fn bench_fine_tuning_parts() {
    let (root, data, config) = workspace("cli-bench");
    let (runs, out) = (root.join("runs"), root.join("out"));
    // 40 users keep the sweep's five strengths quick.
    let bench = |parts: &str| {
        let args = ["bench", "--data", data.to_str().unwrap(), "--config", config.to_str().unwrap(), "--runs",
                    runs.to_str().unwrap(), "--out", out.to_str().unwrap(), "--parts", parts, "--fine-tune-users", "40"];
        scenerec(&args)
    };
    let early = bench("fine-tune-unseen");
    assert!(!early.status.success() && text(&early).contains("run the benchmark's scenerec part first"), "{}", text(&early));

    let done = bench("scenerec,fine-tune-sweep,fine-tune,fine-tune-unseen");
    assert!(done.status.success(), "{}", text(&done));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("accuracy.json")).unwrap()).unwrap();
    let (seen, unseen) = (&json["fine_tune"], &json["fine_tune_unseen"]);
    let users = seen["users"].as_u64().unwrap();
    let test_users = json["tracks"]["agnostic"]["scenerec"]["queries"].as_u64().unwrap();
    assert_eq!(users, 40, "--fine-tune-users caps the users ({test_users} test users)");
    assert_eq!(unseen["users"], seen["users"], "the same users");
    assert_eq!(unseen["train"]["epochs"], 1);
    for bucket in ["last5", "last20", "all"] {
        for track in ["in_scene", "agnostic"] {
            for when in ["before", "after"] {
                let v = unseen["history"][bucket][track][when].as_f64().unwrap();
                assert!((0.0..=1.0).contains(&v), "{bucket} {track} {when}: {v}");
            }
        }
    }
    let sweep = &json["fine_tune_sweep"];
    let candidates = sweep["candidates"].as_array().unwrap();
    assert!(candidates.len() > 1 && sweep["users"] == 40, "{sweep}");
    let best = candidates.iter().map(|c| c["worst_ratio"].as_f64().unwrap()).fold(f64::MIN, f64::max);
    let chosen = candidates.iter().find(|c| c["anchor"] == sweep["chosen"]).expect("the chosen strength is a candidate");
    assert_eq!(chosen["worst_ratio"].as_f64().unwrap(), best, "the chosen strength has the best worst cell");
    // Every strength is measured on the same users: the same "before", different "after".
    let before = |c: &serde_json::Value| c["history"]["all"]["in_scene"]["before"].clone();
    assert!(candidates.iter().all(|c| before(c) == before(&candidates[0])));
    // The unseen model is another model: it ranks the same users differently before fine-tuning.
    assert_ne!(unseen["history"]["all"]["in_scene"]["before"], seen["history"]["all"]["in_scene"]["before"]);
    let md = std::fs::read_to_string(out.join("accuracy.md")).unwrap();
    assert!(md.contains("## On-device fine-tuning of users the model never saw"), "{md}");
    assert!(md.contains("## Fine-tuning's pull toward the shared weights (validation)"), "{md}");
    std::fs::remove_dir_all(&root).ok();
}

/// The per-scene part's scene models trained in shards: one shard by hand, then `--jobs 2` (as
/// `JOBS=2 scripts/bench-accuracy.sh per-scene` runs it) starting both shard processes, the
/// finished one finding its models trained, before the part measures them all without
/// retraining; and a
/// merge on a machine without the parts' results (a fresh clone) keeping the committed figures
/// and recomputing the paired comparisons from the committed ranks.
#[test]
fn bench_scene_shards_and_carried_parts() {
    let (root, data, config) = workspace("cli-shards");
    let (runs, out) = (root.join("runs"), root.join("out"));
    let bench = |parts: &str, extra: &[&str]| {
        let mut args = vec!["bench", "--data", data.to_str().unwrap(), "--config", config.to_str().unwrap(), "--runs",
                            runs.to_str().unwrap(), "--out", out.to_str().unwrap(), "--parts", parts];
        args.extend_from_slice(extra);
        scenerec(&args)
    };
    let scene_runs = || std::fs::read_dir(&runs).unwrap().filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("scenerec_scene_")).count();
    for (parts, shard, error) in [
        ("per-scene", "2/2", "want I/N with I < N"),
        ("per-scene", "one", "want I/N"),
        ("scenerec", "0/2", "parts that train several models (per-scene, cold-start, sasrec-seeds, scenerec-seeds)"),
        ("per-scene,cold-start", "0/2", "name one part"),
    ] {
        let bad = bench(parts, &["--shard", shard]);
        assert!(!bad.status.success() && text(&bad).contains(error), "{shard}: {}", text(&bad));
    }
    for extra in [&["--jobs", "0"][..], &["--jobs", "2", "--shard", "0/2"]] {
        let bad = bench("per-scene", extra);
        assert!(!bad.status.success() && text(&bad).contains("--jobs"), "{extra:?}: {}", text(&bad));
    }

    let first = bench("per-scene", &["--shard", "0/2"]);
    assert!(first.status.success(), "{}", text(&first));
    let half = scene_runs();
    assert!(!runs.join("parts").join("per-scene.json").exists() && !out.exists(), "a shard only trains");
    let part = bench("per-scene", &["--jobs", "2"]);
    assert!(part.status.success(), "{}", text(&part));
    for i in 0..2 {
        assert!(text(&part).contains(&format!("== shard {i}/2 of part per-scene finished: exit status: 0")), "{}", text(&part));
    }
    let scenes = scene_runs();
    assert!(half > 0 && scenes > half && scenes <= 2 * half, "shard 0 trains every other scene: {half} of {scenes}");
    let shard_log = |i: usize| std::fs::read_to_string(runs.join("logs").join(format!("per-scene-shard-{i}.log"))).unwrap();
    assert!(!shard_log(0).contains("== training") && shard_log(0).contains("models of shard 0/2"), "{}", shard_log(0));
    assert_eq!(shard_log(1).matches("== training scenerec_scene_").count(), scenes - half, "{}", shard_log(1));
    assert_eq!(text(&part).matches("== resuming scenerec_scene_").count(), scenes, "{}", text(&part));
    assert!(!text(&part).contains("== training"), "the shards' models are not retrained: {}", text(&part));
    assert!(bench("scenerec", &[]).status.success());
    let read = || -> serde_json::Value { serde_json::from_slice(&std::fs::read(out.join("accuracy.json")).unwrap()).unwrap() };
    let measured = read();
    assert!(measured["tracks"]["in_scene"]["scenerec_per_scene"]["overall"]["ndcg@10"].is_number());
    assert_eq!(measured["carried_parts"], serde_json::json!([]));
    let per_scene_paired = &measured["paired"]["in_scene"]["scenerec_per_scene"];
    assert!(per_scene_paired["ratio"].is_number(), "{}", measured["paired"]);

    // A fresh clone has the results file and the kept ranks but not the parts: the merge keeps
    // the parts' figures, and their paired comparisons come from the kept ranks.
    std::fs::remove_dir_all(runs.join("parts")).unwrap();
    let merged = bench("none", &[]);
    assert!(merged.status.success(), "{}", text(&merged));
    let carried = read();
    assert_eq!(carried["carried_parts"], serde_json::json!(["scenerec", "per-scene"]));
    for track in ["agnostic", "in_scene", "last_scene"] {
        assert_eq!(carried["tracks"][track]["scenerec_per_scene"], measured["tracks"][track]["scenerec_per_scene"], "{track}");
        assert_eq!(carried["paired"][track], measured["paired"][track], "{track}");
    }
    assert_eq!(carried["train"]["scenerec_per_scene"], measured["train"]["scenerec_per_scene"]);
    assert!(std::fs::read_to_string(out.join("accuracy.md")).unwrap().contains("carried from the previous results file"));
    // scenerec's part measured again (its finished run resumed) against the carried per-scene
    // part: only the kept ranks can give that comparison.
    let again = bench("scenerec", &[]);
    assert!(again.status.success() && !text(&again).contains("== training"), "{}", text(&again));
    assert_eq!(read()["carried_parts"], serde_json::json!(["per-scene"]));
    assert_eq!(read()["paired"], measured["paired"]);
    // Without the kept ranks, the comparisons of two carried parts are kept from the results file.
    std::fs::remove_dir_all(runs.join("parts")).unwrap();
    std::fs::remove_file(out.join("accuracy-ranks.json")).unwrap();
    assert!(bench("none", &[]).status.success());
    assert_eq!(read()["paired"], measured["paired"]);

    // Another config's results are not carried into this one's.
    std::fs::write(&config, r#"{"epochs": 2, "min_epoch_steps": 0, "model": {"dim": 16, "layers": 1, "max_len": 20}}"#).unwrap();
    assert!(bench("none", &[]).status.success());
    assert_eq!(read()["carried_parts"], serde_json::json!([]));
    assert!(read()["tracks"]["in_scene"]["scenerec_per_scene"].is_null());
    std::fs::remove_dir_all(&root).ok();
}

/// The cold-start part's two models trained in shards, one each (as `JOBS=2
/// scripts/bench-accuracy.sh cold-start` runs them side by side), then measured by the part
/// without retraining.
#[test]
fn bench_cold_start_shards() {
    let (root, data, config) = workspace("cli-cold");
    let (runs, out) = (root.join("runs"), root.join("out"));
    let bench = |extra: &[&str]| {
        let mut args = vec!["bench", "--data", data.to_str().unwrap(), "--config", config.to_str().unwrap(), "--runs",
                            runs.to_str().unwrap(), "--out", out.to_str().unwrap(), "--parts", "cold-start"];
        args.extend_from_slice(extra);
        scenerec(&args)
    };
    let first = bench(&["--shard", "0/2"]);
    assert!(first.status.success(), "{}", text(&first));
    assert!(runs.join("cold_scenerec_no_lm").exists() && !runs.join("cold_scenerec").exists(), "shard 0 trains the first model only");
    assert!(!runs.join("parts").join("cold-start.json").exists() && !out.exists(), "a shard only trains");
    let second = bench(&["--shard", "1/2"]);
    assert!(second.status.success() && runs.join("cold_scenerec").exists(), "{}", text(&second));

    let part = bench(&[]);
    assert!(part.status.success(), "{}", text(&part));
    assert_eq!(text(&part).matches("== resuming cold_").count(), 2, "{}", text(&part));
    assert!(!text(&part).contains("== training"), "the shards' models are not retrained: {}", text(&part));
    let results: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("accuracy.json")).unwrap()).unwrap();
    for model in ["scenerec", "scenerec_no_lm"] {
        let ndcg = results["cold_start"][model]["overall"]["ndcg@10"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&ndcg), "{model}: {ndcg}");
    }
    assert!(results["cold_start"]["lm_gain_over_best_baseline"].as_f64().unwrap() > 0.0);
    std::fs::remove_dir_all(&root).ok();
}
