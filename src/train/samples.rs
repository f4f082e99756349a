//! Training samples: windows of a user's history; every position predicts the next event.

use crate::data::Event;
use crate::rng::Rng;

/// A training window: `events[..len-1]` are read, `events[1..]` are predicted.
pub type Window<'a> = &'a [Event];

/// Cuts each history into windows of `max_len + 1` events, from the most recent backwards,
/// consecutive windows sharing one event, so every interaction is a target exactly once.
pub fn windows(histories: &[Vec<Event>], max_len: usize) -> Vec<Window<'_>> {
    let mut out = Vec::new();
    for h in histories {
        let mut end = h.len();
        while end >= 2 {
            let start = end.saturating_sub(max_len + 1);
            out.push(&h[start..end]);
            end = start + 1;
            if start == 0 {
                break;
            }
        }
    }
    out
}

/// One epoch's batches: the windows shuffled and grouped into batches, pass after freshly
/// shuffled pass until there are at least `min_steps` (one pass when the data is large enough).
///
/// Why: early stopping, the epoch cap and the learning-rate schedule count epochs. On a small
/// data set one pass is a few dozen steps, so counted in passes, patience would give up after
/// a hundred steps on a validation score that a few hundred users make noisy.
pub fn epoch_batches<'a>(
    windows: &[Window<'a>],
    batch_size: usize,
    min_steps: usize,
    rng: &mut Rng,
) -> Vec<Vec<Window<'a>>> {
    let mut batches = Vec::new();
    loop {
        let mut order = windows.to_vec();
        rng.shuffle(&mut order);
        batches.extend(order.chunks(batch_size).map(<[_]>::to_vec));
        if batches.len() >= min_steps || windows.is_empty() {
            return batches;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Action;

    #[test]
    fn windows_cover_every_target_once() {
        let h: Vec<Event> =
            (0..12).map(|i| Event { item: i, scene: 0, action: Action::Interact, time: 0, rating: None }).collect();
        let w = windows(std::slice::from_ref(&h), 4);
        let targets: Vec<u32> = w.iter().flat_map(|w| w[1..].iter().map(|e| e.item)).collect();
        let mut sorted = targets.clone();
        sorted.sort();
        assert_eq!(sorted, (1..12).collect::<Vec<_>>());
        assert_eq!(w[0].len(), 5);
        assert!(windows(&[h[..1].to_vec()], 4).is_empty());
    }

    #[test]
    fn an_epoch_repeats_short_passes_up_to_its_minimum_steps() {
        let h: Vec<Event> =
            (0..40).map(|i| Event { item: i, scene: 0, action: Action::Interact, time: 0, rating: None }).collect();
        let w = windows(std::slice::from_ref(&h), 4);
        assert_eq!(w.len(), 10);
        let mut rng = Rng::new(7);
        // 10 windows in batches of 4 are 3 steps a pass: one pass already has 2, three make 9.
        assert_eq!(epoch_batches(&w, 4, 2, &mut rng).len(), 3);
        let epoch = epoch_batches(&w, 4, 8, &mut rng);
        assert_eq!(epoch.len(), 9);
        // Every window is in every pass: three times in all.
        let mut seen: Vec<u32> = epoch.iter().flatten().map(|w| w[0].item).collect();
        seen.sort();
        let mut expected: Vec<u32> = w.iter().flat_map(|w| [w[0].item; 3]).collect();
        expected.sort();
        assert_eq!(seen, expected);
        assert!(epoch_batches(&[], 4, 8, &mut rng).is_empty());
    }
}
