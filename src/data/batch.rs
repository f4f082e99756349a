//! Turning history windows (slices of events) into [`HistoryBatch`] tensors.

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use super::dataset::Event;
use crate::model::HistoryBatch;
use crate::model::config::GAP_BUCKETS;

/// Bucket of the time between two events: 0 for the first event, then one bucket per doubling
/// of the gap in minutes, so "same session" and "months later" read differently.
pub fn gap_bucket(previous: Option<i64>, time: i64) -> i64 {
    match previous {
        None => 0,
        Some(p) => {
            // Saturating: a page may send any times, and extreme ones must not overflow.
            let minutes = (time.saturating_sub(p).max(0) / 60) as u64;
            (1 + (64 - (minutes + 1).leading_zeros() as i64 - 1)).min(GAP_BUCKETS as i64 - 1)
        }
    }
}

/// Bucket of the time from a history's last event to the request at `now` (0, "unknown", for an
/// empty history), as [`gap_bucket`] buckets the gaps between events.
pub fn query_gap(history: &[Event], now: i64) -> i64 {
    history.last().map_or(0, |e| gap_bucket(Some(e.time), now))
}

/// [`history_batch`] for requests made at `nows` (one per window, in seconds): each window's
/// [`query_gap`] filled in, as models with [`crate::model::ModelConfig::query_time`] read it.
pub fn timed_history_batch(windows: &[&[Event]], nows: &[i64], n_items: usize, max_len: usize, device: &Device) -> HistoryBatch {
    let mut batch = history_batch(windows, n_items, max_len, device);
    let gaps: Vec<i64> = windows.iter().zip(nows).map(|(w, &now)| query_gap(w, now)).collect();
    batch.query_gaps = Some(Tensor::from_data(TensorData::new(gaps, [windows.len()]), device));
    batch
}

/// Left-pads windows to a common length (their longest, at most `max_len`, at least 1) and
/// keeps each window's most recent `max_len` events.
pub fn history_batch(windows: &[&[Event]], n_items: usize, max_len: usize, device: &Device) -> HistoryBatch {
    let len = windows.iter().map(|w| w.len().min(max_len)).max().unwrap_or(0).max(1);
    let b = windows.len();
    let mut items = vec![n_items as i64; b * len];
    let mut scenes = vec![0i64; b * len];
    let mut actions = vec![0i64; b * len];
    let mut gaps = vec![0i64; b * len];
    let mut positions = vec![0i64; b * len];
    let mut pad = vec![true; b * len];
    for (row, w) in windows.iter().enumerate() {
        let start = w.len().saturating_sub(max_len);
        let kept = &w[start..];
        let offset = len - kept.len();
        for (j, e) in kept.iter().enumerate() {
            let k = row * len + offset + j;
            items[k] = e.item as i64;
            scenes[k] = e.scene as i64;
            actions[k] = e.action as i64;
            let previous = if start + j > 0 { Some(w[start + j - 1].time) } else { None };
            gaps[k] = gap_bucket(previous, e.time);
            positions[k] = (kept.len() - 1 - j) as i64;
            pad[k] = false;
        }
    }
    let int = |v: Vec<i64>| Tensor::<2, Int>::from_data(TensorData::new(v, [b, len]), device);
    HistoryBatch {
        items: int(items),
        scenes: int(scenes),
        actions: int(actions),
        gaps: int(gaps),
        positions: int(positions),
        pad: Tensor::<2, Bool>::from_data(TensorData::new(pad, [b, len]), device),
        side_keep: None,
        query_gaps: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Action;

    #[test]
    fn gap_buckets_grow_with_log_time() {
        assert_eq!(gap_bucket(None, 100), 0);
        assert_eq!(gap_bucket(Some(0), 30), 1);
        assert_eq!(gap_bucket(Some(0), 60), 2);
        assert_eq!(gap_bucket(Some(0), 3 * 60), 3);
        assert_eq!(gap_bucket(Some(0), 10_i64.pow(9)), GAP_BUCKETS as i64 - 1);
        assert_eq!(gap_bucket(Some(50), 10), 1, "clock going backwards is a zero gap");
    }

    #[test]
    fn the_query_gap_is_the_gap_from_the_last_event_and_unknown_without_one() {
        let ev = |time: i64| Event { item: 0, scene: 0, action: Action::Like, time, rating: None };
        let history = [ev(0), ev(600)];
        assert_eq!(query_gap(&history, 600 + 3 * 60), gap_bucket(Some(600), 600 + 3 * 60));
        assert_eq!(query_gap(&history, 600 + 3 * 60), 3);
        assert_eq!(query_gap(&[], 1000), 0, "no history: unknown");
    }

    #[test]
    fn windows_are_left_padded_and_truncated_to_recent() {
        let ev = |item: u32, time: i64| Event { item, scene: 1, action: Action::Like, time, rating: None };
        let long: Vec<Event> = (0..5).map(|i| ev(i, i as i64 * 60)).collect();
        let short = vec![ev(9, 0)];
        let b = history_batch(&[&long, &short], 10, 3, &Device::flex());
        assert_eq!(b.dims(), [2, 3]);
        let items: Vec<i64> = b.items.into_data().convert::<i64>().try_to_vec().unwrap();
        assert_eq!(items, vec![2, 3, 4, 10, 10, 9]);
        let pos: Vec<i64> = b.positions.into_data().convert::<i64>().try_to_vec().unwrap();
        assert_eq!(pos, vec![2, 1, 0, 0, 0, 0]);
        let pad: Vec<bool> = b.pad.into_data().try_to_vec().unwrap();
        assert_eq!(pad, vec![false, false, false, true, true, false]);
        let gaps: Vec<i64> = b.gaps.into_data().convert::<i64>().try_to_vec().unwrap();
        assert_eq!(gaps[0], 2, "first kept event still sees the gap to the dropped one");
    }
}
