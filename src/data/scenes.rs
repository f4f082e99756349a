//! Scene rules for logs that have no scenes of its own (`scenerec prepare --derive-scenes`):
//!
//! - `ml1m-genres`: MovieLens genre channels (below; also fits ML-100k, whose genres are the same).
//! - `first-category`: each item's first category (on Amazon-style logs, the top-level department).
//! - `single`: one scene for everything (a single-surface site).
//!
//! The MovieLens rule:
//! A site that shows movies in genre channels (tabs) shows each movie in one tab. We give each
//! movie the first channel in [`ML1M_SCENES`] that its genres include; the order runs from the
//! smallest channel to the largest, so small channels are not swallowed by Drama and Comedy.
//! Movies with none of these genres (Horror, Romance, Children's, Documentary, ...) go to
//! [`ML1M_OTHER`]. An interaction belongs to the scene of its movie's tab.

use super::atomic::{AtomicTable, FieldType};
use super::dataset::GENRE_COLUMNS;
use crate::{Error, Result};

/// The rules `derive_scenes` knows.
pub const RULES: [&str; 3] = ["ml1m-genres", "first-category", "single"];

/// The scene name of an item with no category under `first-category`, and of everything under
/// `single`.
pub const ALL: &str = "all";

/// A rule naming the scene of an `.item` row.
type SceneRule = dyn Fn(&[String]) -> String;

/// Adds a `scene:token` column to an `.item` table by the named rule (see the module docs). A
/// table that already has one is left as it is.
pub fn derive_scenes(items: &mut AtomicTable, rule: &str) -> Result<()> {
    if items.column(&["scene"]).is_some() {
        return Ok(());
    }
    let genres = || {
        items.require(GENRE_COLUMNS).map_err(|e| Error::Input(format!("--derive-scenes {rule} needs item categories: {e}")))
    };
    let scene: Box<SceneRule> = match rule {
        "ml1m-genres" => {
            let g = genres()?;
            Box::new(move |row| ml1m_scene(row[g].split_whitespace()).to_string())
        }
        "first-category" => {
            let g = genres()?;
            Box::new(move |row| row[g].split_whitespace().next().unwrap_or(ALL).to_string())
        }
        "single" => Box::new(|_| ALL.to_string()),
        other => return Err(Error::Input(format!("unknown scene rule `{other}` (known: {})", RULES.join(", ")))),
    };
    let scenes: Vec<String> = items.rows.iter().map(|row| scene(row)).collect();
    items.fields.push(("scene".to_string(), FieldType::Token));
    for (row, s) in items.rows.iter_mut().zip(scenes) {
        row.push(s);
    }
    Ok(())
}

/// Genre channels, in priority order.
pub const ML1M_SCENES: [&str; 5] = ["Sci-Fi", "Action", "Thriller", "Comedy", "Drama"];
/// The channel for everything else.
pub const ML1M_OTHER: &str = "Other";

/// The scene of a movie with the given genres.
pub fn ml1m_scene<'a>(genres: impl IntoIterator<Item = &'a str> + Clone) -> &'static str {
    ML1M_SCENES
        .iter()
        .find(|s| genres.clone().into_iter().any(|g| g == **s))
        .copied()
        .unwrap_or(ML1M_OTHER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rarest_channel_wins_and_rest_is_other() {
        assert_eq!(ml1m_scene(["Action", "Sci-Fi", "Drama"]), "Sci-Fi");
        assert_eq!(ml1m_scene(["Comedy", "Drama"]), "Comedy");
        assert_eq!(ml1m_scene(["Drama", "Thriller"]), "Thriller");
        assert_eq!(ml1m_scene(["Horror"]), "Other");
        assert_eq!(ml1m_scene(std::iter::empty()), "Other");
    }

    #[test]
    fn rules_add_a_scene_column() {
        let text = "item_id:token\tclass:token_seq\n1\tComedy Drama\n2\tHorror\n3\t\n";
        let scenes = |rule: &str| {
            let mut t = AtomicTable::parse(text, "x.item").unwrap();
            derive_scenes(&mut t, rule).unwrap();
            let c = t.column(&["scene"]).unwrap();
            t.rows.iter().map(|r| r[c].clone()).collect::<Vec<_>>()
        };
        assert_eq!(scenes("ml1m-genres"), ["Comedy", "Other", "Other"], "ML-100k names its genre column `class`");
        assert_eq!(scenes("first-category"), ["Comedy", "Horror", ALL]);
        assert_eq!(scenes("single"), [ALL, ALL, ALL]);
        let mut t = AtomicTable::parse(text, "x.item").unwrap();
        assert!(derive_scenes(&mut t, "nope").unwrap_err().to_string().contains("first-category"));
        let mut bare = AtomicTable::parse("item_id:token\n1\n", "x.item").unwrap();
        assert!(derive_scenes(&mut bare, "ml1m-genres").unwrap_err().to_string().contains("needs item categories"));
    }
}
