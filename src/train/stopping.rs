//! When training stops: once the validation score, averaged over the last `window` epochs, has
//! set no new best for `patience` epochs.
//!
//! Why a window: on a small validation set (a few hundred users) one epoch's NDCG@10 moves by
//! as much as a real improvement, so a single lucky epoch resets nothing and an unlucky run of
//! them ends training while the model is still getting better (a 385-user log stopped at epoch
//! 13 of a curve still rising at 20). The mean of a few epochs moves with the trend, not the
//! noise. The weights kept are still those of the best single epoch; only the stop follows
//! the mean, so a window of 1 is plain patience.

/// Epochs since the `window`-epoch running mean of `curve` last set a new best: 0 when the
/// last epoch did (the first always does) and for an empty curve.
pub fn plateau_epochs(curve: &[f64], window: usize) -> usize {
    let window = window.max(1);
    let mut best = f64::NEG_INFINITY;
    let mut best_at = None;
    for end in 1..=curve.len() {
        let recent = &curve[end.saturating_sub(window)..end];
        let mean = recent.iter().sum::<f64>() / recent.len() as f64;
        if mean > best {
            best = mean;
            best_at = Some(end);
        }
    }
    curve.len() - best_at.unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::plateau_epochs;

    #[test]
    fn a_window_of_one_is_plain_patience() {
        let curve = [0.10, 0.12, 0.11, 0.115, 0.119];
        assert_eq!(plateau_epochs(&curve, 1), 3);
        assert_eq!(plateau_epochs(&curve[..2], 1), 0);
        assert_eq!(plateau_epochs(&[], 3), 0);
    }

    #[test]
    fn a_noisy_rise_keeps_going_where_plain_patience_stops() {
        // A rising trend (0.005 an epoch) with ±0.012 of noise: one lucky epoch (0.14) and
        // then four below it.
        let curve = [0.100, 0.117, 0.103, 0.140, 0.113, 0.130, 0.121, 0.134, 0.129, 0.146];
        assert_eq!(plateau_epochs(&curve[..8], 1), 4, "plain patience 4 stops here");
        assert!(plateau_epochs(&curve[..8], 3) < 4, "the 3-epoch mean is still rising");
        assert_eq!(plateau_epochs(&curve, 3), 0);
    }

    #[test]
    fn a_real_plateau_still_stops() {
        let curve = [0.10, 0.14, 0.16, 0.17, 0.165, 0.16, 0.162, 0.158, 0.16, 0.159];
        // Means of 3 peak at epochs 5–6 (0.165) and only fall after.
        let plateau = plateau_epochs(&curve, 3);
        assert!(plateau >= 4, "{plateau}");
        assert_eq!(plateau_epochs(&curve, 1), 6);
    }
}
