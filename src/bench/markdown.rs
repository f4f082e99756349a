//! `accuracy.md`: the merged results as tables, one per track (agnostic first).

use serde_json::Value;

use super::{MODELS, NO_LM, OURS};
use crate::eval::Track;
use crate::fine_tune::DEFAULT_ANCHOR;

const KEYS: [&str; 7] = ["hr@10", "ndcg@10", "ndcg@20", "auc", "coverage@10", "diversity@10", "novelty@10"];

fn num(v: &Value) -> String {
    v.as_f64().map(|x| format!("{x:.4}")).unwrap_or_else(|| "–".into())
}

/// A count or a duration in whole units.
fn int(v: &Value) -> String {
    v.as_f64().map(|x| format!("{x:.0}")).unwrap_or_else(|| "–".into())
}

pub fn render(r: &Value) -> String {
    let mut s = format!("# Accuracy on {}\n\nCommand: `{}`\n\n", r["dataset"].as_str().unwrap_or("?"), r["command"].as_str().unwrap_or(""));
    let protocol = &r["protocol"];
    s += &format!(
        "Protocol: {}; {}-core; {}; histories of at most {}; {}; {}.\n",
        protocol["positives"].as_str().unwrap_or(""),
        protocol["k_core"][0],
        protocol["split"].as_str().unwrap_or(""),
        protocol["max_len"],
        protocol["ranking"].as_str().unwrap_or(""),
        protocol["validation"].as_str().unwrap_or("")
    );
    let scenes: Vec<String> =
        protocol["scenes"].as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect()).unwrap_or_default();
    for track in Track::ALL {
        let t = &r["tracks"][track.key()];
        if !t.is_object() {
            continue;
        }
        s += &format!("\n## Track `{}`\n\n| model | {} |\n|---|{}\n", track.name(), KEYS.join(" | "), "---|".repeat(KEYS.len()));
        for m in MODELS.iter().filter(|m| t[**m].is_object()) {
            let cells: Vec<String> = KEYS.iter().map(|k| num(&t[*m]["overall"][*k])).collect();
            s += &format!("| {m} | {} |\n", cells.join(" | "));
        }
        if track == Track::LastScene {
            let outside = MODELS.iter().find_map(|m| t[*m]["target_outside"].as_f64());
            if let Some(o) = outside {
                s += &format!("\nThe target is outside the last event's scene for {:.1}% of users (a miss for every model).\n", 100.0 * o);
            }
        }
        s += &format!("\nNDCG@10 per scene of the target:\n\n| model | {} |\n|---|{}\n", scenes.join(" | "), "---|".repeat(scenes.len()));
        for m in MODELS.iter().filter(|m| t[**m].is_object()) {
            let cells: Vec<String> = scenes.iter().map(|sc| num(&t[*m]["per_scene"][sc]["ndcg@10"])).collect();
            s += &format!("| {m} | {} |\n", cells.join(" | "));
        }
    }
    s += &paired(&r["paired"]);
    s += &variance(&r["training_variance"]);
    let c = &r["cold_start"];
    if c.is_object() {
        s += &format!(
            "\n## Cold start\n\n{} withheld items; each user's last withheld item ranked among the withheld items of its scene ({} users). NDCG@10: scenerec {}, scenerec_no_lm {}, genre popularity {}, random within the scene {}; scenerec / best baseline = {}.\n",
            c["shelf_items"],
            c["queries"],
            num(&c[OURS]["overall"]["ndcg@10"]),
            num(&c[NO_LM]["overall"]["ndcg@10"]),
            num(&c["genre_popularity"]["overall"]["ndcg@10"]),
            num(&c["random_in_scene"]["ndcg@10"]),
            num(&c["lm_gain_over_best_baseline"])
        );
    }
    let f = &r["fine_tune_sweep"];
    if f.is_object() {
        s += &format!(
            "\n## Fine-tuning's pull toward the shared weights (validation)\n\n{} validation users (the validation item held out), fine-tuned with each strength (`anchor`); after ÷ before NDCG@10 per history and track. Chosen: the highest worst cell, {} ({}).\n\n",
            f["users"],
            anchor(&f["chosen"]),
            match f["default"].as_f64() {
                Some(then) if then != DEFAULT_ANCHOR => format!("the browser's default is {DEFAULT_ANCHOR}; it was {then} when the sweep ran"),
                _ => format!("the browser's default: {DEFAULT_ANCHOR}"),
            }
        );
        s += &sweep_table(f);
    }
    let f = &r["fine_tune"];
    if f.is_object() {
        s += &format!("\n## On-device fine-tuning\n\n{} test users, fine-tuned as the browser does (options {}). {FINE_TUNE_CELLS}\n\n", f["users"], f["options"]);
        s += &fine_tune_table(f);
    }
    let f = &r["fine_tune_unseen"];
    if f.is_object() {
        s += &format!(
            "\n## On-device fine-tuning of users the model never saw\n\nThe same {} users, the same fine-tuning, with a model pretrained without them (best epoch {} of {}): the case of a browser user, whose history is in no site log. {FINE_TUNE_CELLS}\n\n",
            f["users"],
            int(&f["train"]["best_epoch"]),
            int(&f["train"]["epochs"])
        );
        s += &fine_tune_table(f);
    }
    if let Some(train) = r["train"].as_object() {
        s += "\n## Training (flex CPU backend; each part one thread, two parts side by side on 2 cores)\n\n| model | seconds | epochs | best epoch | optimizer steps | peak RSS (MB) |\n|---|---|---|---|---|---|\n";
        for m in MODELS.iter().filter(|m| train.contains_key(**m)) {
            let t = &train[*m];
            s += &format!(
                "| {m} | {} | {} | {} | {} | {} |\n",
                int(&t["seconds"]),
                int(&t["epochs"]),
                int(&t["best_epoch"]),
                int(&t["steps"]),
                int(&t["peak_rss_mb"])
            );
        }
        for (m, variants) in MODELS.iter().filter_map(|m| Some((m, train.get(*m)?["variants"].as_array()?))) {
            s += &format!("\n{m} was tuned over these variants (the best on validation is measured above):\n\n| variant | valid NDCG@10 | seconds |\n|---|---|---|\n");
            for v in variants {
                s += &format!("| {} | {} | {} |\n", v["variant"].as_str().unwrap_or("?"), num(&v["valid_ndcg@10"]), int(&v["seconds"]));
            }
        }
    }
    if let Some(missing) = r["missing_parts"].as_array().filter(|m| !m.is_empty()) {
        let names: Vec<&str> = missing.iter().filter_map(Value::as_str).collect();
        s += &format!("\nParts not run yet: {}.\n", names.join(", "));
    }
    if let Some(carried) = r["carried_parts"].as_array().filter(|m| !m.is_empty()) {
        let names: Vec<&str> = carried.iter().filter_map(Value::as_str).collect();
        s += &format!(
            "\nParts carried from the previous results file (their own results were not on the machine that merged this one, so their paired intervals come from the per-query ranks kept in accuracy-ranks.json, and are missing where it has none): {}.\n",
            names.join(", ")
        );
    }
    s
}

/// Training variance: each retrained model's test NDCG@10 per track as mean ± sd over seeds.
fn variance(v: &Value) -> String {
    let Some(models) = v["models"].as_object() else { return String::new() };
    let mut s = format!(
        "\n## Training variance\n\nTest NDCG@10, mean ± standard deviation over training seeds (the main run is the first; each model keeps the variant it chose on validation):\n\n| model | seeds | {} |\n|---|---|{}\n",
        Track::ALL.map(|t| t.name()).join(" | "),
        "---|".repeat(Track::ALL.len())
    );
    for (name, m) in models {
        let cells: Vec<String> = Track::ALL
            .iter()
            .map(|t| {
                let c = &m["tracks"][t.key()];
                format!("{} ± {}", num(&c["mean"]), num(&c["sd"]))
            })
            .collect();
        s += &format!("| {name} | {} | {} |\n", seed_list(&m["tracks"][Track::Agnostic.key()]), cells.join(" | "));
    }
    let over = &v["scenerec_over_sasrec"];
    let cells: Vec<String> = Track::ALL.iter().map(|t| num(&over[t.key()]["ratio"])).collect();
    s += &format!("| scenerec ÷ SASRec (means over the seeds both have) | {} | {} |\n", seed_list(&over[Track::Agnostic.key()]), cells.join(" | "));
    s
}

/// A variance entry's `seeds`, comma-separated.
fn seed_list(entry: &Value) -> String {
    let seeds: Vec<String> = entry["seeds"].as_array().into_iter().flatten().map(Value::to_string).collect();
    seeds.join(", ")
}

/// A paired comparison as `ratio [low, high]`.
fn ratio(c: &Value) -> Option<String> {
    let (r, lo, hi) = (c["ratio"].as_f64()?, c["ci95"][0].as_f64()?, c["ci95"][1].as_f64()?);
    Some(format!("{r:.3} [{lo:.3}, {hi:.3}]"))
}

/// The paired comparisons: one row per model scenerec is compared with, one column per track.
fn paired(p: &Value) -> String {
    let tracks: Vec<Track> = Track::ALL.into_iter().filter(|t| p[t.key()].is_object()).collect();
    let models: Vec<&str> = MODELS.into_iter().filter(|m| tracks.iter().any(|t| p[t.key()][*m].is_object())).collect();
    if models.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = tracks.iter().map(|t| t.name()).collect();
    let mut s = format!(
        "\n## scenerec against each model, paired\n\nscenerec's mean NDCG@10 over the model's on the same test users, with a 95% interval from a paired bootstrap over users; an interval that holds 1 is a tie, and ties count against scenerec.\n\n| scenerec ÷ | {} |\n|---|{}\n",
        names.join(" | "),
        "---|".repeat(names.len())
    );
    for m in models {
        let cells: Vec<String> = tracks
            .iter()
            .map(|t| ratio(&p[t.key()][m]).unwrap_or_else(|| "–".into()))
            .collect();
        s += &format!("| {m} | {} |\n", cells.join(" | "));
    }
    s
}

/// What a fine-tuning table's cells hold.
const FINE_TUNE_CELLS: &str =
    "NDCG@10 before → after (after ÷ before on the same users, with its 95% paired-bootstrap interval):";

/// One row per history bucket of a fine-tuning result.
fn fine_tune_table(f: &Value) -> String {
    let mut s = String::from("| history on the device | in-scene | agnostic | seconds per user |\n|---|---|---|---|\n");
    for (bucket, v) in f["history"].as_object().into_iter().flatten() {
        let cell = |t: &Value| format!("{} → {}{}", num(&t["before"]), num(&t["after"]), ratio(&t["paired"]).map(|r| format!(" ({r})")).unwrap_or_default());
        s += &format!("| {bucket} | {} | {} | {} |\n", cell(&v["in_scene"]), cell(&v["agnostic"]), num(&v["seconds_per_user"]));
    }
    s
}

/// A strength of the sweep as a number (`30`, not `30.0`).
fn anchor(v: &Value) -> String {
    v.as_f64().map_or("–".into(), |a| a.to_string())
}

/// One row per strength of the sweep: each bucket's after ÷ before, in-scene and agnostic, the
/// shortest history first.
fn sweep_table(f: &Value) -> String {
    let candidates = f["candidates"].as_array().map(Vec::as_slice).unwrap_or_default();
    let buckets: Vec<&str> =
        ["last5", "last20", "all"].into_iter().filter(|b| candidates.first().is_some_and(|c| !c["history"][*b].is_null())).collect();
    let mut s = String::from("| anchor |");
    for b in &buckets {
        s += &format!(" {b} in-scene | {b} agnostic |");
    }
    s += " worst |\n|---|";
    s += &"---|---|".repeat(buckets.len());
    s += "---|\n";
    for c in candidates {
        s += &format!("| {} |", anchor(&c["anchor"]));
        for b in &buckets {
            for track in ["in_scene", "agnostic"] {
                let r = super::fine_tune::cell_ratio(&c["history"][*b][track]).map(|r| format!("{r:.3}"));
                s += &format!(" {} |", r.unwrap_or_else(|| "–".into()));
            }
        }
        s += &format!(" {} |\n", c["worst_ratio"].as_f64().map_or("–".into(), |w| format!("{w:.3}")));
    }
    s
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    /// Parts run so far are rendered, the rest named; a model without tuning variants is fine.
    #[test]
    fn renders_partial_results() {
        let r = json!({
            "dataset": "ml-1m", "command": "scripts/bench-accuracy.sh",
            "protocol": {"positives": "ratings of at least 3", "k_core": [10, 10], "scenes": ["A", "B"]},
            "tracks": {"agnostic": {"popularity": {"overall": {"ndcg@10": 0.1}, "per_scene": {"A": {"ndcg@10": 0.2}}}}},
            "train": {"popularity": {"seconds": 0.4},
                      "sasrec": {"seconds": 2000.6, "epochs": 30, "variants": [{"variant": "constant", "valid_ndcg@10": 0.2, "seconds": 3.2}]}},
            "missing_parts": ["cold-start"],
            "paired": {"agnostic": {"sasrec": {"ratio": 0.97, "ci95": [0.94, 1.012]}}},
            "fine_tune_sweep": {"users": 4, "chosen": 30.0, "default": 3.0, "candidates": [
                {"anchor": 30.0, "worst_ratio": 0.5, "history": {"last5": {
                    "in_scene": {"before": 0.2, "after": 0.1}, "agnostic": {"before": 0.1, "after": 0.11}}}}]},
            "fine_tune": {"users": 2, "options": {}, "history": {"all": {
                "in_scene": {"before": 0.3, "after": 0.31, "paired": {"ratio": 1.033, "ci95": [1.0, 1.07]}},
                "agnostic": {"before": 0.1, "after": 0.1}, "seconds_per_user": 0.1}}},
            "fine_tune_unseen": {"users": 2, "train": {"best_epoch": 7, "epochs": 11}, "history": {"last5": {
                "in_scene": {"before": 0.2, "after": 0.25}, "agnostic": {}, "seconds_per_user": 0.2}}},
            "training_variance": {"models": {"sasrec": {"tracks": {
                "agnostic": {"seeds": [42, 43], "mean": 0.17, "sd": 0.003}, "in_scene": {"mean": 0.31, "sd": null}}}},
                "scenerec_over_sasrec": {"agnostic": {"ratio": 0.98, "seeds": [42]}}},
        });
        let md = super::render(&r);
        assert!(md.contains("| popularity | – | 0.1000 | – |"), "{md}");
        assert!(md.contains("| popularity | 0.2000 | – |"), "per scene: {md}");
        assert!(md.contains("| sasrec | 2001 | 30 | – | – | – |"), "{md}");
        assert!(md.contains("| constant | 0.2000 | 3 |"), "{md}");
        assert!(md.contains("Parts not run yet: cold-start."), "{md}");
        assert!(md.contains("| all | 0.3000 → 0.3100 (1.033 [1.000, 1.070]) | 0.1000 → 0.1000 | 0.1000 |"), "fine-tuning: {md}");
        let now = crate::fine_tune::DEFAULT_ANCHOR;
        assert!(md.contains(&format!("Chosen: the highest worst cell, 30 (the browser's default is {now}; it was 3 when the sweep ran)")), "sweep: {md}");
        assert!(md.contains("| anchor | last5 in-scene | last5 agnostic | worst |\n|---|---|---|---|\n| 30 | 0.500 | 1.100 | 0.500 |"), "sweep: {md}");
        assert!(md.contains("model pretrained without them (best epoch 7 of 11)"), "unseen users: {md}");
        assert!(md.contains("| last5 | 0.2000 → 0.2500 | – → – | 0.2000 |"), "unseen users: {md}");
        assert!(md.contains("| scenerec ÷ | agnostic |\n|---|---|\n| sasrec | 0.970 [0.940, 1.012] |"), "paired: {md}");
        assert!(md.contains("| sasrec | 42, 43 | 0.1700 ± 0.0030 | 0.3100 ± – | – ± – |"), "variance: {md}");
        assert!(md.contains("| scenerec ÷ SASRec (means over the seeds both have) | 42 | 0.9800 | – | – |"), "variance: {md}");
        assert!(!md.contains("## Track `in-scene`"), "tracks without results are left out: {md}");
    }
}
