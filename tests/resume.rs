//! Training is seeded and resumable: an interrupted run continued with `--resume` ends exactly
//! where an uninterrupted run does.

mod common;

use scenerec::backend::{BackendKind, device};
use scenerec::train::checkpoint::Checkpoint;
use scenerec::train::{Silent, TrainConfig, fit};

fn config(epochs: usize) -> TrainConfig {
    TrainConfig { valid_users: 100, patience: 10, ..common::small_config(epochs, 16, 20) }
}

#[test]
fn resumed_run_matches_uninterrupted_run() {
    let p = common::slice(150);
    let known = vec![true; p.data.catalog.len()];
    let input = p.train_input(&known);
    let dev = device(BackendKind::Flex, 3).unwrap();
    let straight = fit(&config(3), &input, &dev, None, &mut Silent).unwrap();

    let dir = std::env::temp_dir().join(format!("scenerec-resume-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let ck = Checkpoint::new(&dir).unwrap();
    let first = fit(&config(2), &input, &dev, Some(&ck), &mut Silent).unwrap();
    assert_eq!(first.reports.len(), 2);
    assert!(ck.exists() && ck.best_path().exists());
    let resumed = fit(&config(3), &input, &dev, Some(&ck), &mut Silent).unwrap();
    assert_eq!(resumed.reports.len(), 3, "the resumed run only adds the missing epoch");
    // Each epoch keeps the peak memory measured when it ran, so a resumed run reports training's
    // memory, not its own.
    assert!(resumed.reports.iter().all(|r| r.peak_rss_mb.is_some_and(|mb| mb > 1.0)), "{:?}", resumed.reports);
    assert!(resumed.reports[..2].iter().zip(&first.reports).all(|(r, f)| r.peak_rss_mb == f.peak_rss_mb));
    // Equal up to the last bits: the flex backend's parallel reductions (rayon, whose splitting
    // follows work stealing) may add in another order when the machine is busy.
    for (r, s) in resumed.reports.iter().zip(&straight.reports) {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs());
        assert!(close(r.loss, s.loss) && close(r.valid_ndcg10, s.valid_ndcg10), "epoch {}: {r:?} vs {s:?}", r.epoch);
    }

    // The stopping rule may change on resume (to extend a run); nothing else may.
    let wider = TrainConfig { stop_window: 5, patience: 2, ..config(3) };
    let same = fit(&wider, &input, &dev, Some(&ck), &mut Silent).unwrap();
    assert_eq!((same.reports.len(), same.best_epoch), (3, resumed.best_epoch), "three epochs were done: nothing to add");

    let mut other = config(3);
    other.learning_rate *= 2.0;
    let err = fit(&other, &input, &dev, Some(&ck), &mut Silent).err().unwrap().to_string();
    assert!(err.contains("different config"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
