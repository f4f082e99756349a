//! The tensors the model reads, built from host data on the model's device.

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use crate::data::{Catalog, SceneKind};
use crate::{Error, Result};

/// The largest text-embedding value accepted. Sentence embeddings such as MiniLM's are unit
/// length (every value within ±1); a thousandfold margin admits any text model's raw outputs,
/// while a planted huge row, which would swamp every dot product it enters, is refused.
pub const MAX_TEXT_VALUE: f32 = 1e3;

/// Per-item features, fixed for a catalogue.
#[derive(Debug, Clone)]
pub struct ItemFeatures {
    /// `[items, lm_dim]` language-model text embeddings (unit length).
    pub lm: Tensor<2>,
    /// `[items, genres]` normalised multi-hot genre rows.
    pub genres: Tensor<2>,
    /// The items' home scenes and what each scene ranks.
    pub scenes: SceneIndex,
    /// `[items, 1]`: 1 for items whose ID embedding was trained, 0 for new (cold) items,
    /// which are then represented by their text and categories alone.
    pub known: Tensor<2>,
}

impl ItemFeatures {
    /// `lm` is row-major `[items, lm_dim]`; `known[i]` says item `i` has a trained ID vector.
    pub fn new(catalog: &Catalog, lm: &[f32], lm_dim: usize, known: &[bool], device: &Device) -> Result<Self> {
        let n = catalog.len();
        if n.checked_mul(lm_dim) != Some(lm.len()) || known.len() != n {
            return Err(Error::Input(format!(
                "item features: {} embedding values and {} flags for {n} items of width {lm_dim}",
                lm.len(),
                known.len()
            )));
        }
        if let Some(i) = lm.iter().position(|x| !x.is_finite() || x.abs() > MAX_TEXT_VALUE) {
            return Err(Error::Input(format!(
                "item text embeddings: item {} holds {}; values must be finite and within ±{MAX_TEXT_VALUE}",
                i / lm_dim.max(1),
                lm[i]
            )));
        }
        let g = catalog.genres.len().max(1);
        let known: Vec<f32> = known.iter().map(|&k| if k { 1.0 } else { 0.0 }).collect();
        Ok(ItemFeatures {
            lm: Tensor::from_data(TensorData::new(lm.to_vec(), [n, lm_dim]), device),
            genres: Tensor::from_data(TensorData::new(catalog.genre_matrix(), [n, g]), device),
            scenes: SceneIndex::new(catalog, device),
            known: Tensor::from_data(TensorData::new(known, [n, 1]), device),
        })
    }

    pub fn len(&self) -> usize {
        self.scenes.home.dims()[0]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What each scene query ranks, on the device and on the host: a tab's own items, or every item
/// on a surface ([`SceneKind`]).
#[derive(Debug, Clone)]
pub struct SceneIndex {
    /// `[items]` home scene of each item.
    pub home: Tensor<1, Int>,
    /// Per scene, `[members]` the indices of the items it ranks, in catalogue order.
    pub members: Vec<Tensor<1, Int>>,
    /// Per item, its home scene and its position among the members of the scenes that rank it.
    pub home_of: Vec<u16>,
    pub position: Vec<u32>,
    kind: SceneKind,
}

impl SceneIndex {
    pub fn new(catalog: &Catalog, device: &Device) -> Self {
        Self::from_homes(catalog.item_scenes().to_vec(), catalog.scenes.len(), catalog.scene_kind(), device)
    }

    /// The index of items whose home scenes are `home_of` (each below `scenes`), in scenes of
    /// `kind`.
    pub fn from_homes(home_of: Vec<u16>, scenes: usize, kind: SceneKind, device: &Device) -> Self {
        let n = home_of.len();
        let tensor = |m: Vec<i64>| {
            let k = m.len();
            Tensor::<1, Int>::from_data(TensorData::new(m, [k]), device)
        };
        let (members, position) = match kind {
            SceneKind::Surfaces => (vec![tensor((0..n as i64).collect()); scenes], (0..n as u32).collect()),
            SceneKind::Tabs => {
                let mut members: Vec<Vec<i64>> = vec![Vec::new(); scenes];
                let mut position = Vec::with_capacity(n);
                for (i, &scene) in home_of.iter().enumerate() {
                    let m = &mut members[scene as usize];
                    position.push(m.len() as u32);
                    m.push(i as i64);
                }
                (members.into_iter().map(tensor).collect(), position)
            }
        };
        SceneIndex {
            home: Tensor::from_data(TensorData::new(home_of.iter().map(|&s| s as i64).collect::<Vec<_>>(), [n]), device),
            members,
            home_of,
            position,
            kind,
        }
    }

    /// Whether scene `scene` ranks item `i` (as [`Catalog::in_scene`]).
    pub fn holds(&self, i: usize, scene: u16) -> bool {
        self.kind.ranks(self.home_of[i], scene)
    }

    /// Whether every scene ranks every item.
    pub fn surfaces(&self) -> bool {
        self.kind == SceneKind::Surfaces
    }

    /// The same index with its tensors on the autodiff device (for fine-tuning).
    pub fn autodiff(&self) -> Self {
        SceneIndex {
            home: self.home.clone().autodiff(),
            members: self.members.iter().map(|m| m.clone().autodiff()).collect(),
            ..self.clone()
        }
    }
}

/// A batch of left-padded history windows, most recent event last.
#[derive(Debug, Clone)]
pub struct HistoryBatch {
    /// `[batch, len]` item indices; padding uses `n_items` (a zero vector).
    pub items: Tensor<2, Int>,
    /// `[batch, len]` scene of each event (0 on padding).
    pub scenes: Tensor<2, Int>,
    /// `[batch, len]` action of each event.
    pub actions: Tensor<2, Int>,
    /// `[batch, len]` bucketed time gap to the previous event.
    pub gaps: Tensor<2, Int>,
    /// `[batch, len]` recency position: 0 for the last event.
    pub positions: Tensor<2, Int>,
    /// `[batch, len]` `true` on padding.
    pub pad: Tensor<2, Bool>,
    /// `[batch, len, 1]` 1 where an event's scene, action and gap are read, 0 where training's
    /// event dropout hid them (`None`: all read, as in ranking).
    pub side_keep: Option<Tensor<3>>,
    /// `[batch]` bucketed time from each window's last event to the request
    /// ([`crate::data::batch::query_gap`]; 0: unknown), read by models with
    /// [`super::ModelConfig::query_time`]. `None`: unknown for every window.
    pub query_gaps: Option<Tensor<1, Int>>,
}

impl HistoryBatch {
    pub fn dims(&self) -> [usize; 2] {
        self.items.dims()
    }
}
