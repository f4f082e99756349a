//! The model on a small real slice: it learns, beats popularity, and its weights round-trip.

mod common;

use std::sync::OnceLock;

use burn::module::Module;
use scenerec::backend::{BackendKind, block_on, device};
use scenerec::eval::{Track, evaluate, model_ranker};
use scenerec::peers::popularity::popularity_ranker;
use scenerec::experiment::Prepared;
use scenerec::model::ItemFeatures;
use scenerec::train::{Silent, TrainConfig, Trained, fit};
use scenerec::store;

const USERS: usize = 600;

fn config() -> TrainConfig {
    TrainConfig { learning_rate: 3e-3, rerank: 50, ..common::small_config(6, 32, 30) }
}

/// One training run on the slice, shared by the tests of this file.
fn trained() -> &'static (Prepared, Trained) {
    static RUN: OnceLock<(Prepared, Trained)> = OnceLock::new();
    RUN.get_or_init(|| {
        let p = common::slice(USERS);
        let known = vec![true; p.data.catalog.len()];
        let dev = device(BackendKind::Flex, 1).unwrap();
        let t = fit(&config(), &p.train_input(&known), &dev, None, &mut Silent).unwrap();
        (p, t)
    })
}

fn features(p: &Prepared) -> ItemFeatures {
    let known = vec![true; p.data.catalog.len()];
    p.features(&known, &device(BackendKind::Flex, 1).unwrap()).unwrap()
}

#[test]
fn training_lowers_the_loss_and_beats_popularity() {
    let (p, t) = trained();
    let first = &t.reports[0];
    let last = t.reports.last().unwrap();
    assert!(last.loss < first.loss * 0.95, "loss {} -> {}", first.loss, last.loss);
    let setup = p.eval_setup();
    let queries = Track::Agnostic.queries(&p.split.test, &p.data.histories);
    let pop = evaluate(&setup, &queries, &mut popularity_ranker(&p.item_users)).unwrap();
    let feats = features(p);
    let mut ranker = model_ranker(&t.model, &t.config, &feats, &p.data.histories);
    let model = evaluate(&setup, &queries, &mut ranker).unwrap();
    assert_eq!(model.queries, USERS);
    assert!(
        model.ndcg10() > pop.ndcg10() && model.overall["hr@10"] > pop.overall["hr@10"],
        "model NDCG@10 {:.4} HR@10 {:.4} vs popularity {:.4} {:.4}",
        model.ndcg10(),
        model.overall["hr@10"],
        pop.ndcg10(),
        pop.overall["hr@10"]
    );
    assert!(model.overall["auc"] > 0.8);
    assert_eq!(model.per_scene.len(), p.data.catalog.scenes.len());
}

#[test]
fn short_passes_are_chained_into_epochs_of_min_epoch_steps() {
    let p = common::slice(100);
    let known = vec![true; p.data.catalog.len()];
    let dev = device(BackendKind::Flex, 1).unwrap();
    let one_pass = TrainConfig { valid_users: 20, ..common::small_config(1, 16, 20) };
    let pass = fit(&one_pass, &p.train_input(&known), &dev, None, &mut Silent).unwrap().reports[0].clone();
    // One step more than a pass: the epoch takes a second, freshly shuffled pass, whole.
    let chained = TrainConfig { min_epoch_steps: pass.steps + 1, ..one_pass };
    let epoch = fit(&chained, &p.train_input(&known), &dev, None, &mut Silent).unwrap().reports[0].clone();
    assert_eq!((epoch.steps, epoch.samples), (2 * pass.steps, 2 * pass.samples), "{pass:?} then {epoch:?}");
}

#[test]
fn saved_weights_load_to_identical_scores() {
    let (p, t) = trained();
    let fp = p.data.catalog.fingerprint();
    let bytes = block_on(store::save(&t.model, &t.config, fp, "test")).unwrap();
    let (_, payload) = store::read_header(&bytes).unwrap();
    let burns_own = t.model.clone().into_record().into_bytes().unwrap();
    assert!(payload == &burns_own[..], "the payload is burn's own record format");
    let dev = device(BackendKind::Flex, 99).unwrap();
    let (loaded, header) = store::load(&bytes, &dev, Some((&t.config, fp))).unwrap();
    assert_eq!(header.model, t.config);
    let feats = features(p);
    let queries = Track::InScene.queries(&p.split.test[..64], &p.data.histories);
    let setup = p.eval_setup();
    let a = evaluate(&setup, &queries, &mut model_ranker(&t.model, &t.config, &feats, &p.data.histories)).unwrap();
    let b = evaluate(&setup, &queries, &mut model_ranker(&loaded, &t.config, &feats, &p.data.histories)).unwrap();
    assert_eq!(a, b);
    assert_eq!(block_on(store::save(&loaded, &t.config, fp, "test")).unwrap(), bytes, "re-saving gives the same bytes");
}

#[test]
fn bad_weights_files_are_errors_not_panics() {
    let (p, t) = trained();
    let fp = p.data.catalog.fingerprint();
    let bytes = block_on(store::save(&t.model, &t.config, fp, "test")).unwrap();
    let dev = device(BackendKind::Flex, 1).unwrap();
    let err = |b: &[u8]| store::load(b, &dev, Some((&t.config, fp))).expect_err("must fail").to_string();

    assert!(err(&bytes[..bytes.len() / 2]).contains("truncated"), "{}", err(&bytes[..bytes.len() / 2]));
    assert!(err(&bytes[..10]).contains("truncated"));
    assert!(err(&[]).contains("truncated"));
    assert!(err(b"PK\x03\x04 this is a zip file, not weights").contains("not a scenerec weights file"));
    let mut v1 = bytes.clone();
    v1[8] = 1;
    assert!(err(&v1).contains("format version 1 is not supported"), "{}", err(&v1));
    let mut flipped = bytes.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0xff;
    assert!(err(&flipped).contains("corrupted"));
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(err(&longer).contains("unexpected bytes"));

    let mut other_shape = t.config.clone();
    other_shape.n_items += 1;
    let e = store::load(&bytes, &dev, Some((&other_shape, fp))).err().unwrap().to_string();
    assert!(e.contains("shape mismatch"), "{e}");
    let e = store::load(&bytes, &dev, Some((&t.config, "0123456789abcdef"))).err().unwrap().to_string();
    assert!(e.contains("belong to catalogue"), "{e}");
}

#[test]
fn last_states_equal_the_full_encoders_last_position() {
    let (p, t) = trained();
    let dev = device(BackendKind::Flex, 1).unwrap();
    let model = &t.model; // an inference model: dropout is off
    let table = model.item_table(&features(p), None);
    // Real windows of different lengths, so padding and truncation are both exercised.
    let long = p.data.histories.iter().filter(|h| h.len() >= 100);
    let windows: Vec<&[scenerec::data::Event]> = long.take(6).enumerate().map(|(i, h)| &h[..5 + i * 17]).collect();
    let batch = scenerec::data::batch::history_batch(&windows, p.data.catalog.len(), t.config.max_len, &dev);
    let [b, l] = batch.dims();
    let full = model.states(&table, &batch).slice([0..b, l - 1..l]).reshape([b, t.config.dim]);
    let full: Vec<f32> = full.into_data().convert::<f32>().try_into_vec().unwrap();
    let last: Vec<f32> = model.last_states(&table, &batch).into_data().convert::<f32>().try_into_vec().unwrap();
    let worst = common::largest_difference(&full, &last);
    assert!(worst < 1e-4, "largest difference {worst}");
}

#[test]
fn grouped_fusion_equals_the_row_wise_head() {
    use burn::tensor::{Int, Tensor, TensorData};
    let (p, t) = trained();
    let dev = device(BackendKind::Flex, 1).unwrap();
    let model = &t.model;
    let table = model.item_table(&features(p), None);
    let dim = t.config.dim;
    // Three real users' interest vectors in different scenes, 7 candidates each.
    let windows: Vec<&[scenerec::data::Event]> = p.data.histories.iter().take(3).map(|h| &h[..20]).collect();
    let batch = scenerec::data::batch::history_batch(&windows, p.data.catalog.len(), t.config.max_len, &dev);
    let scenes: Vec<i64> = (0..3).map(|q| (q % p.data.catalog.scenes.len()) as i64).collect();
    let int = |v: Vec<i64>| {
        let n = v.len();
        Tensor::<1, Int>::from_data(TensorData::new(v, [n]), &dev)
    };
    let users = model.user_vectors(&table, &batch, int(scenes.clone()));
    let (b, r) = (3, 7);
    let items: Vec<i64> = (0..b * r).map(|k| (k * 37 % p.data.catalog.len()) as i64).collect();
    let rows: Vec<i64> = (0..b * r).map(|k| (k / r) as i64).collect();
    let row_scenes: Vec<i64> = rows.iter().map(|&q| scenes[q as usize]).collect();
    let candidates = table.vectors.clone().select(0, int(items.clone()));
    let grouped = model.fuse_candidates(users.clone(), candidates.clone().reshape([b, r, dim]), int(scenes));
    let row_wise = model.fuse(users.select(0, int(rows)), candidates, int(row_scenes));
    let grouped: Vec<f32> = grouped.into_data().convert::<f32>().try_into_vec().unwrap();
    let row_wise: Vec<f32> = row_wise.into_data().convert::<f32>().try_into_vec().unwrap();
    assert_eq!(grouped.len(), b * r);
    let worst = common::largest_difference(&grouped, &row_wise);
    assert!(worst < 1e-4, "largest difference {worst}");
}

#[test]
fn event_dropout_hides_an_events_scene_action_and_gap_but_not_its_item() {
    use burn::tensor::{Tensor, TensorData};
    let (p, t) = trained();
    let dev = device(BackendKind::Flex, 1).unwrap();
    let model = &t.model;
    let table = model.item_table(&features(p), None);
    let n = p.data.catalog.len();
    let windows: Vec<Vec<scenerec::data::Event>> = p.data.histories.iter().take(4).map(|h| h[..12].to_vec()).collect();
    // The same events seen in another scene, hours apart.
    let n_scenes = p.data.catalog.scenes.len() as u16;
    let moved: Vec<Vec<scenerec::data::Event>> = windows
        .iter()
        .map(|w| {
            w.iter()
                .enumerate()
                .map(|(k, e)| scenerec::data::Event { scene: (e.scene + 1) % n_scenes, time: e.time + 3600 * k as i64, ..*e })
                .collect()
        })
        .collect();
    let states = |ws: &[Vec<scenerec::data::Event>], hide: Option<Vec<f32>>| {
        let refs: Vec<&[scenerec::data::Event]> = ws.iter().map(|w| w.as_slice()).collect();
        let mut batch = scenerec::data::batch::history_batch(&refs, n, t.config.max_len, &dev);
        let [b, l] = batch.dims();
        batch.side_keep = hide.map(|keep| Tensor::from_data(TensorData::new(keep, [b, l, 1]), &dev));
        let s: Vec<f32> = model.states(&table, &batch).into_data().convert::<f32>().try_into_vec().unwrap();
        s
    };
    let hidden = vec![0.0; 4 * 12];
    assert!(common::largest_difference(&states(&windows, None), &states(&moved, None)) > 1e-3, "scenes and gaps are read");
    assert!(common::largest_difference(&states(&windows, Some(hidden.clone())), &states(&moved, Some(hidden))) < 1e-5, "hidden ones are not");
    let shown = vec![1.0; 4 * 12];
    assert!(common::largest_difference(&states(&windows, Some(shown)), &states(&windows, None)) < 1e-6, "a keep of 1 is no dropout");
}

#[test]
fn a_query_time_model_reads_the_time_to_the_request_and_others_ignore_it() {
    use burn::tensor::{Int, Tensor, TensorData};
    use scenerec::data::Event;
    use scenerec::data::batch::{history_batch, query_gap};
    use scenerec::model::{ModelConfig, SceneRec};
    let p = common::slice(200);
    let dev = device(BackendKind::Flex, 1).unwrap();
    let mut cfg = common::small_config(2, 16, 20);
    cfg.model.query_time = true;
    let known = vec![true; p.data.catalog.len()];
    let timed = fit(&cfg, &p.train_input(&known), &dev, None, &mut Silent).unwrap();
    let feats = features(&p);
    let windows: Vec<&[Event]> = p.data.histories.iter().take(8).map(|h| &h[..12]).collect();
    let b = windows.len();
    // Interest vectors ("any scene") with the request `after` seconds past each window's last
    // event (`None`: time unknown).
    let vectors = |model: &SceneRec, config: &ModelConfig, after: Option<i64>| -> Vec<f32> {
        let table = model.item_table(&feats, None);
        let mut batch = history_batch(&windows, table.len(), config.max_len, &dev);
        batch.query_gaps = after.map(|a| {
            let gaps: Vec<i64> = windows.iter().map(|w| query_gap(w, w[w.len() - 1].time + a)).collect();
            Tensor::from_data(TensorData::new(gaps, [b]), &dev)
        });
        let any = Tensor::<1, Int>::from_data(TensorData::new(vec![config.any_scene() as i64; b], [b]), &dev);
        model.user_vectors(&table, &batch, any).into_data().convert::<f32>().try_into_vec().unwrap()
    };
    let (soon, later) = (vectors(&timed.model, &timed.config, Some(60)), vectors(&timed.model, &timed.config, Some(90 * 24 * 3600)));
    assert!(common::largest_difference(&soon, &later) > 1e-3, "a minute later and three months later read differently");
    let unknown = vectors(&timed.model, &timed.config, None);
    let same_instant: Vec<i64> = windows.iter().map(|w| query_gap(w, w[w.len() - 1].time)).collect();
    assert!(same_instant.iter().all(|&g| g > 0), "a known time is never the unknown bucket");
    assert!(common::largest_difference(&unknown, &soon) > 1e-4, "unknown is a bucket of its own");

    // The time is in the weights file and loads back.
    let fp = p.data.catalog.fingerprint();
    let bytes = block_on(store::save(&timed.model, &timed.config, fp, "test")).unwrap();
    let (loaded, header) = store::load(&bytes, &dev, Some((&timed.config, fp))).unwrap();
    assert!(header.model.query_time);
    assert_eq!(vectors(&loaded, &header.model, Some(60)), soon);

    // The ranking API passes the request's time on, as the browser's `now`.
    use scenerec::recommender::{Export, HistoryEvent, Recommender};
    use scenerec::vectors::Encoding;
    let export = block_on(Export::new(&timed.model, &timed.config, &p.data.catalog, &p.lm, ("test", Encoding::DEFAULT), &dev)).unwrap();
    let rec = block_on(Recommender::load(&export.weights, None, p.data.catalog.to_bin(), export.vectors, &dev)).unwrap();
    let history: Vec<HistoryEvent> = windows[0].iter().map(|e| HistoryEvent::from_event(e, &p.data.catalog)).collect();
    let (last, ids) = (history[history.len() - 1].time, [p.data.catalog.id(0).to_string(), p.data.catalog.id(1).to_string()]);
    let score = |now: Option<f64>| block_on(rec.score(&history, None, &ids, now)).unwrap();
    assert!(common::largest_difference(&score(Some(last + 60.0)), &score(Some(last + 90.0 * 24.0 * 3600.0))) > 1e-4);
    assert!(common::largest_difference(&score(Some(last + 60.0)), &score(None)) > 1e-5, "no time is the unknown bucket");
    let top = |now: Option<f64>| block_on(rec.recommend(&history, None, 5, &[], now));
    assert_eq!(top(Some(last + 60.0)).unwrap().len(), 5);
    let refused = top(Some(f64::NAN)).unwrap_err().to_string();
    assert!(refused.contains("now is NaN"), "{refused}");

    // A model without it ranks the same whenever it is asked.
    let (_, plain) = trained();
    assert!(!plain.config.query_time);
    assert_eq!(vectors(&plain.model, &plain.config, Some(60)), vectors(&plain.model, &plain.config, Some(90 * 24 * 3600)));
    assert_eq!(vectors(&plain.model, &plain.config, Some(60)), vectors(&plain.model, &plain.config, None));
}
