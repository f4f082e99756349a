//! Weights files: versioned, checksummed, validated. Loading never panics on bad bytes.
//!
//! Layout (little endian):
//! `b"SCENEREC"` · format version `u32` · header length `u32` · header JSON · payload ·
//! SHA-256 of every byte before it,
//! where the header holds the model config, the fingerprint of the catalogue the weights
//! belong to, and the payload's length; the payload is Burn's burnpack record.
//!
//! A file comes from the network or the user's own storage, so [`load`] proves it before it
//! builds anything: the checksum (over the header too), the config's bounds, and then every
//! tensor's name, dtype, shape, byte length and values against the model the config describes.
//! The model is built with burn's lazy parameters, which allocate nothing until loaded, so a
//! crafted file costs at most a few times its own size in memory before it is refused.

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, DType, Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

use crate::backend::read_f32;
use crate::data::Catalog;
use crate::model::{ModelConfig, SceneRec};
use crate::{Error, Result};

/// The weights-file format this build writes and reads. Version 2 added the "any scene" query
/// (one more row in the scene layers and the fusion head) and the model's `arch`; version 3
/// moved the checksum to the end, over the header as well as the payload. (The header's
/// `item_ids`, added later, defaults to the earlier files' content, so it needed no version.)
pub const FORMAT_VERSION: u32 = 3;

/// A kind of signed file: its magic bytes, the version this build reads and writes, and how
/// its errors are named. Weights and item vectors ([`crate::vectors`]) share the frame.
pub struct Kind {
    pub magic: &'static [u8; 8],
    pub version: u32,
    /// Wraps an error message into the crate error that names this kind of file.
    pub error: fn(String) -> Error,
    /// What a file of the wrong kind is "not".
    pub name: &'static str,
}

pub const WEIGHTS: Kind = Kind { magic: b"SCENEREC", version: FORMAT_VERSION, error: Error::Weights, name: "scenerec weights file" };
/// Bytes of the preamble (magic, version, header length) and of the closing checksum.
const PREAMBLE: usize = 16;
const DIGEST: usize = 32;
/// The largest weight magnitude a file may hold. Trained weights here stay below about 10;
/// with at most a few thousand terms per dot product (see [`ModelConfig::validate`]), weights
/// up to this bound keep every sum the model computes far inside f32, while a planted 1e38
/// would turn scores into infinities or NaN.
pub const MAX_WEIGHT: f32 = 1e4;

/// What a weights file says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub model: ModelConfig,
    /// [`crate::data::Catalog::fingerprint`] of the catalogue the weights were trained on.
    pub catalog: String,
    /// Free-form provenance ("pretrained", "personal", ...).
    pub kind: String,
    /// Whether the file holds the item tower's ID table. A browser export leaves it out: the
    /// browser ranks from the exported item vectors ([`crate::vectors`]), which hold what the
    /// table gives, and only new items (cold, with no ID vector) go through the tower there.
    #[serde(default = "holds_ids")]
    pub item_ids: bool,
    /// Whether the file holds only some layers: a personal file keeps the layers on-device
    /// fine-tuning tunes (a fifth of the user-side weights), applied over the shared weights
    /// with [`overlay`].
    #[serde(default)]
    pub partial: bool,
    pub payload_len: u64,
}

/// Files written before `item_ids` existed hold the ID table.
fn holds_ids() -> bool {
    true
}

/// Serialises a model's weights with its config and catalogue fingerprint. The payload is
/// burn's burnpack record (the bytes `into_record().into_bytes()` gives), but written from
/// parameters read asynchronously, so it works on every device: a synchronous read panics
/// under WebGPU in wasm, and the WebGPU artifact has no CPU backend to copy the model to.
pub async fn save(model: &SceneRec, config: &ModelConfig, catalog: &str, kind: &str) -> Result<Vec<u8>> {
    save_only(model, config, catalog, kind, None).await
}

/// [`save`], of only the parameters `keep` (by id) when given: a partial file, for [`overlay`].
pub async fn save_only(model: &SceneRec, config: &ModelConfig, catalog: &str, kind: &str, keep: Option<&[ParamId]>) -> Result<Vec<u8>> {
    let tensors = named_tensors(model)
        .await?
        .into_iter()
        .filter(|t| keep.is_none_or(|ids| ids.contains(&t.id)))
        .map(|t| {
            let (bytes, shape, dtype) = TensorData::new(t.values, t.shape).into_parts();
            burn_pack::Tensor::new(t.name, dtype, shape, Some(t.id.val()), bytes)
        })
        .collect();
    let payload = encode_tensors(tensors)?;
    let header = Header {
        model: config.clone(),
        catalog: catalog.to_string(),
        kind: kind.to_string(),
        item_ids: model.items.has_ids(),
        partial: keep.is_some(),
        payload_len: payload.len() as u64,
    };
    let header = serde_json::to_vec(&header).map_err(|e| Error::Weights(e.to_string()))?;
    Ok(frame(&header, &payload))
}

/// A weights file around a header (JSON bytes) and a payload, signed: the one place that lays
/// the format out. [`save`] writes through it, and so do the tests and the fuzzer that craft
/// files an attacker could (any header, any payload, a valid checksum).
pub fn frame(header: &[u8], payload: &[u8]) -> Vec<u8> {
    frame_as(&WEIGHTS, header, payload)
}

/// [`frame`] for any kind of file.
pub fn frame_as(kind: &Kind, header: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(PREAMBLE + header.len() + payload.len() + DIGEST);
    out.extend_from_slice(kind.magic);
    out.extend_from_slice(&kind.version.to_le_bytes());
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(header);
    out.extend_from_slice(payload);
    let digest = Sha256::digest(&out);
    out.extend_from_slice(&digest);
    out
}

/// The header JSON and payload of a file's frame, unchecked (for crafting variants of a file;
/// [`read_header`] is what checks one). `None` if the preamble's lengths do not fit.
pub fn unframe(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let header_len = u32::from_le_bytes(bytes.get(12..16)?.try_into().ok()?) as usize;
    let end = bytes.len().checked_sub(DIGEST)?;
    Some((bytes.get(PREAMBLE..PREAMBLE.checked_add(header_len)?)?, bytes.get(PREAMBLE + header_len..end)?))
}

/// Reads and checks a weights file's header and checksum; returns the header with the payload.
pub fn read_header(bytes: &[u8]) -> Result<(Header, &[u8])> {
    let (header, payload) = open(bytes, &WEIGHTS, |h: &Header| h.payload_len)?;
    header.model.validate()?;
    Ok((header, payload))
}

/// Reads and checks a file of `kind`: magic, version, header, lengths and checksum; returns
/// the header (JSON, whose payload length `payload_len` gives) with the payload slice. The
/// header is parsed before the checksum is compared only to say what is wrong with a damaged
/// file (truncated, or bytes appended); nothing in it is used unless the sum matches.
pub fn open<'a, H: serde::de::DeserializeOwned>(bytes: &'a [u8], kind: &Kind, payload_len: fn(&H) -> u64) -> Result<(H, &'a [u8])> {
    let bad = |m: String| Err((kind.error)(m));
    if bytes.len() < PREAMBLE {
        return bad(format!("truncated: {} bytes is shorter than the {PREAMBLE}-byte preamble", bytes.len()));
    }
    if &bytes[..8] != kind.magic {
        return bad(format!("not a {} (wrong magic bytes)", kind.name));
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if version != kind.version {
        return bad(format!(
            "format version {version} is not supported (this build reads version {}; export the model again with this version's `scenerec export`)",
            kind.version
        ));
    }
    let header_len = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]) as usize;
    let Some(header_bytes) = bytes.get(PREAMBLE..PREAMBLE.saturating_add(header_len)) else {
        return bad(format!("truncated: header of {header_len} bytes, only {} present", bytes.len() - PREAMBLE));
    };
    let header: H = serde_json::from_slice(header_bytes).map_err(|e| (kind.error)(format!("header is not valid: {e}")))?;
    let rest = (bytes.len() - PREAMBLE - header_len) as u64;
    match payload_len(&header).checked_add(DIGEST as u64) {
        Some(n) if rest < n => return bad(format!("truncated: expected {n} bytes of payload and checksum, found {rest}")),
        Some(n) if rest > n => return bad(format!("{} unexpected bytes after the payload", rest - n)),
        Some(_) => {}
        None => return bad(format!("header is not valid: payload length {}", payload_len(&header))),
    }
    let (signed, digest) = bytes.split_at(bytes.len() - DIGEST);
    if Sha256::digest(signed).as_slice() != digest {
        return bad("corrupted: the file does not match its checksum".into());
    }
    Ok((header, &signed[PREAMBLE + header_len..]))
}

/// Loads weights onto `device`. With `expected`, the file must fit that config's shapes and
/// catalogue fingerprint (`(config, fingerprint)`), so weights are never silently paired with
/// the wrong catalogue.
pub fn load(bytes: &[u8], device: &Device, expected: Option<(&ModelConfig, &str)>) -> Result<(SceneRec, Header)> {
    load_checked(bytes, device, |header| match expected {
        Some((config, fingerprint)) => fits(header, config, fingerprint),
        None => Ok(()),
    })
}

/// Loads weights that must belong to `catalog` (its shapes and fingerprint); the text width is
/// the file's own (the browser has no text file to compare it with).
pub fn load_for_catalog(bytes: &[u8], device: &Device, catalog: &Catalog) -> Result<(SceneRec, Header)> {
    load_checked(bytes, device, |header| fits(header, &header.model.for_catalog(catalog), catalog.fingerprint()))
}

/// The weights' config must have `want`'s shapes and their catalogue `fingerprint`.
fn fits(header: &Header, want: &ModelConfig, fingerprint: &str) -> Result<()> {
    let got = &header.model;
    if (got.n_items, got.n_scenes, got.n_genres, got.lm_dim) != (want.n_items, want.n_scenes, want.n_genres, want.lm_dim) {
        return Err(Error::Weights(format!(
            "shape mismatch: weights are for {} items, {} scenes, {} genres, text width {}; the catalogue has {}, {}, {}, {}",
            got.n_items, got.n_scenes, got.n_genres, got.lm_dim, want.n_items, want.n_scenes, want.n_genres, want.lm_dim
        )));
    }
    if header.catalog != fingerprint {
        return Err(Error::Weights(format!("these weights belong to catalogue {}, not to this one ({fingerprint})", header.catalog)));
    }
    Ok(())
}

/// The shared weights with a personal file's layers put in: what [`load`] then proves and loads
/// as one file. A personal file that is not [`Header::partial`] (an older export) replaces the
/// shared weights whole. The personal file must belong to the same model and catalogue, and
/// each of its tensors must be one of the shared model's, of the same dtype and shape.
pub fn overlay(shared: &[u8], personal: &[u8]) -> Result<Vec<u8>> {
    let bad = |m: String| Error::Weights(format!("personal weights: {m}"));
    let (mut header, base) = read_header(shared)?;
    let (mine, layers) = read_header(personal).map_err(|e| bad(e.to_string()))?;
    if !mine.partial {
        return Ok(personal.to_vec());
    }
    if (&mine.model, &mine.catalog) != (&header.model, &header.catalog) {
        return Err(bad("they were tuned from another model or catalogue than these shared weights".into()));
    }
    let mut tensors = decode_tensors(base)?;
    for t in decode_tensors(layers)? {
        let Some(slot) = tensors.iter_mut().find(|s| s.name == t.name) else {
            return Err(bad(format!("tensor `{}` is not a layer of the shared model", t.name)));
        };
        if (slot.dtype, &slot.shape) != (t.dtype, &t.shape) {
            return Err(bad(format!("tensor `{}` is {:?} {:?}; the shared model's is {:?} {:?}", t.name, t.dtype, t.shape, slot.dtype, slot.shape)));
        }
        *slot = t;
    }
    let payload = encode_tensors(tensors)?;
    header.kind = mine.kind;
    header.payload_len = payload.len() as u64;
    Ok(frame(&serde_json::to_vec(&header).map_err(|e| Error::Weights(e.to_string()))?, &payload))
}

/// The tensors of a burnpack payload: the one place that decodes one (the loader's checks, the
/// personal overlay, the fuzzer's crafted files).
pub fn decode_tensors(payload: &[u8]) -> Result<Vec<burn_pack::Tensor>> {
    burn_pack::Reader::from_bytes(Bytes::from_bytes_vec(payload.to_vec()))
        .and_then(|r| r.into_tensors())
        .map_err(|e| Error::Weights(format!("cannot decode: {e}")))
}

/// A burnpack payload holding `tensors`: the inverse of [`decode_tensors`].
pub fn encode_tensors(tensors: Vec<burn_pack::Tensor>) -> Result<Bytes> {
    burn_pack::Writer::new(tensors).into_bytes().map_err(|e| Error::Weights(format!("cannot serialise: {e}")))
}

/// [`load`] with `check` run on the proven header before the model is built.
fn load_checked(bytes: &[u8], device: &Device, check: impl FnOnce(&Header) -> Result<()>) -> Result<(SceneRec, Header)> {
    let (header, payload) = read_header(bytes)?;
    if header.partial {
        return Err(Error::Weights("these are personal weights: load them over the shared model's weights".into()));
    }
    check(&header)?;
    // Lazy parameters: nothing is allocated until the proven record replaces them.
    let mut model = SceneRec::new(&header.model, device)?;
    if !header.item_ids && !header.model.side_inputs() {
        return Err(Error::Weights("an ID-only model (no text or genre input) cannot leave out its ID table".into()));
    }
    if !header.item_ids {
        model.items.drop_ids();
    }
    prove_payload(&model, payload)?;
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(payload.to_vec()))
        .map_err(|e| Error::Weights(format!("cannot decode: {e}")))?;
    let model = model.try_load_record(record).map_err(|e| Error::Weights(format!("does not fit the model: {e}")))?;
    Ok((model, header))
}

/// Checks the burnpack `payload` against the parameters of `model` (built from the header's
/// config): exactly the same tensor names, each f32, of the parameter's shape, with the byte
/// length that shape implies, holding finite values within [`MAX_WEIGHT`]. Anything else is an
/// error naming the tensor, before burn is handed a record it might panic on.
fn prove_payload(model: &SceneRec, payload: &[u8]) -> Result<()> {
    let bad = |m: String| Err(Error::Weights(m));
    let mut expected: BTreeMap<String, Vec<usize>> =
        parameters(model, false).into_iter().map(|p| (p.name, p.shape)).collect();
    for t in decode_tensors(payload)? {
        let Some(shape) = expected.remove(&t.name) else {
            return bad(format!("tensor `{}` is not a parameter of this model", t.name));
        };
        if t.dtype != DType::F32 {
            return bad(format!("tensor `{}` is {:?}, not f32", t.name, t.dtype));
        }
        if t.shape.as_slice() != shape.as_slice() {
            return bad(format!("tensor `{}` has shape {:?}; the model's is {shape:?}", t.name, t.shape.as_slice()));
        }
        let name = t.name.clone();
        let bytes = t.into_bytes().map_err(|e| Error::Weights(format!("tensor `{name}`: {e}")))?;
        let want = shape.iter().try_fold(4usize, |n, &d| n.checked_mul(d));
        if want != Some(bytes.len()) {
            return bad(format!("tensor `{name}` holds {} bytes; its shape {shape:?} needs {want:?}", bytes.len()));
        }
        let insane = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).find(|v| !v.is_finite() || v.abs() > MAX_WEIGHT);
        if let Some(v) = insane {
            return bad(format!("tensor `{name}` holds {v}: weights must be finite and within ±{MAX_WEIGHT}"));
        }
    }
    match expected.keys().next() {
        Some(missing) => bad(format!("tensor `{missing}` is missing ({} in all)", expected.len())),
        None => Ok(()),
    }
}

/// One parameter by its module path (`interest.encoder.layers.0.mha.query.weight`), id, shape
/// and row-major values. Burn's `Linear` weights are `[inputs, outputs]` (`y = x·W + b`).
pub struct NamedTensor {
    pub name: String,
    pub id: ParamId,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// A parameter as burn's own record collector names it, with its `on_save` value when read.
struct Parameter {
    name: String,
    id: ParamId,
    shape: Vec<usize>,
    value: Option<Tensor<1>>,
}

/// Every float parameter of `model` with its module path and shape; with `read`, its value as
/// saved (else nothing is read or initialised: the shape of a lazy parameter is known).
fn parameters(model: &SceneRec, read: bool) -> Vec<Parameter> {
    struct Collect {
        read: bool,
        path: Vec<String>,
        out: Vec<Parameter>,
    }
    impl ModuleVisitor for Collect {
        fn enter_module(&mut self, name: &str, _container_type: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let (shape, value) = if self.read {
                let value = param.transform_for_save().val();
                let shape = value.dims().to_vec();
                let n = shape.iter().product::<usize>();
                (shape, Some(value.reshape([n])))
            } else {
                (param.lazy_shape().to_vec(), None)
            };
            self.out.push(Parameter { name: self.path.join("."), id: param.id, shape, value });
        }
    }
    let mut collect = Collect { read, path: Vec::new(), out: Vec::new() };
    model.visit(&mut collect);
    collect.out
}

/// Every float parameter of `model` with its module path, read to the host asynchronously: what
/// [`save`] writes, and the weights in a form tools outside Burn can read (`scenerec tensors`,
/// for the TensorFlow.js peer of the browser benchmark).
pub async fn named_tensors(model: &SceneRec) -> Result<Vec<NamedTensor>> {
    let mut tensors = Vec::new();
    for p in parameters(model, true) {
        if let Some(value) = p.value {
            tensors.push(NamedTensor { name: p.name, id: p.id, shape: p.shape, values: read_f32(value).await? });
        }
    }
    Ok(tensors)
}
