//! Hostile model files and careless inputs: each case a file or call that once panicked,
//! aborted or answered nonsense, and must now be an error naming what is wrong. Files are
//! crafted the way an attacker would: edited and then re-signed, so the checksum holds.

use burn::tensor::DType;
use scenerec::backend::{BackendKind, block_on, device};
use scenerec::data::{Catalog, Item};
use scenerec::fuzz::mutate::{PlainTensor, with_tensors};
use scenerec::model::{ModelConfig, SceneRec};
use scenerec::recommender::{Export, HistoryEvent, NewItem, Recommender};
use scenerec::store;
use scenerec::vectors::{Encoding, VECTORS};

const LM: usize = 8;

fn catalog(scenes: usize) -> Catalog {
    let items = (0..12)
        .map(|i| Item { id: format!("item{i}"), title: format!("Item {i}"), genres: vec![(i % 3) as u16], scene: (i % scenes.min(3)) as u16 })
        .collect();
    let names = (0..scenes).map(|s| format!("S{s}")).collect();
    Catalog::new(names, vec!["a".into(), "b".into(), "c".into()], items).unwrap()
}

fn config(c: &Catalog) -> ModelConfig {
    ModelConfig { lm_dim: LM, dim: 8, heads: 2, head_hidden: 8, max_len: 6, rerank: 0, ..ModelConfig::default() }.for_catalog(c)
}

/// The export of a small untrained model: weights, `catalog.bin` and item vectors.
fn files() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let c = catalog(3);
    let cfg = config(&c);
    let dev = device(BackendKind::Flex, 3).unwrap();
    let model = SceneRec::new(&cfg, &dev).unwrap();
    let export = block_on(Export::new(&model, &cfg, &c, &text(c.len()), ("test", Encoding::Int8), &dev)).unwrap();
    (export.weights, c.to_bin(), export.vectors)
}

/// Text embeddings for `items` items.
fn text(items: usize) -> Vec<f32> {
    (0..items * LM).map(|i| (i % 7) as f32 / 7.0).collect()
}

fn load(weights: &[u8], catalog: &[u8], vectors: &[u8]) -> Result<Recommender, String> {
    block_on(Recommender::load(weights, None, catalog.to_vec(), vectors.to_vec(), &device(BackendKind::Flex, 1).unwrap())).map_err(|e| e.to_string())
}

/// Splits a file into (header JSON, payload), as the format lays them out.
fn parts(bytes: &[u8]) -> (serde_json::Value, Vec<u8>) {
    let (header, payload) = store::unframe(bytes).unwrap();
    (serde_json::from_slice(header).unwrap(), payload.to_vec())
}

/// A file from a header and payload, signed with a correct checksum.
fn signed(header: serde_json::Value, payload: &[u8]) -> Vec<u8> {
    store::frame(&serde_json::to_vec(&header).unwrap(), payload)
}

/// The file with its header edited and re-signed.
fn edit_header(bytes: &[u8], edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let (mut header, payload) = parts(bytes);
    edit(&mut header);
    signed(header, &payload)
}

/// The file with its tensors edited (name, dtype, shape, bytes) and re-signed.
fn edit_tensors(bytes: &[u8], edit: impl FnOnce(&mut Vec<PlainTensor>)) -> Vec<u8> {
    let (mut header, payload) = parts(bytes);
    let payload = with_tensors(&payload, edit).unwrap();
    header["payload_len"] = payload.len().into();
    signed(header, &payload)
}

#[test]
fn a_valid_file_loads_and_ranks() {
    let (w, c, t) = files();
    let rec = load(&w, &c, &t).unwrap();
    let history = vec![HistoryEvent { item_id: "item1".into(), scene: "S1".into(), action: None, time: 0.0 }];
    assert_eq!(block_on(rec.recommend(&history, None, 5, &[], None)).unwrap().len(), 5);
    assert_eq!(load(&edit_tensors(&w, |_| {}), &c, &t).map(|_| ()), Ok(()), "re-encoding alone changes nothing");
}

#[test]
fn the_checksum_covers_the_header() {
    let (w, c, t) = files();
    let mut bytes = w.clone();
    let at = w.windows(9).position(|s| s == b"\"heads\":2").unwrap() + "\"heads\":".len();
    bytes[at] = b'4';
    let e = load(&bytes, &c, &t).err().unwrap();
    assert!(e.contains("corrupted"), "{e}");
}

#[test]
fn tensors_of_another_dtype_are_refused_not_handed_to_burn() {
    let (w, c, t) = files();
    for dtype in [DType::I32, DType::F64, DType::F16, DType::BF16, DType::U8] {
        let bytes = edit_tensors(&w, |ts| {
            let (_, d, shape, b) = &mut ts[0];
            *d = dtype;
            let n: usize = shape.iter().product();
            b.resize(n * dtype.size(), 0);
        });
        let e = load(&bytes, &c, &t).err().unwrap();
        assert!(e.contains("not f32"), "{dtype:?}: {e}");
    }
}

#[test]
fn wrong_shapes_lengths_names_and_missing_tensors_are_refused() {
    let (w, c, t) = files();
    let reshaped = edit_tensors(&w, |ts| {
        let shape = &mut ts[0].2;
        shape.reverse();
        shape.push(1);
    });
    assert!(load(&reshaped, &c, &t).err().unwrap().contains("has shape"));
    let renamed = edit_tensors(&w, |ts| ts[0].0 = "planted.weight".into());
    assert!(load(&renamed, &c, &t).err().unwrap().contains("is not a parameter"));
    let dropped = edit_tensors(&w, |ts| {
        ts.pop();
    });
    assert!(load(&dropped, &c, &t).err().unwrap().contains("is missing"));
}

#[test]
fn non_finite_or_huge_weights_are_refused() {
    let (w, c, t) = files();
    for bad in [f32::NAN, f32::INFINITY, 1e38, -2e4] {
        let bytes = edit_tensors(&w, |ts| {
            let b = &mut ts.last_mut().unwrap().3;
            b[..4].copy_from_slice(&bad.to_le_bytes());
        });
        let e = load(&bytes, &c, &t).err().unwrap();
        assert!(e.contains("must be finite and within"), "{bad}: {e}");
    }
}

#[test]
fn configs_beyond_the_limits_are_refused_before_anything_is_built() {
    let (w, c, t) = files();
    for (key, value) in [("layers", 1_000_000u64), ("dim", 1 << 40), ("max_len", u64::MAX), ("lm_dim", 11_352_751_235_885_289_211)] {
        let bytes = edit_header(&w, |h| h["model"][key] = value.into());
        let e = load(&bytes, &c, &t).err().unwrap();
        assert!(e.contains("at most") || e.contains("shape mismatch"), "{key} = {value}: {e}");
    }
    let huge_payload = edit_header(&w, |h| h["payload_len"] = u64::MAX.into());
    assert!(store::read_header(&huge_payload).is_err());
}

#[test]
fn item_vectors_must_fit_the_weights_and_the_catalogue_and_hold_sane_scales() {
    let (w, c, v) = files();
    // Re-signed edits, as an attacker would make them.
    let edit = |edit: &dyn Fn(&mut serde_json::Value, &mut Vec<u8>)| {
        let (header, payload) = store::unframe(&v).unwrap();
        let (mut header, mut payload): (serde_json::Value, Vec<u8>) = (serde_json::from_slice(header).unwrap(), payload.to_vec());
        edit(&mut header, &mut payload);
        store::frame_as(&VECTORS, &serde_json::to_vec(&header).unwrap(), &payload)
    };
    let wider = edit(&|h, p| {
        p.extend(vec![0; 12 * 8]);
        h["dim"] = 16.into();
        h["payload_len"] = p.len().into();
    });
    assert!(load(&w, &c, &wider).err().unwrap().contains("width 16; the catalogue has 12 items and the model width 8"));
    let other = edit(&|h, _| h["catalog"] = "0123456789abcdef".into());
    assert!(load(&w, &c, &other).err().unwrap().contains("belong to catalogue 0123456789abcdef"));
    let encoding = edit(&|h, _| h["encoding"] = "pq-16".into());
    assert!(load(&w, &c, &encoding).err().unwrap().contains("encoding `pq-16` is not supported"));
    for bad in [f32::NAN, -1.0, 1e30] {
        let planted = edit(&|_, p| p[4..8].copy_from_slice(&bad.to_le_bytes()));
        let e = load(&w, &c, &planted).err().unwrap();
        assert!(e.contains("row 1 has scale"), "{bad}: {e}");
    }
    let short = edit(&|h, p| {
        p.truncate(p.len() - 1);
        h["payload_len"] = p.len().into();
    });
    assert!(load(&w, &c, &short).err().unwrap().contains("bytes of payload"));
    // A weights file that claims to lack the ID table must lack it, and the reverse.
    let no_ids = edit_header(&w, |h| h["item_ids"] = true.into());
    assert!(load(&no_ids, &c, &v).err().unwrap().contains("`items.id.weight` is missing"));
}

#[test]
fn huge_or_non_finite_text_embeddings_of_new_items_are_refused() {
    let (w, c, v) = files();
    let mut rec = load(&w, &c, &v).unwrap();
    let item = NewItem { id: "new".into(), title: None, scene: "S1".into(), genres: vec!["b".into()] };
    for bad in [f32::NAN, 1e30] {
        let mut t = text(1);
        t[2] = bad;
        let e = block_on(rec.add_items(std::slice::from_ref(&item), &t)).err().unwrap().to_string();
        assert!(e.contains("item 0 holds"), "{bad}: {e}");
    }
    block_on(rec.add_items(&[item], &text(1))).unwrap();
    assert_eq!(rec.catalog().len(), 13);
}

#[test]
fn catalogues_beyond_the_index_types_are_refused() {
    let mut json: serde_json::Value = serde_json::from_str(&catalog(3).to_json()).unwrap();
    json["scenes"] = (0..70_000).map(|s| format!("S{s}")).collect::<Vec<_>>().into();
    let e = Catalog::from_json(&json.to_string()).err().unwrap().to_string();
    assert!(e.contains("at most"), "{e}");
    json["scenes"] = vec!["S", "S"].into();
    assert!(Catalog::from_json(&json.to_string()).err().unwrap().to_string().contains("appears twice"));
}

#[test]
fn extreme_times_do_not_overflow() {
    let (w, c, t) = files();
    let rec = load(&w, &c, &t).unwrap();
    let at = |time: f64| HistoryEvent { item_id: "item1".into(), scene: "S1".into(), action: None, time };
    let history = vec![at(-9.2e18), at(9.2e18), at(0.0)];
    assert_eq!(block_on(rec.recommend(&history, Some("S0"), 3, &[], Some(-9.2e18))).unwrap().len(), 3);
}

#[test]
fn a_binary_catalogue_of_another_catalogue_is_refused() {
    let (w, _, t) = files();
    // The same ids and scenes; one title differs, so the catalogue (and its fingerprint) does.
    let c = catalog(3);
    let mut items: Vec<Item> = c.iter().map(|i| i.to_item()).collect();
    items[0].title = "Renamed".into();
    let other = Catalog::new(c.scenes.clone(), c.genres.clone(), items).unwrap();
    assert_ne!(other.fingerprint(), c.fingerprint());
    let e = load(&w, &other.to_bin(), &t).err().unwrap();
    assert!(e.contains(other.fingerprint()), "{e}");
}
