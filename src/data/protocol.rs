//! The evaluation protocol: RecBole's ML-1M sequential benchmark, plus a cold-start split.
//!
//! 1. keep interactions rated at least `min_rating` (implicit positives),
//! 2. k-core: drop users and items with fewer than `min_user` / `min_item` interactions,
//!    repeated until stable (as RecBole's `*_inter_num_interval = [10,inf)` does),
//! 3. chronological leave-one-out per user: the last interaction is the test target, the one
//!    before it the validation target, the rest is training history.

use serde::{Deserialize, Serialize};
use super::catalog::Catalog;
use super::dataset::{Dataset, Event};
use crate::rng::Rng;
use crate::{Error, Result};

/// Filtering parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Filter {
    /// Minimum rating kept when the log has ratings (`null`: keep all).
    pub min_rating: Option<f32>,
    pub min_user: usize,
    pub min_item: usize,
}

impl Default for Filter {
    fn default() -> Self {
        Filter { min_rating: Some(3.0), min_user: 10, min_item: 10 }
    }
}

/// Applies the rating filter and the iterated k-core, then drops unused items from the
/// catalogue (so "full ranking" ranks exactly the items that survive, as RecBole does).
pub fn filter(ds: &Dataset, f: &Filter) -> Result<Dataset> {
    let mut histories: Vec<Vec<Event>> = ds
        .histories
        .iter()
        .map(|h| h.iter().filter(|e| match (f.min_rating, e.rating) { (Some(min), Some(r)) => r >= min, _ => true }).copied().collect())
        .collect();
    loop {
        let mut item_count = vec![0usize; ds.catalog.len()];
        for e in histories.iter().flatten() {
            item_count[e.item as usize] += 1;
        }
        let mut changed = false;
        for h in &mut histories {
            let before = h.len();
            h.retain(|e| item_count[e.item as usize] >= f.min_item);
            if h.len() < f.min_user {
                h.clear();
            }
            changed |= h.len() != before;
        }
        if !changed {
            break;
        }
    }
    let users: Vec<String> =
        ds.users.iter().zip(&histories).filter(|(_, h)| !h.is_empty()).map(|(u, _)| u.clone()).collect();
    histories.retain(|h| !h.is_empty());
    if histories.is_empty() {
        return Err(Error::Data("no user is left after filtering: the log is too small for this protocol".into()));
    }
    Ok(compact(&ds.catalog, users, histories))
}

/// Keeps only catalogue items that occur in `histories`, renumbering them in catalogue order.
fn compact(catalog: &Catalog, users: Vec<String>, mut histories: Vec<Vec<Event>>) -> Dataset {
    let mut used = vec![false; catalog.len()];
    for e in histories.iter().flatten() {
        used[e.item as usize] = true;
    }
    let mut remap = vec![u32::MAX; catalog.len()];
    let mut items = Vec::new();
    for (i, item) in catalog.iter().enumerate() {
        if used[i] {
            remap[i] = items.len() as u32;
            items.push(item.to_item());
        }
    }
    for e in histories.iter_mut().flatten() {
        e.item = remap[e.item as usize];
    }
    let catalog = Catalog::new(catalog.scenes.clone(), catalog.genres.clone(), items)
        .expect("a subset of a valid catalogue is valid")
        .with_scene_kind(catalog.scene_kind());
    Dataset { catalog, users, histories }
}

/// One ranking query: rank `target` given the first `history_len` events of `user`'s history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Case {
    pub user: usize,
    pub history_len: usize,
    pub target: Event,
}

/// Chronological leave-one-out: training prefixes and the validation and test queries.
#[derive(Debug, Clone)]
pub struct Split {
    /// Per user, the number of leading events used for training.
    pub train_len: Vec<usize>,
    pub valid: Vec<Case>,
    pub test: Vec<Case>,
}

/// Leave-one-out over each user's history (users with fewer than 3 events only train).
pub fn leave_one_out(histories: &[Vec<Event>]) -> Split {
    let mut split = Split { train_len: Vec::new(), valid: Vec::new(), test: Vec::new() };
    for (user, h) in histories.iter().enumerate() {
        let n = h.len();
        if n < 3 {
            split.train_len.push(n);
            continue;
        }
        split.train_len.push(n - 2);
        split.valid.push(Case { user, history_len: n - 2, target: h[n - 2] });
        split.test.push(Case { user, history_len: n - 1, target: h[n - 1] });
    }
    split
}

/// The cold-start split: a random `fraction` of items is withheld from training entirely.
#[derive(Debug, Clone)]
pub struct ColdSplit {
    /// `true` for withheld items.
    pub cold: Vec<bool>,
    /// Histories without any withheld item (what the model trains on).
    pub warm_histories: Vec<Vec<Event>>,
    /// Per user with a withheld item: their last withheld interaction, ranked among the
    /// withheld items given the warm interactions before it (indexing `warm_histories`).
    pub test: Vec<Case>,
}

pub fn cold_start(ds: &Dataset, fraction: f64, seed: u64) -> ColdSplit {
    let mut rng = Rng::new(seed);
    let n = ds.catalog.len();
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    let mut cold = vec![false; n];
    for &i in order.iter().take(((n as f64) * fraction).round() as usize) {
        cold[i] = true;
    }
    let mut warm_histories = Vec::with_capacity(ds.histories.len());
    let mut test = Vec::new();
    for (user, h) in ds.histories.iter().enumerate() {
        let warm: Vec<Event> = h.iter().filter(|e| !cold[e.item as usize]).copied().collect();
        if let Some(pos) = h.iter().rposition(|e| cold[e.item as usize]) {
            let history_len = h[..pos].iter().filter(|e| !cold[e.item as usize]).count();
            if history_len > 0 {
                test.push(Case { user, history_len, target: h[pos] });
            }
        }
        warm_histories.push(warm);
    }
    ColdSplit { cold, warm_histories, test }
}

/// Each user's history restricted to one scene (the "no cross-scene sharing" ablation).
pub fn scene_histories(histories: &[Vec<Event>], scene: u16) -> Vec<Vec<Event>> {
    histories.iter().map(|h| h.iter().filter(|e| e.scene == scene).copied().collect()).collect()
}
