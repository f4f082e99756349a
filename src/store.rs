//! Weights files: versioned, checksummed, validated. Loading never panics on bad bytes.
//!
//! Layout (little endian):
//! `b"SCENEREC"` · format version `u32` · header length `u32` · header JSON · payload,
//! where the header holds the model config, the fingerprint of the catalogue the weights
//! belong to, and the payload's length and SHA-256; the payload is Burn's burnpack record.

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::backend::read_f32;
use crate::model::{ModelConfig, SceneRec};
use crate::{Error, Result};

const MAGIC: &[u8; 8] = b"SCENEREC";
/// The weights-file format this build writes and reads. Version 2 added the "any scene" query
/// (one more row in the scene layers and the fusion head) and the model's `arch`.
pub const FORMAT_VERSION: u32 = 2;

/// What a weights file says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub model: ModelConfig,
    /// [`crate::data::Catalog::fingerprint`] of the catalogue the weights were trained on.
    pub catalog: String,
    /// Free-form provenance ("pretrained", "personal", ...).
    pub kind: String,
    pub payload_len: u64,
    pub payload_sha256: String,
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Serialises a model's weights with its config and catalogue fingerprint. The payload is
/// burn's burnpack record (the bytes `into_record().into_bytes()` gives), but written from
/// parameters read asynchronously, so it works on every device: a synchronous read panics
/// under WebGPU in wasm, and the WebGPU artifact has no CPU backend to copy the model to.
pub async fn save(model: &SceneRec, config: &ModelConfig, catalog: &str, kind: &str) -> Result<Vec<u8>> {
    let tensors = named_tensors(model)
        .await?
        .into_iter()
        .map(|t| {
            let (bytes, shape, dtype) = TensorData::new(t.values, t.shape).into_parts();
            burn_pack::Tensor::new(t.name, dtype, shape, Some(t.id.val()), bytes)
        })
        .collect();
    let payload = burn_pack::Writer::new(tensors).into_bytes().map_err(|e| Error::Weights(format!("cannot serialise: {e}")))?;
    let header = Header {
        model: config.clone(),
        catalog: catalog.to_string(),
        kind: kind.to_string(),
        payload_len: payload.len() as u64,
        payload_sha256: sha256_hex(&payload),
    };
    let header = serde_json::to_vec(&header).map_err(|e| Error::Weights(e.to_string()))?;
    let mut out = Vec::with_capacity(16 + header.len() + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&payload);
    Ok(out)
}

/// Reads and checks the header; returns it with the payload slice.
pub fn read_header(bytes: &[u8]) -> Result<(Header, &[u8])> {
    let bad = |m: String| Err(Error::Weights(m));
    if bytes.len() < 16 {
        return bad(format!("truncated: {} bytes is shorter than the 16-byte preamble", bytes.len()));
    }
    if &bytes[..8] != MAGIC {
        return bad("not a scenerec weights file (wrong magic bytes)".into());
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if version != FORMAT_VERSION {
        return bad(format!(
            "format version {version} is not supported (this build reads version {FORMAT_VERSION}; export the model again with this version's `scenerec export`)"
        ));
    }
    let header_len = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]) as usize;
    let Some(header_bytes) = bytes.get(16..16 + header_len) else {
        return bad(format!("truncated: header of {header_len} bytes, only {} present", bytes.len() - 16));
    };
    let header: Header =
        serde_json::from_slice(header_bytes).map_err(|e| Error::Weights(format!("header is not valid: {e}")))?;
    let payload = &bytes[16 + header_len..];
    if (payload.len() as u64) < header.payload_len {
        return bad(format!("truncated: expected {} bytes of weights, found {}", header.payload_len, payload.len()));
    }
    if payload.len() as u64 > header.payload_len {
        return bad(format!("{} unexpected bytes after the weights", payload.len() as u64 - header.payload_len));
    }
    if sha256_hex(payload) != header.payload_sha256 {
        return bad("corrupted: the weights do not match their checksum".into());
    }
    header.model.validate()?;
    Ok((header, payload))
}

/// Loads weights onto `device`. With `expected`, the file must fit that config's shapes and
/// catalogue fingerprint (`(config, fingerprint)`), so weights are never silently paired with
/// the wrong catalogue.
pub fn load(bytes: &[u8], device: &Device, expected: Option<(&ModelConfig, &str)>) -> Result<(SceneRec, Header)> {
    let (header, payload) = read_header(bytes)?;
    if let Some((config, fingerprint)) = expected {
        let (got, want) = (&header.model, config);
        if (got.n_items, got.n_scenes, got.n_genres, got.lm_dim) != (want.n_items, want.n_scenes, want.n_genres, want.lm_dim) {
            return Err(Error::Weights(format!(
                "shape mismatch: weights are for {} items, {} scenes, {} genres, text width {}; the catalogue has {}, {}, {}, {}",
                got.n_items, got.n_scenes, got.n_genres, got.lm_dim, want.n_items, want.n_scenes, want.n_genres, want.lm_dim
            )));
        }
        if header.catalog != fingerprint {
            return Err(Error::Weights(format!(
                "these weights belong to catalogue {}, not to this one ({fingerprint})",
                header.catalog
            )));
        }
    }
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(payload.to_vec()))
        .map_err(|e| Error::Weights(format!("cannot decode: {e}")))?;
    let model = SceneRec::new(&header.model, device)?
        .try_load_record(record)
        .map_err(|e| Error::Weights(format!("does not fit the model: {e}")))?;
    Ok((model, header))
}

/// One parameter by its module path (`interest.encoder.layers.0.mha.query.weight`), id, shape
/// and row-major values. Burn's `Linear` weights are `[inputs, outputs]` (`y = x·W + b`).
pub struct NamedTensor {
    pub name: String,
    pub id: ParamId,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// Every float parameter of `model` with its module path, read to the host asynchronously: what
/// [`save`] writes, and the weights in a form tools outside Burn can read (`scenerec tensors`,
/// for the TensorFlow.js peer of the browser benchmark).
pub async fn named_tensors(model: &SceneRec) -> Result<Vec<NamedTensor>> {
    /// Parameters as burn's own record collector sees them: path, id, `on_save` form.
    struct Collect {
        path: Vec<String>,
        out: Vec<(String, ParamId, Vec<usize>, Tensor<1>)>,
    }
    impl ModuleVisitor for Collect {
        fn enter_module(&mut self, name: &str, _container_type: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let value = param.transform_for_save().val();
            let shape = value.dims().to_vec();
            let n: usize = shape.iter().product();
            self.out.push((self.path.join("."), param.id, shape, value.reshape([n])));
        }
    }
    let mut collect = Collect { path: Vec::new(), out: Vec::new() };
    model.visit(&mut collect);
    let mut tensors = Vec::with_capacity(collect.out.len());
    for (name, id, shape, value) in collect.out {
        tensors.push(NamedTensor { name, id, shape, values: read_f32(value).await? });
    }
    Ok(tensors)
}
