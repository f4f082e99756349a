//! Mutations of seed inputs: byte-level damage (the network and disks), and structure-aware
//! edits an attacker would make — a weights file's header or tensors edited and the file
//! re-signed, so the checksum holds; numbers in text swapped for extreme ones.

use burn::tensor::{Bytes, DType};

use crate::recommender::HistoryColumns;
use crate::rng::Rng;
use crate::store;

/// Sizes and counts that break careless arithmetic.
const EXTREMES: [u64; 10] = [0, 1, 2, 255, 65_535, 65_536, 1 << 31, (1 << 32) + 5, 1 << 62, u64::MAX];
/// Floats that break careless code.
const ODD_FLOATS: [f64; 8] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300, -1e300, 1e38, -0.0, 9.3e18];

fn pick<T: Copy>(rng: &mut Rng, from: &[T]) -> T {
    from[rng.below(from.len())]
}

/// An extreme or a small random size.
pub fn size(rng: &mut Rng) -> usize {
    match rng.below(3) {
        0 => pick(rng, &EXTREMES).min(usize::MAX as u64) as usize,
        _ => rng.below(40),
    }
}

/// Bytes damaged at random: bits flipped, cut short, bytes inserted, a range repeated or zeroed.
pub fn bytes(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = seed.to_vec();
    if b.is_empty() {
        return vec![rng.below(256) as u8];
    }
    let at = rng.below(b.len());
    match rng.below(5) {
        0 => {
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(b.len());
                b[i] ^= 1 << rng.below(8);
            }
        }
        1 => b.truncate(at),
        2 => {
            let extra: Vec<u8> = (0..1 + rng.below(16)).map(|_| rng.below(256) as u8).collect();
            b.splice(at..at, extra);
        }
        3 => {
            let end = (at + 1 + rng.below(64)).min(b.len());
            let copy = b[at..end].to_vec();
            b.splice(at..at, copy);
        }
        _ => {
            let end = (at + 1 + rng.below(64)).min(b.len());
            b[at..end].fill(0);
        }
    }
    b
}

/// Text damaged: at the byte level, or a number replaced by an extreme one, or a line repeated
/// or dropped.
pub fn text(seed: &str, rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => String::from_utf8_lossy(&bytes(seed.as_bytes(), rng)).into_owned(),
        1 => {
            let numbers: Vec<(usize, usize)> = number_spans(seed);
            if numbers.is_empty() {
                return seed.to_string();
            }
            let (start, end) = numbers[rng.below(numbers.len())];
            let extreme = match rng.below(3) {
                0 => pick(rng, &EXTREMES).to_string(),
                1 => format!("{:e}", pick(rng, &ODD_FLOATS)),
                _ => format!("-{}", pick(rng, &EXTREMES)),
            };
            format!("{}{extreme}{}", &seed[..start], &seed[end..])
        }
        _ => {
            let mut lines: Vec<&str> = seed.lines().collect();
            if lines.len() > 1 {
                let i = 1 + rng.below(lines.len() - 1);
                if rng.below(2) == 0 {
                    lines.insert(i, lines[i]);
                } else {
                    lines.remove(i);
                }
            }
            lines.join("\n")
        }
    }
}

/// Byte spans of the runs of ASCII digits in `text`.
fn number_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        match (c.is_ascii_digit(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    spans
}

/// A weights file damaged (bytes) or crafted (header or tensors edited, then re-signed).
pub fn weights(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    signed(seed, &store::WEIGHTS, rng, tensors)
}

/// An item vectors file damaged (bytes) or crafted (header or payload bytes edited, then
/// re-signed: planted scales, other codes, a payload of another length).
pub fn vectors(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    signed(seed, &crate::vectors::VECTORS, rng, bytes)
}

/// A `catalog.bin` damaged (bytes) or crafted (header or payload edited, then re-signed:
/// offsets, scenes and ids that no longer agree).
pub fn catalog_bin(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    signed(seed, &crate::data::catalog::CATALOG, rng, bytes)
}

/// A signed file of `kind` damaged at the byte level, or with its header text or its payload
/// (by `payload`) edited and then re-signed, as an attacker would.
fn signed(seed: &[u8], kind: &store::Kind, rng: &mut Rng, payload: fn(&[u8], &mut Rng) -> Vec<u8>) -> Vec<u8> {
    let Some((header, body)) = store::unframe(seed) else { return bytes(seed, rng) };
    match rng.below(3) {
        0 => bytes(seed, rng),
        1 => store::frame_as(kind, text(&String::from_utf8_lossy(header), rng).as_bytes(), body),
        _ => store::frame_as(kind, header, &payload(body, rng)),
    }
}

/// A burnpack tensor in plain parts: name, dtype, shape, little-endian bytes.
pub type PlainTensor = (String, DType, Vec<usize>, Vec<u8>);

/// The burnpack `payload` with its tensors edited by `edit` and encoded again (parameter ids
/// dropped); `None` if the payload does not decode or the edited tensors do not encode. How the
/// fuzzer and the crafted-file tests make tensors a checksum alone would not catch.
pub fn with_tensors(payload: &[u8], edit: impl FnOnce(&mut Vec<PlainTensor>)) -> Option<Vec<u8>> {
    let tensors = store::decode_tensors(payload).ok()?;
    let mut plain: Vec<PlainTensor> = tensors
        .into_iter()
        .filter_map(|t| t.into_parts().ok())
        .map(|(name, dtype, shape, _, bytes)| (name, dtype, shape.to_vec(), bytes.to_vec()))
        .collect();
    edit(&mut plain);
    let tensors = plain
        .into_iter()
        .map(|(name, dtype, shape, bytes)| burn_pack::Tensor::new(name, dtype, shape, None, Bytes::from_bytes_vec(bytes)))
        .collect();
    store::encode_tensors(tensors).map(|b| b.to_vec()).ok()
}

/// A burnpack payload with one tensor edited: another dtype, shape (wrapping sizes too), name
/// or length, an odd value planted, or a tensor dropped or doubled.
fn tensors(payload: &[u8], rng: &mut Rng) -> Vec<u8> {
    with_tensors(payload, |list| edit_one(list, rng)).unwrap_or_else(|| payload.to_vec())
}

fn edit_one(list: &mut Vec<PlainTensor>, rng: &mut Rng) {
    if list.is_empty() {
        return;
    }
    let i = rng.below(list.len());
    match rng.below(6) {
        0 => list[i].1 = pick(rng, &[DType::I32, DType::F64, DType::F16, DType::BF16, DType::U8, DType::I64]),
        1 => {
            let shape = &mut list[i].2;
            match rng.below(3) {
                0 => shape.reverse(),
                1 => shape.push(pick(rng, &EXTREMES).min(usize::MAX as u64) as usize),
                _ => *shape = vec![1 << 40, 1 << 40],
            }
        }
        2 => list[i].0 = format!("{}.planted", list[i].0),
        3 => {
            let b = &mut list[i].3;
            let at = 4 * rng.below((b.len() / 4).max(1));
            if b.len() >= at + 4 {
                b[at..at + 4].copy_from_slice(&(pick(rng, &ODD_FLOATS) as f32).to_le_bytes());
            }
        }
        4 => {
            let cut = rng.below(list[i].3.len().max(1));
            list[i].3.truncate(cut);
        }
        _ => {
            if rng.below(2) == 0 {
                list.remove(i);
            } else {
                let copy = list[i].clone();
                list.push((format!("{}x", copy.0), copy.1, copy.2, copy.3));
            }
        }
    }
}

/// History columns as a page could send them: any lengths, indices, codes and times.
pub struct Columns {
    items: Vec<u32>,
    scenes: Vec<u32>,
    actions: Vec<u8>,
    times: Vec<f64>,
}

impl Columns {
    pub fn columns(&self) -> HistoryColumns<'_> {
        HistoryColumns { items: &self.items, scenes: &self.scenes, actions: &self.actions, times: &self.times }
    }
}

/// Random history columns for a catalogue of `items` items and `scenes` scenes: valid ones of
/// any length (none, and past the limit, too), half of them with one defect — an index out of
/// range, an unknown action code, an odd time, or columns of unequal length.
pub fn history(rng: &mut Rng, items: usize, scenes: usize) -> Columns {
    let n = match rng.below(10) {
        0 => 0,
        1 => 10_001,
        _ => 1 + rng.below(30),
    };
    let mut c = Columns {
        items: (0..n).map(|_| rng.below(items) as u32).collect(),
        scenes: (0..n).map(|_| rng.below(scenes) as u32).collect(),
        actions: (0..n).map(|_| rng.below(2) as u8).collect(),
        times: (0..n).map(|_| if rng.below(4) == 0 { pick(rng, &[-9.2e18, 0.0, 9.2e18]) } else { rng.below(1 << 20) as f64 }).collect(),
    };
    if n == 0 || rng.below(2) == 0 {
        return c;
    }
    let at = rng.below(n);
    let extreme = pick(rng, &EXTREMES).min(u32::MAX as u64) as u32;
    match rng.below(5) {
        0 => c.items[at] = extreme,
        1 => c.scenes[at] = extreme,
        2 => c.actions[at] = 2 + rng.below(254) as u8,
        3 => c.times[at] = pick(rng, &ODD_FLOATS),
        _ => {
            c.times.pop();
        }
    }
    c
}
