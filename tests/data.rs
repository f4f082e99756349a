//! The loader and protocol on the real ML-1M files and on user-brought logs.

mod common;

use scenerec::data::atomic::AtomicTable;
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
    assert!(d.histories.iter().flatten().all(|e| d.catalog.items[e.item as usize].scene == e.scene));
    let toy = d.catalog.item_index("Toy Story (1995)").unwrap();
    assert_eq!(d.catalog.scenes[d.catalog.items[toy].scene as usize], "Comedy");
    assert_eq!(d.catalog.items[toy].title, "Toy Story (1995)");
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
    assert_eq!(d.catalog.items[0].text(&d.catalog), "Alpha. Genres: x, y");
}

#[test]
fn bad_logs_are_rejected_with_where_and_why() {
    let items = AtomicTable::parse("item_id:token\na\n", "shop.item").unwrap();
    let unknown = AtomicTable::parse("user_id:token\titem_id:token\ttimestamp:float\tscene:token\nu\ta\t1\ts\nu\tzzz\t2\ts\n", "shop.inter").unwrap();
    let err = Dataset::from_tables(&items, &unknown).unwrap_err().to_string();
    assert_eq!(err, "shop.inter:3: item `zzz` is not in shop.item");
    let no_scene = AtomicTable::parse("user_id:token\titem_id:token\ttimestamp:float\nu\ta\t1\n", "shop.inter").unwrap();
    let err = Dataset::from_tables(&items, &no_scene).unwrap_err().to_string();
    assert!(err.contains("no scene column"), "{err}");
    let no_time = AtomicTable::parse("user_id:token\titem_id:token\tscene:token\nu\ta\ts\n", "shop.inter").unwrap();
    let err = Dataset::from_tables(&items, &no_time).unwrap_err().to_string();
    assert!(err.contains("shop.inter:1: missing column") && err.contains("timestamp"), "{err}");
    let dir = std::env::temp_dir().join(format!("scenerec-missing-{}", std::process::id()));
    assert!(Dataset::load(&dir).unwrap_err().to_string().contains("No such file"));
}
