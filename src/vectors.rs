//! The item vectors the browser ranks from: the item tower's output for every catalogue item,
//! quantised to int8 with one scale per row.
//!
//! The item tower never changes on the device (fine-tuning tunes only the layers above the
//! encoder), so its output is computed once by `scenerec export` instead of shipping what it
//! reads (a 64-float ID vector and a 384-float text embedding per item): 68 bytes per item at
//! width 64 instead of 1,792. Retrieval scores every item from the int8 codes directly,
//! `u·v ≈ scale · Σ u_j q_j`; the encoder, the fusion head and fine-tuning read dequantised
//! rows of the few items they need, so the catalogue never exists as f32 on the device.
//!
//! File layout: the frame of [`crate::store`] (magic `SRVECTOR`), header JSON
//! [`VectorsHeader`], payload = `items` f32 scales (little endian) then `items × dim` i8 codes.

use serde::{Deserialize, Serialize};

use crate::store::{self, Kind};
use crate::{Error, Result};

pub const VECTORS: Kind = Kind { magic: b"SRVECTOR", version: 1, error: Error::Vectors, name: "scenerec item vectors file" };

/// The one encoding this build writes and reads.
pub const ENCODING: &str = "int8-row";

/// The largest code magnitude: symmetric, so `-x` quantises to `-q(x)`.
const LEVELS: f32 = 127.0;

/// The largest row scale a file may hold: rows within [`store::MAX_WEIGHT`], as weights are.
const MAX_SCALE: f32 = store::MAX_WEIGHT / LEVELS;

/// What an item vectors file says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VectorsHeader {
    pub items: usize,
    pub dim: usize,
    pub encoding: String,
    /// [`crate::data::Catalog::fingerprint`] of the catalogue the rows belong to.
    pub catalog: String,
    pub payload_len: u64,
}

/// Int8 item vectors, row-major, with one scale per row.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemVectors {
    dim: usize,
    scales: Vec<f32>,
    codes: Vec<i8>,
}

impl ItemVectors {
    /// Quantises row-major `[items, dim]` vectors: each row by its largest magnitude, so every
    /// value is off by at most half a step (`max|v| / 254`).
    pub fn quantise(values: &[f32], dim: usize) -> Self {
        let mut out = ItemVectors { dim, scales: Vec::new(), codes: Vec::with_capacity(values.len()) };
        for row in values.chunks_exact(dim.max(1)) {
            out.push(row);
        }
        out
    }

    /// Appends one quantised row.
    pub fn push(&mut self, row: &[f32]) {
        let peak = row.iter().fold(0f32, |m, v| m.max(v.abs()));
        let scale = peak / LEVELS;
        let inverse = if scale > 0.0 { 1.0 / scale } else { 0.0 };
        self.scales.push(scale);
        self.codes.extend(row.iter().map(|v| (v * inverse).round().clamp(-LEVELS, LEVELS) as i8));
    }

    pub fn len(&self) -> usize {
        self.scales.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scales.is_empty()
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Row `i`, dequantised, appended to `out`.
    pub fn row_into(&self, i: usize, out: &mut Vec<f32>) {
        let s = self.scales[i];
        out.extend(self.codes[i * self.dim..(i + 1) * self.dim].iter().map(|&q| q as f32 * s));
    }

    /// Rows `items`, dequantised, row-major `[items.len(), dim]`.
    pub fn rows(&self, items: impl IntoIterator<Item = usize>) -> Vec<f32> {
        let mut out = Vec::new();
        for i in items {
            self.row_into(i, &mut out);
        }
        out
    }

    /// Every row dequantised: what the device computes with, for measuring the
    /// quantisation's cost with the f32 evaluation code.
    pub fn dequantised(&self) -> Vec<f32> {
        self.rows(0..self.len())
    }

    /// `u · v` for every row `v`, straight from the codes.
    pub fn scores(&self, user: &[f32]) -> Vec<f32> {
        assert_eq!(user.len(), self.dim, "a user vector is as wide as the item vectors");
        self.codes.chunks_exact(self.dim.max(1)).zip(&self.scales).map(|(q, &s)| s * dot_i8(user, q)).collect()
    }

    /// The file [`ItemVectors::from_bytes`] reads, bound to catalogue `fingerprint`.
    pub fn to_bytes(&self, fingerprint: &str) -> Vec<u8> {
        let mut payload = Vec::with_capacity(self.scales.len() * 4 + self.codes.len());
        for s in &self.scales {
            payload.extend_from_slice(&s.to_le_bytes());
        }
        payload.extend(self.codes.iter().map(|&q| q as u8));
        let header = VectorsHeader {
            items: self.len(),
            dim: self.dim,
            encoding: ENCODING.into(),
            catalog: fingerprint.into(),
            payload_len: payload.len() as u64,
        };
        store::frame_as(&VECTORS, &serde_json::to_vec(&header).expect("header serialises"), &payload)
    }

    /// Reads a file written by [`ItemVectors::to_bytes`], which must hold `items` rows of width
    /// `dim` for catalogue `fingerprint`; every scale must be finite and in range.
    pub fn from_bytes(bytes: &[u8], items: usize, dim: usize, fingerprint: &str) -> Result<Self> {
        let bad = |m: String| Err(Error::Vectors(m));
        let (header, payload) = store::open(bytes, &VECTORS, |h: &VectorsHeader| h.payload_len)?;
        if header.encoding != ENCODING {
            return bad(format!("encoding `{}` is not supported (this build reads `{ENCODING}`)", header.encoding));
        }
        if (header.items, header.dim) != (items, dim) {
            return bad(format!(
                "holds {} vectors of width {}; the catalogue has {items} items and the model width {dim}",
                header.items, header.dim
            ));
        }
        if header.catalog != fingerprint {
            return bad(format!("these vectors belong to catalogue {}, not to this one ({fingerprint})", header.catalog));
        }
        let want = items.checked_mul(dim + 4);
        if want != Some(payload.len()) {
            return bad(format!("{} bytes of payload; {items} rows of width {dim} need {want:?}", payload.len()));
        }
        let (scale_bytes, codes) = payload.split_at(items * 4);
        let scales: Vec<f32> = scale_bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        if let Some(i) = scales.iter().position(|s| !(0.0..=MAX_SCALE).contains(s)) {
            return bad(format!("row {i} has scale {}; scales must be from 0 to {MAX_SCALE}", scales[i]));
        }
        Ok(ItemVectors { dim, scales, codes: codes.iter().map(|&b| b as i8).collect() })
    }
}

/// `u · q` with eight independent partial sums, which the compiler turns into SIMD lanes.
fn dot_i8(u: &[f32], q: &[i8]) -> f32 {
    let (cu, cq) = (u.chunks_exact(8), q.chunks_exact(8));
    let tail: f32 = cu.remainder().iter().zip(cq.remainder()).map(|(x, &y)| x * y as f32).sum();
    let mut acc = [0f32; 8];
    for (x, y) in cu.zip(cq) {
        for k in 0..8 {
            acc[k] += x[k] * y[k] as f32;
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(items: usize, dim: usize) -> Vec<f32> {
        let mut rng = crate::rng::Rng::new(3);
        (0..items * dim).map(|_| rng.below(2001) as f32 / 1000.0 - 1.0).collect()
    }

    #[test]
    fn every_value_is_within_half_a_step() {
        let values = sample(50, 19);
        let q = ItemVectors::quantise(&values, 19);
        for (row, back) in values.chunks(19).zip(q.dequantised().chunks(19)) {
            let step = row.iter().fold(0f32, |m, v| m.max(v.abs())) / LEVELS;
            for (v, b) in row.iter().zip(back) {
                assert!((v - b).abs() <= step / 2.0 + 1e-6, "{v} came back as {b}");
            }
        }
        let zero = ItemVectors::quantise(&[0.0; 4], 4);
        assert_eq!(zero.dequantised(), vec![0.0; 4]);
    }

    #[test]
    fn scores_are_dot_products_with_the_dequantised_rows() {
        let (values, user) = (sample(30, 21), sample(1, 21));
        let q = ItemVectors::quantise(&values, 21);
        let rows = q.dequantised();
        for (score, row) in q.scores(&user).iter().zip(rows.chunks(21)) {
            let plain: f32 = row.iter().zip(&user).map(|(a, b)| a * b).sum();
            assert!((score - plain).abs() < 1e-4, "{score} vs {plain}");
        }
    }

    #[test]
    fn files_round_trip_and_refuse_what_does_not_fit() {
        let q = ItemVectors::quantise(&sample(7, 8), 8);
        let bytes = q.to_bytes("abc");
        assert_eq!(ItemVectors::from_bytes(&bytes, 7, 8, "abc").unwrap(), q);
        let err = |b: &[u8], items, dim, fp| ItemVectors::from_bytes(b, items, dim, fp).unwrap_err().to_string();
        assert!(err(&bytes, 8, 8, "abc").contains("holds 7 vectors"));
        assert!(err(&bytes, 7, 8, "xyz").contains("belong to catalogue abc"));
        assert!(err(&bytes[..bytes.len() - 1], 7, 8, "abc").contains("truncated"));
        let mut flipped = bytes.clone();
        flipped[bytes.len() / 2] ^= 1;
        assert!(err(&flipped, 7, 8, "abc").contains("checksum"));
        assert!(err(b"SCENEREC\x03\0\0\0\0\0\0\0", 7, 8, "abc").contains("not a scenerec item vectors file"));
    }
}
