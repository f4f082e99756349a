//! Weights files: versioned, checksummed, validated. Loading never panics on bad bytes.
//!
//! Layout (little endian):
//! `b"SCENEREC"` · format version `u32` · header length `u32` · header JSON · payload,
//! where the header holds the model config, the fingerprint of the catalogue the weights
//! belong to, and the payload's length and SHA-256; the payload is Burn's burnpack record.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::backend::read_f32;
use crate::model::{ModelConfig, SceneRec};
use crate::{Error, Result};

const MAGIC: &[u8; 8] = b"SCENEREC";
/// The weights-file format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

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

/// Serialises a model's weights with its config and catalogue fingerprint.
pub fn save(model: &SceneRec, config: &ModelConfig, catalog: &str, kind: &str) -> Result<Vec<u8>> {
    let payload = model
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| Error::Weights(format!("cannot serialise: {e}")))?;
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

/// A copy of `model` on the CPU (flex), read asynchronously. [`save`] reads weights
/// synchronously, which panics under WebGPU in wasm; saving the host copy is safe everywhere.
pub async fn to_host(model: &SceneRec, config: &ModelConfig) -> Result<SceneRec> {
    /// Every float parameter (id and flattened value), in module order.
    struct Collect(Vec<(ParamId, Tensor<1>)>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let value = param.val();
            let n = value.shape().num_elements();
            self.0.push((param.id, value.reshape([n])));
        }
    }
    /// Replaces each parameter of a fresh model with the host values and the original ids.
    struct Fill {
        values: std::vec::IntoIter<(ParamId, Vec<f32>)>,
        device: Device,
        mismatch: bool,
    }
    impl ModuleMapper for Fill {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let dims = param.val().dims();
            match self.values.next() {
                Some((id, v)) if v.len() == dims.iter().product::<usize>() => {
                    Param::initialized(id, Tensor::from_data(TensorData::new(v, dims), &self.device))
                }
                _ => {
                    self.mismatch = true;
                    param
                }
            }
        }
    }
    let mut collect = Collect(Vec::new());
    model.visit(&mut collect);
    let mut values = Vec::with_capacity(collect.0.len());
    for (id, tensor) in collect.0 {
        values.push((id, read_f32(tensor).await?));
    }
    let device = Device::flex();
    let mut fill = Fill { values: values.into_iter(), device: device.clone(), mismatch: false };
    let host = SceneRec::new(config, &device)?.map(&mut fill);
    if fill.mismatch || fill.values.next().is_some() {
        return Err(Error::Weights("the model does not match its config".into()));
    }
    Ok(host)
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
        return bad(format!("format version {version} is not supported (this build reads version {FORMAT_VERSION})"));
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

/// One parameter by its module path (`interest.encoder.layers.0.mha.query.weight`), shape and
/// row-major values. Burn's `Linear` weights are `[inputs, outputs]` (`y = x·W + b`).
pub struct NamedTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// Every float parameter of `model` with its module path: the weights in a form tools outside
/// Burn can read (the TensorFlow.js peer of the browser benchmark). Reads synchronously, so
/// native only.
pub fn named_tensors(model: &SceneRec) -> Result<Vec<NamedTensor>> {
    struct Collect {
        path: Vec<String>,
        out: Vec<(String, Vec<usize>, TensorData)>,
    }
    impl ModuleVisitor for Collect {
        fn enter_module(&mut self, name: &str, _container_type: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let value = param.val();
            self.out.push((self.path.join("."), value.dims().to_vec(), value.into_data()));
        }
    }
    let mut collect = Collect { path: Vec::new(), out: Vec::new() };
    model.visit(&mut collect);
    collect
        .out
        .into_iter()
        .map(|(name, shape, data)| {
            let values = data.convert::<f32>().try_into_vec::<f32>().map_err(|e| Error::Weights(format!("{name}: {e:?}")))?;
            Ok(NamedTensor { name, shape, values })
        })
        .collect()
}
