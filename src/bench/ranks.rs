//! Every model's per-query target ranks, kept next to `accuracy.json` so that a merge on
//! another machine (a fresh clone, which has the committed results but not the parts' own)
//! still computes the paired comparisons of [`super::paired`] for the parts it carries.
//!
//! The paired comparisons use NDCG@10 alone, so only a rank within the top 10 matters: each
//! query is one character — `1`–`9` for ranks 1 to 9, `A` for 10, `.` for anything else (a
//! rank past 10, or a target that was not a candidate) — about 6 KB per model and track on
//! ML-1M.

use serde_json::{Value, json};
use std::path::Path;

use super::{RANKS, read_json, write_json};
use crate::Result;

/// The file's name, in the directory of `accuracy.json`.
pub const FILE: &str = "accuracy-ranks.json";

/// The ranks past which NDCG@10 is 0.
const TOP: u64 = 10;

/// One query's rank as a character.
fn encode(rank: u64) -> char {
    match rank {
        1..=9 => char::from(b'0' + rank as u8),
        TOP => 'A',
        _ => '.',
    }
}

/// A character of [`encode`] as a rank (0: not within the top 10); `None` for any other.
fn decode(c: char) -> Option<u64> {
    match c {
        '1'..='9' => Some(u64::from(c as u8 - b'0')),
        'A' => Some(TOP),
        '.' => Some(0),
        _ => None,
    }
}

/// Queries' ranks (0: not a candidate) as the file keeps them, one character each.
pub fn encode_all(ranks: &[u64]) -> String {
    ranks.iter().map(|&r| encode(r)).collect()
}

/// A string of [`encode_all`] as ranks (0: not within the top 10); `None` when it holds a
/// character [`encode`] does not write.
pub fn decode_all(kept: &str) -> Option<Vec<u64>> {
    kept.chars().map(decode).collect()
}

/// The ranks of every model in `tracks` (merged track reports, each model's still holding its
/// [`RANKS`]), as the file keeps them: `{track: {model: "…"}}`.
pub fn collect(tracks: &serde_json::Map<String, Value>) -> Value {
    let mut out = serde_json::Map::new();
    for (track, models) in tracks {
        let kept: serde_json::Map<String, Value> = models
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(name, m)| {
                let ranks = m[RANKS].as_array()?;
                let ranks: Vec<u64> = ranks.iter().map(|r| r.as_u64().unwrap_or(0)).collect();
                Some((name.clone(), json!(encode_all(&ranks))))
            })
            .collect();
        out.insert(track.clone(), Value::Object(kept));
    }
    Value::Object(out)
}

/// `model`'s ranks in `track` from the file's tracks, as the parts store them; `None` when the
/// file has none for it or holds a character [`encode`] does not write.
pub fn of(kept: &Value, track: &str, model: &str) -> Option<Value> {
    decode_all(kept[track][model].as_str()?).map(|r| json!(r))
}

/// Writes the file for the results file `results` (its data set and config, which a later
/// merge checks before it uses the ranks).
pub fn save(out: &Path, results: &Value, tracks: Value) -> Result<()> {
    write_json(&out.join(FILE), &json!({"dataset": results["dataset"], "config": results["config"], "tracks": tracks}))
}

/// The kept ranks' tracks for a merge of `dataset` and `config`, or `Null` when there is no
/// file or it is of another data set or config.
pub fn load(out: &Path, dataset: &Value, config: &Value) -> Result<Value> {
    let path = out.join(FILE);
    if !path.exists() {
        return Ok(Value::Null);
    }
    let file = read_json(&path)?;
    Ok(if file["dataset"] == *dataset && file["config"] == *config { file["tracks"].clone() } else { Value::Null })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the file keeps gives the same NDCG@10 per query as the ranks it was made from.
    #[test]
    fn kept_ranks_keep_ndcg_at_10() {
        let ranks = [1u64, 9, 10, 11, 0, 3124, 2];
        let mut tracks = serde_json::Map::new();
        tracks.insert("agnostic".into(), json!({"sasrec": {"overall": {}, RANKS: ranks}, "target_outside_scene": 0.1}));
        let kept = collect(&tracks);
        assert_eq!(kept, json!({"agnostic": {"sasrec": "19A...2"}}));
        let back: Vec<u64> = serde_json::from_value(of(&kept, "agnostic", "sasrec").unwrap()).unwrap();
        assert_eq!(super::super::paired::ndcg10_of_ranks(&back), super::super::paired::ndcg10_of_ranks(&ranks));
        assert_eq!(of(&kept, "in_scene", "sasrec"), None);
        assert_eq!(of(&json!({"agnostic": {"sasrec": "1x"}}), "agnostic", "sasrec"), None, "not a kept rank");
    }
}
