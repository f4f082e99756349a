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

/// Windows shuffled and grouped into batches.
pub fn epoch_batches<'a>(windows: &[Window<'a>], batch_size: usize, rng: &mut Rng) -> Vec<Vec<Window<'a>>> {
    let mut order = windows.to_vec();
    rng.shuffle(&mut order);
    order.chunks(batch_size).map(<[_]>::to_vec).collect()
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
}
