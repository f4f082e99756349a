//! The three evaluation tracks. A scene tells which tab the user is in, and on a catalogue
//! split into tabs it names the part of the catalogue that holds the answer, so every model is
//! measured under the same rule in each track:
//!
//! - [`Track::Agnostic`]: no scene is given; every model ranks the whole catalogue (minus the
//!   user's history). Comparable with published single-domain results.
//! - [`Track::InScene`]: the user is on the target's tab; every model ranks only the items of
//!   that scene (what the browser's `recommend` does for a scene).
//! - [`Track::LastScene`]: the tab is the scene of the user's last event (the tab is known but
//!   need not be the target's); every model ranks that scene's items, and a target outside
//!   it is a miss.
//!
//! On a catalogue whose scenes are surfaces ([`crate::data::SceneKind`]) a scene ranks every
//! item, so the tracks differ only in the scene the models are told.

use serde::{Deserialize, Serialize};

use crate::data::Event;
use crate::data::protocol::Case;
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Track {
    Agnostic,
    InScene,
    LastScene,
}

impl Track {
    pub const ALL: [Track; 3] = [Track::Agnostic, Track::InScene, Track::LastScene];

    /// The command-line name (`agnostic`, `in-scene`, `last-scene`).
    pub fn name(self) -> &'static str {
        match self {
            Track::Agnostic => "agnostic",
            Track::InScene => "in-scene",
            Track::LastScene => "last-scene",
        }
    }

    /// The key in results files (`agnostic`, `in_scene`, `last_scene`).
    pub fn key(self) -> &'static str {
        match self {
            Track::Agnostic => "agnostic",
            Track::InScene => "in_scene",
            Track::LastScene => "last_scene",
        }
    }

    pub fn parse(name: &str) -> Result<Self> {
        Track::ALL
            .into_iter()
            .find(|t| t.name() == name || t.key() == name)
            .ok_or_else(|| Error::Input(format!("unknown track `{name}` (agnostic, in-scene or last-scene)")))
    }

    /// The tab this track gives for `case`: `None` (no scene), the target's scene, or the
    /// scene of the last event before it.
    pub fn tab(self, case: &Case, histories: &[Vec<Event>]) -> Option<u16> {
        match self {
            Track::Agnostic => None,
            Track::InScene => Some(case.target.scene),
            Track::LastScene => histories[case.user][..case.history_len].last().map(|e| e.scene),
        }
    }

    /// The queries of `cases` under this track.
    pub fn queries(self, cases: &[Case], histories: &[Vec<Event>]) -> Vec<Query> {
        cases.iter().map(|c| Query { case: *c, tab: self.tab(c, histories) }).collect()
    }
}

/// One ranking query of a track: a case and the tab the user is in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Query {
    pub case: Case,
    /// The scene the user is on, which models may read and whose items ([`Catalog::in_scene`])
    /// are ranked; `None`: the whole catalogue, and no model is told a scene.
    ///
    /// [`Catalog::in_scene`]: crate::data::Catalog::in_scene
    pub tab: Option<u16>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Action;

    #[test]
    fn each_track_gives_its_tab() {
        let ev = |item, scene| Event { item, scene, action: Action::Like, time: 0, rating: None };
        let histories = vec![vec![ev(0, 2), ev(1, 1), ev(2, 0)]];
        let case = Case { user: 0, history_len: 2, target: ev(2, 0) };
        assert_eq!(Track::Agnostic.tab(&case, &histories), None);
        assert_eq!(Track::InScene.tab(&case, &histories), Some(0));
        assert_eq!(Track::LastScene.tab(&case, &histories), Some(1), "the last event before the target");
        for t in Track::ALL {
            assert_eq!(Track::parse(t.name()).unwrap(), t);
            assert_eq!(Track::parse(t.key()).unwrap(), t);
        }
        assert!(Track::parse("target").unwrap_err().to_string().contains("agnostic, in-scene or last-scene"));
    }
}
