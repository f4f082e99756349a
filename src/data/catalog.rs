//! The item catalogue: what the model and the browser know about each item.
//!
//! Held in columns, not as one struct per item: a million-item catalogue has to fit a browser
//! tab's wasm memory, where a `String` and a `Vec` per item cost ~100 bytes of headers and
//! allocations before any content. Ids are one string with end offsets, scenes one `u16` each,
//! and the display details (titles, per-item genres) are optional: the engine ranks with ids
//! and scenes alone, so the browser loads `catalog.bin` ([`Catalog::to_bin`]) without them.

use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Deserialize, Serialize, Serializer};
use std::collections::HashMap;

use crate::model::config::LIMITS;
use crate::store::{self, Kind};
use crate::{Error, Result};

/// One item of the catalogue, as catalogues are built and `catalog.json` holds them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Item {
    /// The item's id in the source data (for ML-1M: the title with its year).
    pub id: String,
    /// Human-readable title.
    pub title: String,
    /// Indices into [`Catalog::genres`].
    pub genres: Vec<u16>,
    /// Index into [`Catalog::scenes`]: the scene (tab) the item lives in.
    pub scene: u16,
}

/// One item read from a [`Catalog`]'s columns. Serialises as [`Item`] does.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ItemRef<'a> {
    pub id: &'a str,
    /// The id when the catalogue holds no details.
    pub title: &'a str,
    /// Empty when the catalogue holds no details.
    pub genres: &'a [u16],
    pub scene: u16,
}

impl ItemRef<'_> {
    /// The text the language model embeds: title plus genre names.
    pub fn text(&self, catalog: &Catalog) -> String {
        let genres: Vec<&str> = self.genres.iter().map(|&g| catalog.genres[g as usize].as_str()).collect();
        item_text(self.title, &genres)
    }

    pub fn to_item(&self) -> Item {
        Item { id: self.id.into(), title: self.title.into(), genres: self.genres.into(), scene: self.scene }
    }
}

/// The text the language model embeds for an item with this title and these genre names: one
/// place, so that items added later (`scenerec embed-items`) are embedded as training's were.
pub fn item_text(title: &str, genres: &[&str]) -> String {
    if genres.is_empty() { title.to_string() } else { format!("{title}. Genres: {}", genres.join(", ")) }
}

/// Where entry `i` of a buffer laid out by end offsets lies: `ends[i - 1]..ends[i]`.
fn span(ends: &[u32], i: usize) -> std::ops::Range<usize> {
    let start = if i == 0 { 0 } else { ends[i - 1] as usize };
    start..ends[i] as usize
}

/// Where the first `n` entries of a buffer laid out by end offsets end.
fn end_of_first(ends: &[u32], n: usize) -> usize {
    if n == 0 { 0 } else { ends[n - 1] as usize }
}

/// Strings in one buffer: string `i` is `text[span(ends, i)]`.
#[derive(Debug, Clone, Default, PartialEq)]
struct Strings {
    text: String,
    ends: Vec<u32>,
}

impl Strings {
    fn get(&self, i: usize) -> &str {
        &self.text[span(&self.ends, i)]
    }

    fn push(&mut self, s: &str) -> Result<()> {
        self.text.push_str(s);
        self.ends.push(u32::try_from(self.text.len()).map_err(|_| {
            Error::Data(format!("the catalogue's strings are longer than {} bytes in all", u32::MAX))
        })?);
        Ok(())
    }
}

/// What only display and the item tower's inputs read: titles and each item's genres.
#[derive(Debug, Clone, Default, PartialEq)]
struct Details {
    titles: Strings,
    /// Item `i`'s genres are `genres[span(genre_ends, i)]`.
    genre_ends: Vec<u32>,
    genres: Vec<u16>,
}

/// How a catalogue's scenes relate to its items, which decides what a scene ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SceneKind {
    /// Each item lives in one scene, its tab (a genre channel, a section of a shop): a scene
    /// ranks its own items.
    #[default]
    Tabs,
    /// Scenes are the surfaces where interactions happen (browse, search, cart), and any item
    /// may be shown on any of them: a scene ranks the whole catalogue and only conditions the
    /// user's query. An item's scene is then the surface it was met on most.
    Surfaces,
}

impl SceneKind {
    fn is_tabs(&self) -> bool {
        *self == SceneKind::Tabs
    }

    /// Whether a scene `scene` ranks an item whose home scene is `home`: every item on a
    /// surface, its own items on a tab. The one rule [`Catalog::in_scene`] and the model's
    /// scene index both apply.
    pub fn ranks(self, home: u16, scene: u16) -> bool {
        self == SceneKind::Surfaces || home == scene
    }

    /// What a scene ranks, in words, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            SceneKind::Tabs => "tabs: a scene ranks its own items",
            SceneKind::Surfaces => "surfaces: every scene ranks the whole catalogue",
        }
    }
}

/// Items, scene names and genre names, with a lookup from item id to index.
///
/// The id lookup is the item indices sorted by id (4 bytes per item, searched by bisection)
/// rather than a hash map holding a second copy of every id.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    pub scenes: Vec<String>,
    pub genres: Vec<String>,
    ids: Strings,
    item_scenes: Vec<u16>,
    scene_kind: SceneKind,
    /// Absent in a catalogue read from `catalog.bin`.
    details: Option<Details>,
    by_id: Vec<u32>,
    scene_index: HashMap<String, usize>,
    fingerprint: String,
}

/// The most cells (items × genres) of the dense genre input ([`Catalog::genre_matrix`]): 1 GiB
/// of f32, so a catalogue file cannot make the loader allocate far more than itself.
pub const MAX_GENRE_CELLS: usize = 1 << 28;

/// `catalog.bin`: the engine's catalogue (scenes and genre names, item ids and scenes, the
/// fingerprint of the whole catalogue), without titles and per-item genres.
pub const CATALOG: Kind = Kind { magic: b"SRCATLOG", version: 1, error: Error::Catalog, name: "scenerec catalogue file" };

/// What a `catalog.bin` says about itself. Payload: `items` scene indices (u16, little
/// endian), `items` id end offsets (u32) into the ids' UTF-8 bytes, then those bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogHeader {
    pub scenes: Vec<String>,
    pub genres: Vec<String>,
    pub items: usize,
    /// Absent (tabs) in files written before scenes could be surfaces.
    #[serde(default, skip_serializing_if = "SceneKind::is_tabs")]
    pub scene_kind: SceneKind,
    /// [`Catalog::fingerprint`] of the whole catalogue (titles and genres included), which
    /// weights and item vectors are bound to.
    pub fingerprint: String,
    pub payload_len: u64,
}

/// `catalog.json`'s shape.
#[derive(Deserialize)]
struct CatalogJson {
    scenes: Vec<String>,
    genres: Vec<String>,
    items: Vec<Item>,
    #[serde(default)]
    scene_kind: SceneKind,
}

impl Catalog {
    pub fn new(scenes: Vec<String>, genres: Vec<String>, items: Vec<Item>) -> Result<Self> {
        let mut catalog = Catalog::empty(scenes, genres, Some(Details::default()));
        catalog.push_all(&items)?;
        catalog.reindex()?;
        catalog.fingerprint = catalog.compute_fingerprint();
        Ok(catalog)
    }

    fn empty(scenes: Vec<String>, genres: Vec<String>, details: Option<Details>) -> Self {
        let fingerprint = String::new();
        Catalog {
            scenes,
            genres,
            ids: Strings::default(),
            item_scenes: Vec::new(),
            scene_kind: SceneKind::Tabs,
            details,
            by_id: Vec::new(),
            scene_index: HashMap::new(),
            fingerprint,
        }
    }

    /// The catalogue with scenes of `kind` (a new catalogue's are tabs). The kind is part of
    /// the fingerprint: weights trained to rank a tab's items are not those of a surface.
    pub fn with_scene_kind(mut self, kind: SceneKind) -> Self {
        self.scene_kind = kind;
        self.fingerprint = self.compute_fingerprint();
        self
    }

    fn push_all(&mut self, items: &[Item]) -> Result<()> {
        if items.len() > LIMITS.items.saturating_sub(self.len()) {
            return Err(Error::Data(format!("the catalogue would have {} items; at most {} are supported", self.len() + items.len(), LIMITS.items)));
        }
        for item in items {
            self.ids.push(&item.id)?;
            self.item_scenes.push(item.scene);
            if let Some(d) = &mut self.details {
                d.titles.push(&item.title)?;
                d.genres.extend_from_slice(&item.genres);
                d.genre_ends.push(u32::try_from(d.genres.len()).map_err(|_| Error::Data("too many item genres in all".into()))?);
            }
        }
        Ok(())
    }

    fn truncate(&mut self, n: usize) {
        self.ids.text.truncate(end_of_first(&self.ids.ends, n));
        self.ids.ends.truncate(n);
        self.item_scenes.truncate(n);
        if let Some(d) = &mut self.details {
            d.titles.text.truncate(end_of_first(&d.titles.ends, n));
            d.titles.ends.truncate(n);
            d.genres.truncate(end_of_first(&d.genre_ends, n));
            d.genre_ends.truncate(n);
        }
    }

    /// Rebuilds the id and scene indices, and checks every reference is in range and every
    /// count within the model's [`LIMITS`].
    fn reindex(&mut self) -> Result<()> {
        let (items, scenes, genres) = (self.len(), self.scenes.len(), self.genres.len());
        if items > LIMITS.items || scenes > LIMITS.scenes || genres > LIMITS.genres {
            return Err(Error::Data(format!(
                "the catalogue has {items} items, {scenes} scenes and {genres} genres; at most {}, {} and {} are supported",
                LIMITS.items, LIMITS.scenes, LIMITS.genres
            )));
        }
        if items.saturating_mul(genres.max(1)) > MAX_GENRE_CELLS {
            return Err(Error::Data(format!(
                "{items} items × {genres} genres is more than the {MAX_GENRE_CELLS} cells the genre input can hold"
            )));
        }
        self.scene_index.clear();
        for (i, name) in self.scenes.iter().enumerate() {
            if self.scene_index.insert(name.clone(), i).is_some() {
                return Err(Error::Data(format!("scene `{name}` appears twice in the catalogue")));
            }
        }
        let mut by_id: Vec<u32> = (0..items as u32).collect();
        by_id.sort_unstable_by(|&a, &b| self.id(a as usize).cmp(self.id(b as usize)));
        if let Some(pair) = by_id.windows(2).find(|p| self.id(p[0] as usize) == self.id(p[1] as usize)) {
            return Err(Error::Data(format!("item id `{}` appears twice in the catalogue", self.id(pair[0] as usize))));
        }
        self.by_id = by_id;
        if let Some(i) = self.item_scenes.iter().position(|&s| s as usize >= scenes) {
            return Err(Error::Data(format!("item `{}` has scene {} of {scenes}", self.id(i), self.item_scenes[i])));
        }
        for i in 0..items {
            if let Some(g) = self.item(i).genres.iter().find(|&&g| g as usize >= genres) {
                return Err(Error::Data(format!("item `{}` has genre {g} of {genres}", self.id(i))));
            }
        }
        Ok(())
    }

    /// Appends items, checked as a loaded catalogue's are (unique ids, scenes and genres in
    /// range, within the limits). On an error the catalogue is unchanged. The fingerprint stays
    /// the one the catalogue was built or loaded with: weights stay bound to the catalogue they
    /// were trained on, whatever a device adds to it.
    pub fn add(&mut self, items: Vec<Item>) -> Result<()> {
        let before = self.len();
        let checked = self.push_all(&items).and_then(|()| self.reindex());
        if checked.is_err() {
            self.truncate(before);
            self.reindex().expect("the catalogue before the addition was valid");
        }
        checked
    }

    pub fn len(&self) -> usize {
        self.item_scenes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.item_scenes.is_empty()
    }

    pub fn id(&self, i: usize) -> &str {
        self.ids.get(i)
    }

    /// Item `i`'s scene index.
    pub fn scene_of(&self, i: usize) -> u16 {
        self.item_scenes[i]
    }

    /// Every item's scene index, in catalogue order.
    pub fn item_scenes(&self) -> &[u16] {
        &self.item_scenes
    }

    pub fn scene_kind(&self) -> SceneKind {
        self.scene_kind
    }

    /// Whether scene `scene` ranks item `i`: every item on a surface, its own items on a tab.
    pub fn in_scene(&self, i: usize, scene: u16) -> bool {
        self.scene_kind.ranks(self.item_scenes[i], scene)
    }

    pub fn item(&self, i: usize) -> ItemRef<'_> {
        let (title, genres) = match &self.details {
            Some(d) => (d.titles.get(i), &d.genres[span(&d.genre_ends, i)]),
            None => (self.id(i), &[][..]),
        };
        ItemRef { id: self.id(i), title, genres, scene: self.item_scenes[i] }
    }

    pub fn iter(&self) -> impl Iterator<Item = ItemRef<'_>> {
        (0..self.len()).map(|i| self.item(i))
    }

    pub fn item_index(&self, id: &str) -> Option<usize> {
        let found = self.by_id.binary_search_by(|&i| self.id(i as usize).cmp(id));
        found.ok().map(|p| self.by_id[p] as usize)
    }

    pub fn scene_index(&self, name: &str) -> Option<usize> {
        self.scene_index.get(name).copied()
    }

    /// Catalogue as JSON (`catalog.json`: what display reads, and what the fingerprint hashes).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("catalogue serialises")
    }

    pub fn from_json(text: &str) -> Result<Self> {
        let file: CatalogJson = serde_json::from_str(text).map_err(|e| Error::Data(format!("catalogue JSON: {e}")))?;
        Ok(Catalog::new(file.scenes, file.genres, file.items)?.with_scene_kind(file.scene_kind))
    }

    /// `catalog.bin`: what the engine ranks with (ids and scenes), a fifth of `catalog.json`'s
    /// bytes for a typical shop and parsed without a JSON parser.
    pub fn to_bin(&self) -> Vec<u8> {
        let n = self.len();
        let mut payload = Vec::with_capacity(n * 6 + self.ids.text.len());
        payload.extend(self.item_scenes.iter().flat_map(|s| s.to_le_bytes()));
        payload.extend(self.ids.ends.iter().flat_map(|e| e.to_le_bytes()));
        payload.extend_from_slice(self.ids.text.as_bytes());
        let header = CatalogHeader {
            scenes: self.scenes.clone(),
            genres: self.genres.clone(),
            items: n,
            scene_kind: self.scene_kind,
            fingerprint: self.fingerprint.clone(),
            payload_len: payload.len() as u64,
        };
        store::frame_as(&CATALOG, &serde_json::to_vec(&header).expect("header serialises"), &payload)
    }

    /// Reads a file written by [`Catalog::to_bin`]: every offset, scene and id is checked as
    /// `catalog.json`'s are. The catalogue holds no details, and its fingerprint is the one
    /// the file states (the file's checksum covers it).
    pub fn from_bin(bytes: Vec<u8>) -> Result<Self> {
        let bad = |m: String| Err(Error::Catalog(m));
        let (header, payload) = store::open(&bytes, &CATALOG, |h: &CatalogHeader| h.payload_len)?;
        let n = header.items;
        if n > LIMITS.items {
            return bad(format!("{n} items; at most {} are supported", LIMITS.items));
        }
        if payload.len() < n * 6 {
            return bad(format!("{} bytes of payload is too short for {n} items", payload.len()));
        }
        let (scenes, rest) = payload.split_at(n * 2);
        let (ends, text) = rest.split_at(n * 4);
        let item_scenes: Vec<u16> = scenes.chunks_exact(2).map(|b| u16::from_le_bytes([b[0], b[1]])).collect();
        let ends: Vec<u32> = ends.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let Ok(text) = std::str::from_utf8(text) else { return bad("the item ids are not UTF-8".into()) };
        let mut start = 0;
        for (i, &end) in ends.iter().enumerate() {
            let end = end as usize;
            if end < start || end > text.len() || !text.is_char_boundary(end) {
                return bad(format!("item {i}'s id ends at byte {end}, outside the ids' {} bytes or inside a character", text.len()));
            }
            start = end;
        }
        if start != text.len() {
            return bad(format!("the ids end at byte {start} of {}", text.len()));
        }
        let mut catalog = Catalog::empty(header.scenes, header.genres, None);
        catalog.ids = Strings { text: text.to_string(), ends };
        catalog.item_scenes = item_scenes;
        catalog.scene_kind = header.scene_kind;
        catalog.fingerprint = header.fingerprint;
        drop(bytes); // the ids are copied out: the file's memory is free for the index below
        catalog.reindex().map_err(|e| Error::Catalog(e.to_string()))?;
        Ok(catalog)
    }

    /// Item-by-genre multi-hot rows, each normalised to sum 1 (row-major `[items, genres]`).
    pub fn genre_matrix(&self) -> Vec<f32> {
        let g = self.genres.len().max(1);
        let mut m = vec![0.0; self.len() * g];
        for (i, item) in self.iter().enumerate() {
            let w = 1.0 / item.genres.len().max(1) as f32;
            for &genre in item.genres {
                m[i * g + genre as usize] = w;
            }
        }
        m
    }

    /// A stable fingerprint of the catalogue, stored in weights files so that weights are
    /// never paired with a catalogue they were not trained on: a hash of `catalog.json`, taken
    /// when the catalogue is built (items added later do not change it).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The JSON is hashed as it is written, never held whole (at a million items it is 66 MB).
    fn compute_fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        serde_json::to_writer(&mut hasher, self).expect("catalogue serialises");
        hasher.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
    }
}

/// `catalog.json`: `{"scenes": [..], "genres": [..], "items": [{"id", "title", "genres",
/// "scene"}, ..]}`, written from the columns, and `"scene_kind": "surfaces"` when they are
/// (left out for tabs, so a catalogue of tabs keeps the fingerprint it had before the field).
impl Serialize for Catalog {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        struct Items<'a>(&'a Catalog);
        impl Serialize for Items<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                let mut seq = s.serialize_seq(Some(self.0.len()))?;
                for item in self.0.iter() {
                    seq.serialize_element(&item)?;
                }
                seq.end()
            }
        }
        let mut out = s.serialize_struct("Catalog", 3)?;
        out.serialize_field("scenes", &self.scenes)?;
        out.serialize_field("genres", &self.genres)?;
        out.serialize_field("items", &Items(self))?;
        if !self.scene_kind.is_tabs() {
            out.serialize_field("scene_kind", &self.scene_kind)?;
        }
        out.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Catalog {
        let items = vec![
            Item { id: "b".into(), title: "Bé".into(), genres: vec![1, 0], scene: 1 },
            Item { id: "a€".into(), title: "A".into(), genres: vec![], scene: 0 },
            Item { id: "c".into(), title: "C".into(), genres: vec![1], scene: 1 },
        ];
        Catalog::new(vec!["S0".into(), "S1".into()], vec!["x".into(), "y".into()], items).unwrap()
    }

    #[test]
    fn json_round_trips_in_the_shape_items_serialise_to() {
        let c = sample();
        // What the catalogue serialised to when it was a plain struct: fingerprints depend on it.
        #[derive(Serialize)]
        struct Plain<'a> {
            scenes: &'a [String],
            genres: &'a [String],
            items: Vec<Item>,
        }
        let items = c.iter().map(|i| i.to_item()).collect();
        assert_eq!(c.to_json(), serde_json::to_string(&Plain { scenes: &c.scenes, genres: &c.genres, items }).unwrap());
        assert_eq!(Catalog::from_json(&c.to_json()).unwrap(), c);
        assert_eq!((c.item_index("a€"), c.item_index("c"), c.item_index("z")), (Some(1), Some(2), None));
        assert_eq!(c.item(0).text(&c), "Bé. Genres: y, x");
    }

    #[test]
    fn the_binary_catalogue_holds_ids_scenes_and_the_fingerprint() {
        let c = sample();
        let b = Catalog::from_bin(c.to_bin()).unwrap();
        assert!(b.iter().all(|i| i.genres.is_empty()), "no details: no per-item genres");
        assert_eq!((b.len(), b.fingerprint(), b.item_scenes()), (3, c.fingerprint(), c.item_scenes()));
        assert_eq!((b.id(1), b.item(1).title, b.item_index("c")), ("a€", "a€", Some(2)));
        let err = |bytes: &[u8]| Catalog::from_bin(bytes.to_vec()).unwrap_err().to_string();
        let (header, payload) = store::unframe(&c.to_bin()).map(|(h, p)| (h.to_vec(), p.to_vec())).unwrap();
        let resigned = |payload: &[u8]| {
            let mut h: CatalogHeader = serde_json::from_slice(&header).unwrap();
            h.payload_len = payload.len() as u64;
            store::frame_as(&CATALOG, &serde_json::to_vec(&h).unwrap(), payload)
        };
        // An id end inside "€" (3 bytes), a scene out of range, a duplicated id.
        let mut inside = payload.clone();
        inside[6..10].copy_from_slice(&3u32.to_le_bytes());
        assert!(err(&resigned(&inside)).contains("inside a character"), "{}", err(&resigned(&inside)));
        let mut scene = payload.clone();
        scene[0] = 7;
        assert!(err(&resigned(&scene)).contains("scene 7 of 2"));
        let twice = [&payload[..6], &[1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0], "bbc".as_bytes()].concat();
        assert!(err(&resigned(&twice)).contains("appears twice"));
        assert!(err(&resigned(&payload[..payload.len() - 1])).contains("outside the ids' 5 bytes"));
        assert!(err(&resigned(&[&payload[..], b"x"].concat())).contains("the ids end at byte 6 of 7"));
        assert!(err(&c.to_bin()[..20]).contains("truncated"));
    }

    /// A catalogue of surfaces says so in both files and in its fingerprint, and ranks every
    /// item in every scene; a catalogue of tabs is written as it was before surfaces existed.
    #[test]
    fn surfaces_survive_both_files_and_change_the_fingerprint() {
        let tabs = sample();
        assert!(!tabs.to_json().contains("scene_kind"));
        assert!(tabs.in_scene(0, 1) && !tabs.in_scene(0, 0));
        let surfaces = sample().with_scene_kind(SceneKind::Surfaces);
        assert_ne!(surfaces.fingerprint(), tabs.fingerprint());
        assert!((0..3).all(|i| surfaces.in_scene(i, 0) && surfaces.in_scene(i, 1)));
        assert_eq!(Catalog::from_json(&surfaces.to_json()).unwrap(), surfaces);
        let bin = Catalog::from_bin(surfaces.to_bin()).unwrap();
        assert_eq!((bin.scene_kind(), bin.fingerprint()), (SceneKind::Surfaces, surfaces.fingerprint()));
        assert_eq!(Catalog::from_bin(tabs.to_bin()).unwrap().scene_kind(), SceneKind::Tabs);
    }

    #[test]
    fn a_failed_addition_leaves_the_catalogue_as_it_was() {
        let mut c = sample();
        let before = c.clone();
        let new = |id: &str| Item { id: id.into(), title: "N".into(), genres: vec![1], scene: 0 };
        assert!(c.add(vec![new("d"), new("b")]).unwrap_err().to_string().contains("appears twice"));
        assert_eq!(c, before);
        c.add(vec![new("d")]).unwrap();
        assert_eq!((c.len(), c.item(3).title, c.item(3).genres, c.fingerprint()), (4, "N", &[1u16][..], before.fingerprint()));
    }
}
