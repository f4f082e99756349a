//! Ranking metrics, in RecBole's vocabulary. Each query has exactly one relevant item (the
//! held-out next interaction), so HR@K and NDCG@K reduce to functions of its 1-based rank.

use std::collections::{BTreeMap, HashSet};

/// The cut-offs reported for HR and NDCG.
pub const KS: [usize; 3] = [5, 10, 20];
/// The list length for coverage, diversity and novelty.
pub const LIST_K: usize = 10;

/// Hit ratio: 1 if the target is within the top `k`.
pub fn hit(rank: usize, k: usize) -> f64 {
    if rank <= k { 1.0 } else { 0.0 }
}

/// NDCG with one relevant item: `1 / log2(rank + 1)` within the top `k`, else 0.
pub fn ndcg(rank: usize, k: usize) -> f64 {
    if rank <= k { 1.0 / ((rank + 1) as f64).log2() } else { 0.0 }
}

/// AUC of one query: the fraction of the other `candidates - 1` items ranked below the target.
pub fn auc(rank: usize, candidates: usize) -> f64 {
    if candidates <= 1 { 1.0 } else { candidates.saturating_sub(rank) as f64 / (candidates - 1) as f64 }
}

/// Intra-list diversity: mean pairwise distance `1 - Jaccard(genres)` over the list.
pub fn intra_list_diversity(list: &[usize], genres: &[Vec<u16>]) -> f64 {
    let mut total = 0.0;
    let mut pairs = 0usize;
    for (a, &i) in list.iter().enumerate() {
        for &j in &list[a + 1..] {
            let (gi, gj) = (&genres[i], &genres[j]);
            let inter = gi.iter().filter(|g| gj.contains(g)).count();
            let union = gi.len() + gj.len() - inter;
            total += if union == 0 { 0.0 } else { 1.0 - inter as f64 / union as f64 };
            pairs += 1;
        }
    }
    if pairs == 0 { 0.0 } else { total / pairs as f64 }
}

/// Novelty: mean self-information `-log2 p(i)` of the listed items, where `p(i)` is the share
/// of training users who interacted with `i` (unseen items count as seen once).
pub fn novelty(list: &[usize], item_users: &[u32], n_users: usize) -> f64 {
    if list.is_empty() {
        return 0.0;
    }
    let n = n_users.max(1) as f64;
    list.iter().map(|&i| -((item_users[i].max(1) as f64) / n).log2()).sum::<f64>() / list.len() as f64
}

/// Accumulates per-query results into mean metrics (`hr@5`, `ndcg@10`, `auc`, `coverage@10`, ...).
#[derive(Debug, Default, Clone)]
pub struct Accumulator {
    queries: usize,
    sums: BTreeMap<String, f64>,
    recommended: HashSet<usize>,
}

/// A query's recommended list with what the list metrics need to judge it.
#[derive(Debug, Clone, Copy)]
pub struct TopList<'a> {
    /// The top items, best first.
    pub items: &'a [usize],
    /// Genres of every catalogue item (diversity).
    pub genres: &'a [Vec<u16>],
    /// Training users per item, and the number of users (novelty).
    pub item_users: &'a [u32],
    pub n_users: usize,
}

impl Accumulator {
    /// Adds one query: the target's 1-based `rank` among `candidates` (`None`: the target was
    /// not a candidate, a miss on every metric), and the top of the list (for coverage,
    /// diversity and novelty: pass `None` when those are not wanted).
    pub fn add(&mut self, rank: Option<usize>, candidates: usize, list: Option<TopList<'_>>) {
        self.queries += 1;
        let mut put = |k: String, v: f64| *self.sums.entry(k).or_default() += v;
        for k in KS {
            put(format!("hr@{k}"), rank.map_or(0.0, |r| hit(r, k)));
            put(format!("ndcg@{k}"), rank.map_or(0.0, |r| ndcg(r, k)));
        }
        put("auc".into(), rank.map_or(0.0, |r| auc(r, candidates)));
        if let Some(TopList { items, genres, item_users, n_users }) = list {
            put(format!("diversity@{LIST_K}"), intra_list_diversity(items, genres));
            put(format!("novelty@{LIST_K}"), novelty(items, item_users, n_users));
            self.recommended.extend(items.iter().copied());
        }
    }

    pub fn queries(&self) -> usize {
        self.queries
    }

    /// Mean of each metric; `coverage@10` is the share of `n_items` that appeared in any list.
    pub fn finish(&self, n_items: usize) -> BTreeMap<String, f64> {
        let q = self.queries.max(1) as f64;
        let mut out: BTreeMap<String, f64> = self.sums.iter().map(|(k, v)| (k.clone(), v / q)).collect();
        if !self.recommended.is_empty() {
            out.insert(format!("coverage@{LIST_K}"), self.recommended.len() as f64 / n_items.max(1) as f64);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    #[test]
    fn hit_and_ndcg_by_hand() {
        close(hit(1, 5), 1.0);
        close(hit(6, 5), 0.0);
        close(ndcg(1, 10), 1.0);
        close(ndcg(3, 10), 0.5); // 1 / log2(4)
        close(ndcg(7, 10), 1.0 / 3.0); // 1 / log2(8)
        close(ndcg(11, 10), 0.0);
    }

    #[test]
    fn auc_by_hand() {
        close(auc(1, 5), 1.0);
        close(auc(5, 5), 0.0);
        close(auc(2, 5), 0.75);
    }

    #[test]
    fn diversity_and_novelty_by_hand() {
        let genres = vec![vec![0, 1], vec![1], vec![2]];
        // pairs: (0,1): 1 - 1/2 = .5; (0,2): 1; (1,2): 1 -> 2.5 / 3
        close(intra_list_diversity(&[0, 1, 2], &genres), 2.5 / 3.0);
        close(intra_list_diversity(&[0], &genres), 0.0);
        // p = 4/8 and 1/8 -> (1 + 3) / 2
        close(novelty(&[0, 1], &[4, 1], 8), 2.0);
    }

    #[test]
    fn accumulator_means_and_coverage() {
        let genres = vec![vec![0]; 4];
        let users = vec![1u32; 4];
        let mut acc = Accumulator::default();
        acc.add(Some(1), 4, Some(TopList { items: &[0, 1], genres: &genres, item_users: &users, n_users: 4 }));
        acc.add(Some(3), 4, Some(TopList { items: &[1, 2], genres: &genres, item_users: &users, n_users: 4 }));
        let m = acc.finish(4);
        close(m["hr@5"], 1.0);
        close(m["ndcg@5"], 0.75);
        close(m["auc"], (1.0 + 1.0 / 3.0) / 2.0);
        close(m["coverage@10"], 0.75);
        close(m["diversity@10"], 0.0);
        close(m["novelty@10"], 2.0);
        assert_eq!(acc.queries(), 2);
        acc.add(None, 4, None);
        let m = acc.finish(4);
        close(m["hr@5"], 2.0 / 3.0);
        close(m["auc"], (1.0 + 1.0 / 3.0) / 3.0);
    }
}
