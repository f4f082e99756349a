//! The item vectors the browser ranks from: the item tower's output for every catalogue item,
//! quantised to int8 (or int4, for the largest catalogues) with one scale per row.
//!
//! The item tower never changes on the device (fine-tuning tunes only the layers above the
//! encoder), so its output is computed once by `scenerec export` instead of shipping what it
//! reads (a 64-float ID vector and a 384-float text embedding per item): 68 bytes per item at
//! width 64 instead of 1,792 (36 in int4). Retrieval scores every item from the codes directly,
//! `u·v ≈ scale · Σ u_j q_j`; the encoder, the fusion head and fine-tuning read dequantised
//! rows of the few items they need, so the catalogue never exists as f32 on the device.
//!
//! File layout: the frame of [`crate::store`] (magic `SRVECTOR`), header JSON
//! [`VectorsHeader`], payload = `items` f32 scales (little endian) then the codes: `items × dim`
//! bytes in int8, `items × ⌈dim / 2⌉` in int4 (two's-complement nibbles, low first). In memory
//! both are one i8 per value, so ranking is the same code for both.

use serde::{Deserialize, Serialize};

use crate::store::{self, Kind};
use crate::{Error, Result};

pub const VECTORS: Kind = Kind { magic: b"SRVECTOR", version: 1, error: Error::Vectors, name: "scenerec item vectors file" };

/// How the codes are stored: bits per value, each row scaled by its largest magnitude.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Int8,
    /// Half the bytes of int8, for catalogues whose int8 vectors would not fit a download budget
    /// (a million items); its cost in accuracy is measured by the browser benchmark.
    Int4,
}

impl Encoding {
    pub const ALL: [Encoding; 2] = [Encoding::Int8, Encoding::Int4];

    /// The name files and the command line use.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Int8 => "int8-row",
            Encoding::Int4 => "int4-row",
        }
    }

    pub fn parse(name: &str) -> Result<Self> {
        let known = Encoding::ALL.map(Encoding::name).join(", ");
        Encoding::ALL
            .into_iter()
            .find(|e| e.name() == name || e.name().trim_end_matches("-row") == name)
            .ok_or_else(|| Error::Input(format!("unknown item vector encoding `{name}` ({known})")))
    }

    /// The largest code magnitude: symmetric, so `-x` quantises to `-q(x)`.
    fn levels(self) -> f32 {
        match self {
            Encoding::Int8 => 127.0,
            Encoding::Int4 => 7.0,
        }
    }

    /// Stored bytes of one row's codes.
    fn row_bytes(self, dim: usize) -> usize {
        match self {
            Encoding::Int8 => dim,
            Encoding::Int4 => dim.div_ceil(2),
        }
    }

    /// The largest row scale a file may hold: rows within [`store::MAX_WEIGHT`], as weights are.
    fn max_scale(self) -> f32 {
        store::MAX_WEIGHT / self.levels()
    }
}

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

/// Quantised item vectors, row-major, with one scale per row.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemVectors {
    encoding: Encoding,
    dim: usize,
    scales: Vec<f32>,
    codes: Vec<i8>,
}

impl ItemVectors {
    /// Quantises row-major `[items, dim]` vectors: each row by its largest magnitude, so every
    /// value is off by at most half a step (`max|v| / 254` in int8, `max|v| / 14` in int4).
    pub fn quantise(values: &[f32], dim: usize, encoding: Encoding) -> Self {
        let mut out = ItemVectors { encoding, dim, scales: Vec::new(), codes: Vec::with_capacity(values.len()) };
        for row in values.chunks_exact(dim.max(1)) {
            out.push(row);
        }
        out
    }

    /// Appends one quantised row.
    pub fn push(&mut self, row: &[f32]) {
        let levels = self.encoding.levels();
        let peak = row.iter().fold(0f32, |m, v| m.max(v.abs()));
        let scale = peak / levels;
        let inverse = if scale > 0.0 { 1.0 / scale } else { 0.0 };
        self.scales.push(scale);
        self.codes.extend(row.iter().map(|v| (v * inverse).round().clamp(-levels, levels) as i8));
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
        let mut payload = Vec::with_capacity(self.len() * (4 + self.encoding.row_bytes(self.dim)));
        for s in &self.scales {
            payload.extend_from_slice(&s.to_le_bytes());
        }
        for row in self.codes.chunks_exact(self.dim.max(1)) {
            match self.encoding {
                Encoding::Int8 => payload.extend(row.iter().map(|&q| q as u8)),
                Encoding::Int4 => payload.extend(row.chunks(2).map(|p| (p[0] as u8 & 0x0f) | ((*p.get(1).unwrap_or(&0) as u8) << 4))),
            }
        }
        let header = VectorsHeader {
            items: self.len(),
            dim: self.dim,
            encoding: self.encoding.name().into(),
            catalog: fingerprint.into(),
            payload_len: payload.len() as u64,
        };
        store::frame_as(&VECTORS, &serde_json::to_vec(&header).expect("header serialises"), &payload)
    }

    /// Reads a file written by [`ItemVectors::to_bytes`], which must hold `items` rows of width
    /// `dim` for catalogue `fingerprint`; every scale must be finite and in range. Int8 codes
    /// stay in the file's own buffer (a million items' 64 MB are not copied: wasm memory only
    /// grows, so a copy would stay the tab's for good).
    pub fn from_bytes(bytes: Vec<u8>, items: usize, dim: usize, fingerprint: &str) -> Result<Self> {
        let bad = |m: String| Err(Error::Vectors(m));
        let (header, payload) = store::open(&bytes, &VECTORS, |h: &VectorsHeader| h.payload_len)?;
        let Ok(encoding) = Encoding::parse(&header.encoding) else {
            let known = Encoding::ALL.map(Encoding::name).join(", ");
            return bad(format!("encoding `{}` is not supported (this build reads {known})", header.encoding));
        };
        if (header.items, header.dim) != (items, dim) {
            return bad(format!(
                "holds {} vectors of width {}; the catalogue has {items} items and the model width {dim}",
                header.items, header.dim
            ));
        }
        if header.catalog != fingerprint {
            return bad(format!("these vectors belong to catalogue {}, not to this one ({fingerprint})", header.catalog));
        }
        let row = encoding.row_bytes(dim);
        let want = items.checked_mul(row + 4);
        if want != Some(payload.len()) {
            return bad(format!("{} bytes of payload; {items} rows of width {dim} in {} need {want:?}", payload.len(), encoding.name()));
        }
        let (scale_bytes, stored) = payload.split_at(items * 4);
        let scales: Vec<f32> = scale_bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let max = encoding.max_scale();
        if let Some(i) = scales.iter().position(|s| !(0.0..=max).contains(s)) {
            return bad(format!("row {i} has scale {}; scales must be from 0 to {max}", scales[i]));
        }
        let codes = match encoding {
            Encoding::Int8 => {
                let start = stored.as_ptr() as usize - bytes.as_ptr() as usize;
                let end = start + stored.len();
                let mut codes = bytes;
                codes.truncate(end);
                codes.drain(..start);
                // Same size and alignment: the collect reuses the buffer.
                codes.into_iter().map(|b| b as i8).collect()
            }
            // Each nibble sign-extended: shifted to the top of the byte, then back.
            Encoding::Int4 => stored
                .chunks_exact(row.max(1))
                .flat_map(|r| r.iter().flat_map(|&b| [((b << 4) as i8) >> 4, (b as i8) >> 4]).take(dim))
                .collect(),
        };
        Ok(ItemVectors { encoding, dim, scales, codes })
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
        for encoding in Encoding::ALL {
            let q = ItemVectors::quantise(&values, 19, encoding);
            for (row, back) in values.chunks(19).zip(q.dequantised().chunks(19)) {
                let step = row.iter().fold(0f32, |m, v| m.max(v.abs())) / encoding.levels();
                for (v, b) in row.iter().zip(back) {
                    assert!((v - b).abs() <= step / 2.0 + 1e-6, "{encoding:?}: {v} came back as {b}");
                }
            }
            let zero = ItemVectors::quantise(&[0.0; 4], 4, encoding);
            assert_eq!(zero.dequantised(), vec![0.0; 4]);
        }
    }

    #[test]
    fn scores_are_dot_products_with_the_dequantised_rows() {
        let (values, user) = (sample(30, 21), sample(1, 21));
        let q = ItemVectors::quantise(&values, 21, Encoding::Int8);
        let rows = q.dequantised();
        for (score, row) in q.scores(&user).iter().zip(rows.chunks(21)) {
            let plain: f32 = row.iter().zip(&user).map(|(a, b)| a * b).sum();
            assert!((score - plain).abs() < 1e-4, "{score} vs {plain}");
        }
    }

    #[test]
    fn files_round_trip_and_refuse_what_does_not_fit() {
        // An odd width: int4's last byte of each row holds one nibble.
        for (encoding, bytes) in [(Encoding::Int8, 7 * (4 + 9)), (Encoding::Int4, 7 * (4 + 5))] {
            let q = ItemVectors::quantise(&sample(7, 9), 9, encoding);
            let file = q.to_bytes("abc");
            assert_eq!(store::unframe(&file).unwrap().1.len(), bytes, "{encoding:?}");
            assert_eq!(ItemVectors::from_bytes(file.clone(), 7, 9, "abc").unwrap(), q, "{encoding:?}");
        }
        let q = ItemVectors::quantise(&sample(7, 8), 8, Encoding::Int8);
        let bytes = q.to_bytes("abc");
        let err = |b: &[u8], items, dim, fp| ItemVectors::from_bytes(b.to_vec(), items, dim, fp).unwrap_err().to_string();
        assert!(err(&bytes, 8, 8, "abc").contains("holds 7 vectors"));
        assert!(err(&bytes, 7, 8, "xyz").contains("belong to catalogue abc"));
        assert!(err(&bytes[..bytes.len() - 1], 7, 8, "abc").contains("truncated"));
        let mut flipped = bytes.clone();
        flipped[bytes.len() / 2] ^= 1;
        assert!(err(&flipped, 7, 8, "abc").contains("checksum"));
        assert!(err(b"SCENEREC\x03\0\0\0\0\0\0\0", 7, 8, "abc").contains("not a scenerec item vectors file"));
    }
}
