//! The item catalogue: what the model and the browser know about each item.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use crate::model::config::LIMITS;
use crate::{Error, Result};

/// One item of the catalogue.
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

impl Item {
    /// The text the language model embeds: title plus genre names.
    pub fn text(&self, catalog: &Catalog) -> String {
        let genres: Vec<&str> = self.genres.iter().map(|&g| catalog.genres[g as usize].as_str()).collect();
        item_text(&self.title, &genres)
    }
}

/// The text the language model embeds for an item with this title and these genre names: one
/// place, so that items added later (`scenerec embed-items`) are embedded as training's were.
pub fn item_text(title: &str, genres: &[&str]) -> String {
    if genres.is_empty() { title.to_string() } else { format!("{title}. Genres: {}", genres.join(", ")) }
}

/// Items, scene names and genre names, with a lookup from item id to index.
///
/// The id lookup is the item indices sorted by id (4 bytes per item, searched by bisection)
/// rather than a hash map holding a second copy of every id: a million-item catalogue has to
/// fit a browser tab's wasm memory.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Catalog {
    pub scenes: Vec<String>,
    pub genres: Vec<String>,
    pub items: Vec<Item>,
    #[serde(skip)]
    by_id: Vec<u32>,
    #[serde(skip)]
    scene_index: HashMap<String, usize>,
}

/// The most cells (items × genres) of the dense genre input ([`Catalog::genre_matrix`]): 1 GiB
/// of f32, so a catalogue file cannot make the loader allocate far more than itself.
pub const MAX_GENRE_CELLS: usize = 1 << 28;

impl Catalog {
    pub fn new(scenes: Vec<String>, genres: Vec<String>, items: Vec<Item>) -> Result<Self> {
        let mut catalog = Catalog { scenes, genres, items, by_id: Vec::new(), scene_index: HashMap::new() };
        catalog.reindex()?;
        Ok(catalog)
    }

    /// Rebuilds the id and scene indices, and checks every reference is in range and every
    /// count within the model's [`LIMITS`].
    fn reindex(&mut self) -> Result<()> {
        let (items, scenes, genres) = (self.items.len(), self.scenes.len(), self.genres.len());
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
        by_id.sort_unstable_by(|&a, &b| self.items[a as usize].id.cmp(&self.items[b as usize].id));
        if let Some(pair) = by_id.windows(2).find(|p| self.items[p[0] as usize].id == self.items[p[1] as usize].id) {
            return Err(Error::Data(format!("item id `{}` appears twice in the catalogue", self.items[pair[0] as usize].id)));
        }
        self.by_id = by_id;
        for item in &self.items {
            if item.scene as usize >= self.scenes.len() {
                return Err(Error::Data(format!("item `{}` has scene {} of {}", item.id, item.scene, self.scenes.len())));
            }
            if let Some(g) = item.genres.iter().find(|&&g| g as usize >= self.genres.len()) {
                return Err(Error::Data(format!("item `{}` has genre {g} of {}", item.id, self.genres.len())));
            }
        }
        Ok(())
    }

    /// Appends items, checked as a loaded catalogue's are (unique ids, scenes and genres in
    /// range, within the limits). On an error the catalogue is unchanged.
    pub fn add(&mut self, items: Vec<Item>) -> Result<()> {
        let before = self.items.len();
        self.items.extend(items);
        let checked = self.reindex();
        if checked.is_err() {
            self.items.truncate(before);
            self.reindex().expect("the catalogue before the addition was valid");
        }
        checked
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn item_index(&self, id: &str) -> Option<usize> {
        let found = self.by_id.binary_search_by(|&i| self.items[i as usize].id.as_str().cmp(id));
        found.ok().map(|p| self.by_id[p] as usize)
    }

    pub fn scene_index(&self, name: &str) -> Option<usize> {
        self.scene_index.get(name).copied()
    }

    /// Catalogue as JSON (what `export` ships to the browser).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("catalogue serialises")
    }

    pub fn from_json(text: &str) -> Result<Self> {
        let mut catalog: Catalog =
            serde_json::from_str(text).map_err(|e| Error::Data(format!("catalogue JSON: {e}")))?;
        catalog.reindex()?;
        Ok(catalog)
    }

    /// Item-by-genre multi-hot rows, each normalised to sum 1 (row-major `[items, genres]`).
    pub fn genre_matrix(&self) -> Vec<f32> {
        let g = self.genres.len().max(1);
        let mut m = vec![0.0; self.items.len() * g];
        for (i, item) in self.items.iter().enumerate() {
            let w = 1.0 / item.genres.len().max(1) as f32;
            for &genre in &item.genres {
                m[i * g + genre as usize] = w;
            }
        }
        m
    }

    /// A stable fingerprint of the catalogue, stored in weights files so that weights are
    /// never paired with a catalogue they were not trained on.
    ///
    /// The JSON is hashed as it is written, never held whole (at a million items it is 66 MB).
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        serde_json::to_writer(&mut hasher, self).expect("catalogue serialises");
        hasher.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
    }
}
