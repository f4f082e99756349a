//! How sure a comparison is: scenerec against each other model on the same test users, and a
//! fine-tuned model against the one it started from, paired. One run on ~6,000 users cannot
//! tell apart models a few percent apart, and a table of means does not say so; the ratio of
//! mean NDCG@10 with a 95% confidence interval from a paired bootstrap (users resampled with
//! replacement, both models' results for a resampled user kept together) does.

use serde::Serialize;

use crate::metrics::ndcg;
use crate::rng::Rng;

/// Bootstrap resamples; the percentile interval's ends move by about ±0.002 in the ratio
/// between seeds at 6,000 users.
pub const RESAMPLES: usize = 2000;

/// A paired comparison of two models' NDCG@10 on the same queries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Paired {
    /// Mean NDCG@10 of ours over theirs.
    pub ratio: f64,
    /// The 2.5th and 97.5th percentiles of the ratio over the resamples (the upper end is
    /// unbounded, `null` in JSON, when theirs scores nothing in over 2.5% of resamples).
    pub ci95: [f64; 2],
    /// Share of resamples in which ours is not ahead (ratio ≤ 1): a one-sided p-value for
    /// "ours is better".
    pub not_ahead: f64,
    pub queries: usize,
}

/// NDCG@10 of each query from its rank as results files store it (0: the target was not a
/// candidate, a miss).
pub fn ndcg10_of_ranks(ranks: &[u64]) -> Vec<f64> {
    ranks.iter().map(|&r| if r == 0 { 0.0 } else { ndcg(r as usize, 10) }).collect()
}

/// Compares `ours` with `theirs`, per-query scores of the same queries in the same order.
/// `None` when the lengths differ, there are no queries or resamples, or `theirs` scores nothing.
pub fn compare(ours: &[f64], theirs: &[f64], resamples: usize, seed: u64) -> Option<Paired> {
    let n = ours.len();
    if n == 0 || resamples == 0 || theirs.len() != n || theirs.iter().sum::<f64>() <= 0.0 {
        return None;
    }
    let ratio_of = |picks: &mut dyn Iterator<Item = usize>| {
        let (mut a, mut b) = (0.0, 0.0);
        for i in picks {
            a += ours[i];
            b += theirs[i];
        }
        if b > 0.0 { a / b } else { f64::INFINITY }
    };
    let mut rng = Rng::new(seed);
    let mut ratios: Vec<f64> = (0..resamples).map(|_| ratio_of(&mut (0..n).map(|_| rng.below(n)))).collect();
    ratios.sort_by(f64::total_cmp);
    let at = |q: f64| ratios[((q * resamples as f64) as usize).min(resamples - 1)];
    Some(Paired {
        ratio: ratio_of(&mut (0..n)),
        ci95: [at(0.025), at(0.975)],
        not_ahead: ratios.iter().filter(|&&r| r <= 1.0).count() as f64 / resamples as f64,
        queries: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_to_ndcg() {
        assert_eq!(ndcg10_of_ranks(&[1, 3, 11, 0]), vec![1.0, 0.5, 0.0, 0.0]);
    }

    /// The same scores: a ratio of 1 with no spread, and never ahead. Twice the scores on
    /// every query: exactly 2 in every resample, since pairs move together.
    #[test]
    fn paired_resampling_keeps_pairs_together() {
        let theirs: Vec<f64> = (0..500).map(|i| (i % 7) as f64 / 7.0).collect();
        let same = compare(&theirs, &theirs, 200, 1).unwrap();
        assert_eq!((same.ratio, same.ci95, same.not_ahead), (1.0, [1.0, 1.0], 1.0));
        let double: Vec<f64> = theirs.iter().map(|x| 2.0 * x).collect();
        let d = compare(&double, &theirs, 200, 1).unwrap();
        assert!((d.ratio - 2.0).abs() < 1e-12 && (d.ci95[0] - 2.0).abs() < 1e-12 && (d.ci95[1] - 2.0).abs() < 1e-12, "{d:?}");
        assert_eq!(d.not_ahead, 0.0);
    }

    /// Two models that each win half the queries by the same margin are a tie: the interval
    /// straddles 1 and about half the resamples are not ahead. A model that wins 60 of 100
    /// hit-or-miss queries where the other wins 40 is ahead in most resamples.
    #[test]
    fn intervals_say_how_sure() {
        let ours: Vec<f64> = (0..1000).map(|i| (i % 2) as f64).collect();
        let theirs: Vec<f64> = ours.iter().map(|x| 1.0 - x).collect();
        let tie = compare(&ours, &theirs, 2000, 3).unwrap();
        assert_eq!(tie.ratio, 1.0);
        assert!(tie.ci95[0] < 1.0 && tie.ci95[1] > 1.0, "{tie:?}");
        assert!((0.4..0.6).contains(&tie.not_ahead), "{tie:?}");

        let ours: Vec<f64> = (0..100).map(|i| if i < 60 { 1.0 } else { 0.0 }).collect();
        let theirs: Vec<f64> = (0..100).map(|i| if i >= 60 { 1.0 } else { 0.0 }).collect();
        let ahead = compare(&ours, &theirs, 2000, 3).unwrap();
        assert!((ahead.ratio - 1.5).abs() < 1e-12);
        // Every query is one model's hit, so a resample's hits are Binomial(100, 0.6) ours and
        // the rest theirs: the interval runs from about 1.02 to 2.3, and about 3% of resamples
        // are not ahead.
        assert!(ahead.ci95[0] > 0.95 && ahead.ci95[0] < 1.2 && ahead.ci95[1] > 1.8, "{ahead:?}");
        assert!(ahead.not_ahead < 0.05, "{ahead:?}");
    }

    #[test]
    fn refuses_mismatched_or_empty() {
        assert_eq!(compare(&[1.0], &[1.0, 0.0], 10, 0), None);
        assert_eq!(compare(&[], &[], 10, 0), None);
        assert_eq!(compare(&[1.0], &[0.0], 10, 0), None);
        assert_eq!(compare(&[1.0], &[1.0], 0, 0), None);
    }
}
