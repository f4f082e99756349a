//! A short, fixed fuzz run of every target (the test command's share of `scripts/fuzz.sh`):
//! thousands of mutated weights files, catalogues, histories and RecBole files, each of which
//! must be refused with an error or accepted with sane outputs — never a panic.

mod common;

use scenerec::fuzz::{Seeds, TARGETS, run};

#[test]
fn mutated_inputs_are_refused_or_accepted_never_a_panic() {
    let dir = common::prepared_dir();
    let read = |ext: &str| std::fs::read_to_string(dir.join(format!("ml-1m.{ext}"))).unwrap();
    let seeds = Seeds::new(&read("item"), &read("inter")).unwrap();
    for target in TARGETS {
        let inputs = if target == "recbole" { 3_000 } else { 20_000 };
        let t = run(target, &seeds, inputs, 11).unwrap();
        assert_eq!(t.inputs, inputs);
        assert_eq!(t.panic, 0, "{target}: {:?}", t.panics);
        // Neither side empty: the mutations reach past the first check, and the seeds are valid.
        assert!(t.clean_error > inputs / 10 && t.accepted > inputs / 20, "{target}: {t:?}");
    }
    assert!(run("nonsense", &seeds, 1, 0).is_err());
}
