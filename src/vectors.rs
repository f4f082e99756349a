//! The item vectors the browser ranks from: the item tower's output for every catalogue item,
//! quantised to int6 (or int8 / int4) with one scale per row.
//!
//! The item tower never changes on the device (fine-tuning tunes only the layers above the
//! encoder), so its output is computed once by `scenerec export` instead of shipping what it
//! reads (a 64-float ID vector and a 384-float text embedding per item): 52 bytes per item at
//! width 64 in int6 instead of 1,792 (68 in int8, 36 in int4). Retrieval scores every item from
//! the codes directly, `u·v ≈ scale · Σ u_j q_j`; the encoder, the fusion head and fine-tuning
//! read dequantised rows of the few items they need, so the catalogue never exists as f32 on
//! the device.
//!
//! File layout: the frame of [`crate::store`] (magic `SRVECTOR`), header JSON
//! [`VectorsHeader`], payload = `items` f32 scales (little endian) then the codes: `items × dim`
//! bytes in int8; in int6 and int4 each row is `⌈dim · bits / 8⌉` bytes of two's-complement
//! codes packed least significant bit first (int4: low nibble first). In memory every encoding
//! is one i8 per value, so ranking is the same code for all.

use serde::{Deserialize, Serialize};

use crate::store::{self, Kind};
use crate::{Error, Result};

pub const VECTORS: Kind = Kind { magic: b"SRVECTOR", version: 1, error: Error::Vectors, name: "scenerec item vectors file" };

/// The scales [`ItemVectors::push`] tries: the peak's, then 5% less at a time.
const CLIP_STEPS: usize = 8;
const CLIP_STEP: f32 = 0.05;

/// How the codes are stored: bits per value, with one scale per row ([`ItemVectors::push`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Int8,
    /// Three quarters of int8's bytes (a million items at width 64: 52 MB instead of 68); its
    /// cost in accuracy is measured by the browser benchmark.
    Int6,
    /// Half the bytes of int8, at a larger cost in accuracy (also measured there).
    Int4,
}

impl Encoding {
    pub const ALL: [Encoding; 3] = [Encoding::Int8, Encoding::Int6, Encoding::Int4];

    /// What `scenerec export` writes unless told otherwise: on ML-1M int6 ranks as int8 and
    /// f32 do (NDCG@10 within 0.3%, `bench/results/browser.json`), and a million items fit a
    /// 64 MB download.
    pub const DEFAULT: Encoding = Encoding::Int6;

    /// The name files and the command line use.
    pub const fn name(self) -> &'static str {
        match self {
            Encoding::Int8 => "int8-row",
            Encoding::Int6 => "int6-row",
            Encoding::Int4 => "int4-row",
        }
    }

    /// Every encoding's name, for messages.
    fn known() -> String {
        Encoding::ALL.map(Encoding::name).join(", ")
    }

    pub fn parse(name: &str) -> Result<Self> {
        Encoding::ALL
            .into_iter()
            .find(|e| e.name() == name || e.name().trim_end_matches("-row") == name)
            .ok_or_else(|| Error::Input(format!("unknown item vector encoding `{name}` ({})", Encoding::known())))
    }

    fn bits(self) -> u32 {
        match self {
            Encoding::Int8 => 8,
            Encoding::Int6 => 6,
            Encoding::Int4 => 4,
        }
    }

    /// The largest code magnitude: symmetric, so `-x` quantises to `-q(x)`.
    fn levels(self) -> f32 {
        ((1 << (self.bits() - 1)) - 1) as f32
    }

    /// Stored bytes of one row's codes.
    fn row_bytes(self, dim: usize) -> usize {
        (dim * self.bits() as usize).div_ceil(8)
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
    /// Quantises row-major `[items, dim]` vectors, each row with the scale of least squared
    /// error among its largest magnitude and up to 40% less (see [`ItemVectors::push`]).
    pub fn quantise(values: &[f32], dim: usize, encoding: Encoding) -> Self {
        let mut out = ItemVectors { encoding, dim, scales: Vec::new(), codes: Vec::with_capacity(values.len()) };
        for row in values.chunks_exact(dim.max(1)) {
            out.push(row);
        }
        out
    }

    /// Appends one quantised row. The scale is the row's largest magnitude over the code's
    /// levels, or up to 40% less where clipping the few largest values costs less than the
    /// coarser step everything else gets: with 31 or 7 levels (int6, int4) the step matters,
    /// and on ML-1M this raised int4's NDCG@10 from 0.159 to 0.164 (f32: 0.167).
    pub fn push(&mut self, row: &[f32]) {
        let levels = self.encoding.levels();
        let peak = row.iter().fold(0f32, |m, v| m.max(v.abs()));
        let inverse = |scale: f32| if scale > 0.0 { 1.0 / scale } else { 0.0 };
        let code = |v: f32, scale: f32| (v * inverse(scale)).round().clamp(-levels, levels);
        let error = |scale: f32| row.iter().map(|&v| (v - code(v, scale) * scale).powi(2)).sum::<f32>();
        // Each candidate's error once (a comparison would otherwise compute both sides again).
        let (_, scale) = (0..=CLIP_STEPS)
            .map(|k| peak / levels * (1.0 - k as f32 * CLIP_STEP))
            .map(|scale| (error(scale), scale))
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .unwrap_or((0.0, 0.0));
        self.scales.push(scale);
        self.codes.extend(row.iter().map(|&v| code(v, scale) as i8));
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
            pack(row, self.encoding.bits(), &mut payload);
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
    /// grows, so a copy would stay the tab's for good); int6 and int4 codes are unpacked into
    /// one byte each and the file's buffer is freed.
    pub fn from_bytes(bytes: Vec<u8>, items: usize, dim: usize, fingerprint: &str) -> Result<Self> {
        let bad = |m: String| Err(Error::Vectors(m));
        let (header, payload) = store::open(&bytes, &VECTORS, |h: &VectorsHeader| h.payload_len)?;
        let Ok(encoding) = Encoding::parse(&header.encoding) else {
            return bad(format!("encoding `{}` is not supported (this build reads {})", header.encoding, Encoding::known()));
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
            Encoding::Int6 | Encoding::Int4 => {
                let mut codes = Vec::with_capacity(items * dim);
                for r in stored.chunks_exact(row.max(1)) {
                    unpack(r, encoding.bits(), dim, &mut codes);
                }
                codes
            }
        };
        Ok(ItemVectors { encoding, dim, scales, codes })
    }
}

/// Appends `codes` as `bits`-bit two's-complement values, least significant bit first, the
/// last byte padded with zeros.
fn pack(codes: &[i8], bits: u32, out: &mut Vec<u8>) {
    let (mut acc, mut held) = (0u32, 0u32);
    for &q in codes {
        acc |= (q as u8 as u32 & ((1 << bits) - 1)) << held;
        held += bits;
        while held >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            held -= 8;
        }
    }
    if held > 0 {
        out.push(acc as u8);
    }
}

/// Appends the first `n` values [`pack`] wrote into `bytes`, sign-extended to i8.
fn unpack(bytes: &[u8], bits: u32, n: usize, out: &mut Vec<i8>) {
    let (mut acc, mut held) = (0u32, 0u32);
    let mut bytes = bytes.iter();
    for _ in 0..n {
        while held < bits {
            acc |= (*bytes.next().unwrap_or(&0) as u32) << held;
            held += 8;
        }
        // The value's top bit moved to the byte's sign bit, then shifted back.
        out.push(((acc << (8 - bits)) as u8 as i8) >> (8 - bits));
        acc >>= bits;
        held -= bits;
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
    fn rows_are_off_by_at_most_what_their_peak_as_scale_would_give() {
        let mut values = sample(50, 19);
        values[3] = 9.0; // an outlier, which the clipping search may clip
        for encoding in Encoding::ALL {
            let q = ItemVectors::quantise(&values, 19, encoding);
            for (i, (row, back)) in values.chunks(19).zip(q.dequantised().chunks(19)).enumerate() {
                let step = row.iter().fold(0f32, |m, v| m.max(v.abs())) / encoding.levels();
                let error: f32 = row.iter().zip(back).map(|(v, b)| (v - b).powi(2)).sum();
                let unclipped: f32 = row.iter().map(|v| (v - (v / step).round() * step).powi(2)).sum();
                assert!(error <= unclipped + 1e-6, "{encoding:?} row {i}: squared error {error} > {unclipped}");
                // A value within the clipped range is off by at most half a step.
                for (v, b) in row.iter().zip(back) {
                    if v.abs() < q.scales[i] * encoding.levels() {
                        assert!((v - b).abs() <= q.scales[i] / 2.0 + 1e-6, "{encoding:?}: {v} came back as {b}");
                    }
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
        // An odd width: int6's and int4's last byte of each row is partly padding.
        for (encoding, bytes) in [(Encoding::Int8, 7 * (4 + 9)), (Encoding::Int6, 7 * (4 + 7)), (Encoding::Int4, 7 * (4 + 5))] {
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
