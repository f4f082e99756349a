//! The interest encoder: reads the unified multi-scene history and produces an interest
//! vector for a query scene (a tab, or "any scene").
//!
//! Shared part: every event is its item vector plus embeddings of its scene, action, time gap
//! and recency, read by causal self-attention (SASRec-style), so every scene's events inform
//! every other scene. Scene-specific part: [`SceneLayers`] above it. The SASRec peer keeps only
//! the item vectors, the recency embedding and the attention blocks. With
//! [`ModelConfig::query_time`] either model adds the time to the request to the state the
//! queries read ([`InterestEncoder::at_query`]).

use burn::module::{Initializer, Module, ModuleVisitor};
use burn::nn::attention::{MhaInput, generate_autoregressive_mask};
use burn::nn::transformer::{TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput};
use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig};
use burn::tensor::{Device, Int, Tensor};

use super::config::{GAP_BUCKETS, ModelConfig};
use super::inputs::HistoryBatch;
use super::scene_layers::SceneLayers;
use crate::data::Action;

/// What each event says beside its item: where, how and when (absent in the SASRec peer).
#[derive(Module, Debug)]
pub struct EventInputs {
    scene: Embedding,
    action: Embedding,
    gap: Embedding,
}

#[derive(Module, Debug)]
pub struct InterestEncoder {
    events: Option<EventInputs>,
    position: Embedding,
    input_norm: LayerNorm,
    dropout: Dropout,
    encoder: TransformerEncoder,
    output_norm: LayerNorm,
    /// Embedding of the bucketed time from the last event to the request, added to the sequence
    /// state ([`ModelConfig::query_time`]; row 0: unknown). Zero at the start, so a model begins
    /// as the one without it.
    query_gap: Option<Embedding>,
    scene_layers: Option<SceneLayers>,
}

impl InterestEncoder {
    pub fn new(c: &ModelConfig, device: &Device) -> Self {
        InterestEncoder {
            events: c.side_inputs().then(|| EventInputs {
                scene: EmbeddingConfig::new(c.n_scenes, c.dim).init(device),
                action: EmbeddingConfig::new(Action::COUNT, c.dim).init(device),
                gap: EmbeddingConfig::new(GAP_BUCKETS, c.dim).init(device),
            }),
            position: EmbeddingConfig::new(c.max_len, c.dim).init(device),
            input_norm: LayerNormConfig::new(c.dim).init(device),
            dropout: DropoutConfig::new(c.dropout).init(),
            encoder: TransformerEncoderConfig::new(c.dim, c.dim * 2, c.heads, c.layers)
                .with_dropout(c.dropout)
                .with_norm_first(true)
                .init(device),
            output_norm: LayerNormConfig::new(c.dim).init(device),
            query_gap: c.query_time.then(|| {
                EmbeddingConfig::new(GAP_BUCKETS, c.dim).with_initializer(Initializer::Zeros).init(device)
            }),
            scene_layers: c.side_inputs().then(|| SceneLayers::new(c, device)),
        }
    }

    /// The encoder's input: each event's item vector plus its recency embedding and (except in
    /// the SASRec peer) its scene, action and gap embeddings (unless event dropout hid them:
    /// [`HistoryBatch::side_keep`]), normalised.
    ///
    /// # Shapes
    /// `items_padded`: `[items + 1, dim]`; returns `[batch, len, dim]`
    fn inputs(&self, items_padded: &Tensor<2>, h: &HistoryBatch) -> Tensor<3> {
        let [b, l] = h.dims();
        let dim = items_padded.dims()[1];
        let item_vecs = items_padded.clone().select(0, h.items.clone().reshape([b * l])).reshape([b, l, dim]);
        let mut x = item_vecs + self.position.forward(h.positions.clone());
        if let Some(e) = &self.events {
            let side = e.scene.forward(h.scenes.clone()) + e.action.forward(h.actions.clone()) + e.gap.forward(h.gaps.clone());
            x = x + match &h.side_keep {
                Some(keep) => side * keep.clone(),
                None => side,
            };
        }
        self.dropout.forward(self.input_norm.forward(x))
    }

    /// Causal sequence states: position `t` has read events `..=t`.
    ///
    /// `items_padded` is the item table with one extra zero row for padding.
    ///
    /// # Shapes
    /// `items_padded`: `[items + 1, dim]`; returns `[batch, len, dim]`
    pub fn states(&self, items_padded: &Tensor<2>, h: &HistoryBatch) -> Tensor<3> {
        let [b, l] = h.dims();
        let x = self.inputs(items_padded, h);
        let mask = generate_autoregressive_mask(b, l, &x.device());
        let y = self.encoder.forward(TransformerEncoderInput::new(x).mask_pad(h.pad.clone()).mask_attn(mask));
        self.output_norm.forward(y)
    }

    /// The causal state after each window's last event only: `states(..)[:, len - 1]`, but
    /// the final layer runs its query, feed-forward and norms for that one position instead of
    /// all `len` (ranking needs nothing else; about a third of the encoder's work).
    ///
    /// # Shapes
    /// `items_padded`: `[items + 1, dim]`; returns `[batch, dim]`
    pub fn last_states(&self, items_padded: &Tensor<2>, h: &HistoryBatch) -> Tensor<2> {
        let [b, l] = h.dims();
        let dim = items_padded.dims()[1];
        let mut x = self.inputs(items_padded, h);
        let Some((last, below)) = self.encoder.layers.split_last() else {
            return self.output_norm.forward(x.slice([0..b, l - 1..l]).reshape([b, dim]));
        };
        let mask = generate_autoregressive_mask(b, l, &x.device());
        for layer in below {
            x = layer.forward(x, Some(h.pad.clone()), Some(mask.clone()));
        }
        // burn's norm-first layer (`with_norm_first(true)` above): norm_2 before attention,
        // norm_1 before the feed-forward. The last position may attend to every non-padding event.
        let keys = last.norm_2.forward(x.clone());
        let query = keys.clone().slice([0..b, l - 1..l]);
        let attended = last.mha.forward(MhaInput::new(query, keys.clone(), keys).mask_pad(h.pad.clone())).context;
        let y = x.slice([0..b, l - 1..l]) + attended;
        let y = y.clone() + last.pwff.forward(last.norm_1.forward(y));
        self.output_norm.forward(y.reshape([b, dim]))
    }

    /// Whether the model reads the request's time ([`ModelConfig::query_time`]).
    pub fn reads_query_time(&self) -> bool {
        self.query_gap.is_some()
    }

    /// Sequence states as of the request: each state plus the embedding of its window's
    /// [`HistoryBatch::query_gaps`] (`None`: unknown, row 0). The states themselves in a model
    /// without [`ModelConfig::query_time`].
    ///
    /// # Shapes
    /// `states`: `[rows, dim]`, `gaps`: `[rows]`; returns `[rows, dim]`
    pub fn at_query(&self, states: Tensor<2>, gaps: Option<Tensor<1, Int>>) -> Tensor<2> {
        let Some(embedding) = &self.query_gap else { return states };
        let rows = states.dims()[0];
        let gaps = gaps.unwrap_or_else(|| Tensor::zeros([rows], &states.device()));
        states + embedding.weight.val().select(0, gaps)
    }

    /// Whether scene queries differ from "any scene" (false in the SASRec peer).
    pub fn has_scene_layers(&self) -> bool {
        self.scene_layers.is_some()
    }

    /// Visits the scene-specific layers: what on-device fine-tuning adapts above the shared
    /// encoder.
    pub fn visit_scene_layers<V: ModuleVisitor>(&self, visitor: &mut V) {
        if let Some(layers) = &self.scene_layers {
            layers.visit(visitor);
        }
    }

    /// Interest vectors for query scenes from sequence states (the states themselves in the
    /// SASRec peer, which has no scene layers).
    ///
    /// # Shapes
    /// `states`: `[rows, dim]`, `scenes`: `[rows]`; returns `[rows, dim]`
    pub fn interest(&self, states: Tensor<2>, scenes: Tensor<1, Int>) -> Tensor<2> {
        match &self.scene_layers {
            Some(layers) => layers.forward(states, scenes),
            None => states,
        }
    }
}
