//! `compare`: how sure a difference between two `eval --json` reports is. Two models a few
//! percent apart on ~6,000 users may differ by chance; the benchmark pairs its own models
//! ([`crate::bench::paired`]), and this gives the same paired bootstrap to any two weights
//! files evaluated by hand (a config change, another seed, an ablation), so an experiment's
//! note can carry an interval instead of two means.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

use crate::bench::paired::{self, Paired};
use crate::bench::{RANKS, ranks};
use crate::eval::Report;
use crate::{Error, Result};

/// Seed of the bootstrap's resampling, fixed so the same two reports give the same interval.
const SEED: u64 = 0;

/// An eval report as `eval --json` writes it: each track's metrics and its queries' ranks (as
/// [`ranks::encode_all`] keeps them), and which queries those are (the split and the
/// catalogue's fingerprint), so [`compare`] pairs only reports of the same queries.
pub fn eval_json(reports: &BTreeMap<&'static str, Report>, split: &str, catalog: &str) -> Result<Value> {
    let mut file = serde_json::Map::new();
    file.insert("split".into(), json!(split));
    file.insert("catalog".into(), json!(catalog));
    for (track, report) in reports {
        let mut value = serde_json::to_value(report).map_err(|e| Error::Data(e.to_string()))?;
        value[RANKS] = json!(ranks::encode_all(&report.ranks));
        file.insert((*track).into(), value);
    }
    Ok(Value::Object(file))
}

/// One track's comparison: both mean NDCG@10s (from the kept ranks) and the paired ratio.
#[derive(Debug, serde::Serialize)]
pub struct TrackComparison {
    pub ours: f64,
    pub theirs: f64,
    #[serde(flatten)]
    pub paired: Paired,
}

/// Pairs `ours` with `theirs` (both `eval --json` reports) on every track both hold; refuses
/// reports of different queries or without ranks (written before `eval` kept them).
pub fn compare(ours: &Path, theirs: &Path) -> Result<BTreeMap<String, TrackComparison>> {
    let (a, b) = (read(ours)?, read(theirs)?);
    for key in ["split", "catalog"] {
        if a[key] != b[key] {
            let what = if key == "split" { "split" } else { "catalogue" };
            return Err(Error::Input(format!(
                "{} and {} rank different queries: another {what} ({} vs {})",
                ours.display(),
                theirs.display(),
                a[key],
                b[key]
            )));
        }
    }
    let mut out = BTreeMap::new();
    for (track, report) in a.as_object().into_iter().flatten().filter(|(_, v)| v.get(RANKS).is_some()) {
        let Some(other) = b.get(track).filter(|v| v.get(RANKS).is_some()) else { continue };
        let (x, y) = (ndcg_of(ours, track, report)?, ndcg_of(theirs, track, other)?);
        if x.len() != y.len() {
            return Err(Error::Input(format!("{track}: {} holds {} queries, {} {}", ours.display(), x.len(), theirs.display(), y.len())));
        }
        let paired = paired::compare(&x, &y, paired::RESAMPLES, SEED)
            .ok_or_else(|| Error::Input(format!("{track}: {} scores nothing, so no ratio to it", theirs.display())))?;
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        out.insert(track.clone(), TrackComparison { ours: mean(&x), theirs: mean(&y), paired });
    }
    if out.is_empty() {
        return Err(Error::Input(format!("{} and {} share no track", ours.display(), theirs.display())));
    }
    Ok(out)
}

/// An eval report, refused unless it holds the split and catalogue its queries came from.
fn read(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
    if !value["split"].is_string() || !value["catalog"].is_string() {
        return Err(Error::Input(format!("{}: not a report of `scenerec eval --json` with per-query ranks (rerun eval)", path.display())));
    }
    Ok(value)
}

/// Each query's NDCG@10 in one track of the report at `path`.
fn ndcg_of(path: &Path, track: &str, report: &Value) -> Result<Vec<f64>> {
    let bad = || Error::Input(format!("{}: {track}'s ranks are not as `eval --json` writes them", path.display()));
    let kept = ranks::decode_all(report[RANKS].as_str().ok_or_else(bad)?).ok_or_else(bad)?;
    Ok(paired::ndcg10_of_ranks(&kept))
}

/// `compare`: prints each shared track's paired comparison; with `json`, writes them there too.
pub fn run(ours: &Path, theirs: &Path, json: Option<&Path>) -> Result<()> {
    let tracks = compare(ours, theirs)?;
    println!("NDCG@10 of {} over {} (same queries; 95% interval of a paired bootstrap over users, {} resamples)", ours.display(), theirs.display(), paired::RESAMPLES);
    for (track, c) in &tracks {
        let p = &c.paired;
        println!(
            "{track:<10} {:.4} vs {:.4} = {:.3} [{:.3}, {:.3}], not ahead in {:.1}% of resamples, {} queries",
            c.ours,
            c.theirs,
            p.ratio,
            p.ci95[0],
            p.ci95[1],
            100.0 * p.not_ahead,
            p.queries
        );
    }
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&tracks).map_err(|e| Error::Data(e.to_string()))?;
        super::commands::write(path, text)?;
    }
    Ok(())
}
