//! The scene rule for MovieLens-1M, which has no scenes of its own.
//!
//! A site that shows movies in genre channels (tabs) shows each movie in one tab. We give each
//! movie the first channel in [`ML1M_SCENES`] that its genres include; the order runs from the
//! smallest channel to the largest, so small channels are not swallowed by Drama and Comedy.
//! Movies with none of these genres (Horror, Romance, Children's, Documentary, ...) go to
//! [`ML1M_OTHER`]. An interaction belongs to the scene of its movie's tab.

use super::atomic::{AtomicTable, FieldType};
use crate::Result;

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

/// Adds a `scene:token` column to an ML-1M `.item` table by [`ml1m_scene`].
pub fn add_ml1m_scenes(items: &mut AtomicTable) -> Result<()> {
    let genre = items.require(&["genre"])?;
    if items.column(&["scene"]).is_some() {
        return Ok(());
    }
    items.fields.push(("scene".to_string(), FieldType::Token));
    for row in &mut items.rows {
        let scene = ml1m_scene(row[genre].split_whitespace());
        row.push(scene.to_string());
    }
    Ok(())
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
}
