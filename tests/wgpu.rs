//! The same model on burn's wgpu backend (natively: Vulkan, on this GPU-less machine Mesa's
//! lavapipe): weights trained on flex rank identically (within float tolerance) on wgpu, and
//! training on wgpu lowers the loss. Needs the `wgpu` feature (on by default natively).

#![cfg(feature = "wgpu")]

mod common;

use scenerec::backend::{BackendKind, block_on, device};
use scenerec::eval::{Track, model_ranker};
use scenerec::train::{Silent, TrainConfig, fit};
use scenerec::store;

fn config(epochs: usize) -> TrainConfig {
    TrainConfig { valid_users: 50, ..common::small_config(epochs, 16, 10) }
}

#[test]
fn flex_weights_rank_the_same_on_wgpu() {
    let p = common::slice(120);
    let known = vec![true; p.data.catalog.len()];
    let flex = device(BackendKind::Flex, 5).unwrap();
    let trained = fit(&config(1), &p.train_input(&known), &flex, None, &mut Silent).unwrap();
    let fp = p.data.catalog.fingerprint();
    let bytes = block_on(store::save(&trained.model, &trained.config, fp, "test")).unwrap();

    let gpu = device(BackendKind::Wgpu, 5).unwrap();
    let (on_gpu, _) = store::load(&bytes, &gpu, Some((&trained.config, fp))).unwrap();
    assert_eq!(block_on(store::save(&on_gpu, &trained.config, fp, "test")).unwrap(), bytes, "weights saved from the GPU exactly");
    // Both kinds of query: "any scene" and a scene's own.
    let mut queries = Track::Agnostic.queries(&p.split.test[..8], &p.data.histories);
    queries.extend(Track::InScene.queries(&p.split.test[8..16], &p.data.histories));
    let no_exclusions = |_: usize, _: usize| false;
    let rank = |model, dev| {
        let feats = p.features(&known, dev).unwrap();
        let mut ranker = model_ranker(model, &trained.config, &feats, &p.data.histories);
        ranker(&queries, &no_exclusions).unwrap()
    };
    let a = rank(&trained.model, &flex);
    let b = rank(&on_gpu, &gpu);
    for (x, y) in a.iter().zip(&b) {
        let worst = common::largest_difference(&x.scores, &y.scores);
        assert!(worst < 1e-3, "retrieval scores differ by {worst}");
        for ((i, s), (j, t)) in x.head.iter().zip(&y.head) {
            assert!((s - t).abs() < 1e-3, "fusion scores {s} vs {t}");
            assert!(i == j || (s - t).abs() < 1e-3);
        }
    }
}

#[test]
fn training_on_wgpu_lowers_the_loss() {
    let p = common::slice(60);
    let known = vec![true; p.data.catalog.len()];
    let gpu = device(BackendKind::Wgpu, 9).unwrap();
    let t = fit(&config(3), &p.train_input(&known), &gpu, None, &mut Silent).unwrap();
    assert!(t.reports[2].loss < t.reports[0].loss, "{:?}", t.reports);
}
