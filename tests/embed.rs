//! all-MiniLM-L6-v2 through candle, and the content-hash cache.

mod common;

use scenerec::embed::{EmbeddingCache, LM_DIM, TextEncoder};

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn sentence_embeddings_are_unit_length_and_meaningful() {
    let enc = TextEncoder::load(&common::minilm_dir()).unwrap();
    let texts: Vec<String> = [
        "Toy Story (1995). Genres: Animation, Children's, Comedy",
        "Toy Story 2 (1999). Genres: Animation, Children's, Comedy",
        "Schindler's List (1993). Genres: Drama, War",
    ]
    .map(String::from)
    .to_vec();
    let v = enc.embed(&texts).unwrap();
    assert_eq!(v.len(), 3 * LM_DIM);
    let rows: Vec<&[f32]> = v.chunks(LM_DIM).collect();
    for r in &rows {
        assert!((cosine(r, r) - 1.0).abs() < 1e-4);
    }
    assert!(cosine(rows[0], rows[1]) > cosine(rows[0], rows[2]) + 0.2, "sequels are closer than unrelated films");
    // Batching (and so padding) does not change a text's vector.
    let alone = enc.embed(&texts[2..]).unwrap();
    assert!(alone.iter().zip(rows[2]).all(|(a, b)| (a - b).abs() < 1e-4));
}

#[test]
fn cache_fills_once_and_reopens() {
    let dir = std::env::temp_dir().join(format!("scenerec-cache-{}", std::process::id()));
    let path = dir.join("embeddings.bin");
    let enc = TextEncoder::load(&common::minilm_dir()).unwrap();
    let texts = vec!["Heat (1995). Genres: Action, Crime, Thriller".to_string(), "Casino (1995)".to_string()];
    let mut cache = EmbeddingCache::open(&path).unwrap();
    assert!(cache.matrix(&texts).unwrap_err().to_string().contains("run `scenerec prepare`"));
    let mut calls = 0;
    cache.fill(&texts, &enc, |_, _| calls += 1).unwrap();
    assert_eq!(calls, 1);
    let reopened = EmbeddingCache::open(&path).unwrap();
    assert_eq!(reopened.len(), 2);
    assert_eq!(reopened.matrix(&texts).unwrap(), cache.matrix(&texts).unwrap());
    let mut again = reopened;
    let mut calls = 0;
    again.fill(&texts, &enc, |_, _| calls += 1).unwrap();
    assert_eq!(calls, 0, "cached texts are not embedded again");
    std::fs::write(&path, b"garbage").unwrap();
    assert!(EmbeddingCache::open(&path).err().unwrap().to_string().contains("not a valid embedding cache"));
    std::fs::remove_dir_all(&dir).ok();
}
