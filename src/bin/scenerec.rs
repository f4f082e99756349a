//! `scenerec`: prepare data, pretrain, evaluate, export and benchmark the multi-scene model.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

use scenerec::cli::commands;
use scenerec::vectors::Encoding;

#[derive(Parser)]
#[command(name = "scenerec", version, about = "On-device multi-scene recommender: native pretraining and evaluation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// A prepared data set and the training config that applies to it.
#[derive(Args)]
struct DataSet {
    /// Prepared data set directory (from `prepare`).
    #[arg(long)]
    data: PathBuf,
    /// JSON training config; every field is optional (see configs/default.json). Its filter
    /// also applies to evaluation (the re-ranking depth is the weights' own).
    #[arg(long)]
    config: Option<PathBuf>,
}

/// A prepared data set with trained weights.
#[derive(Args)]
struct Trained {
    #[command(flatten)]
    set: DataSet,
    /// Weights file (from `train`, or models/default.weights).
    #[arg(long)]
    weights: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Check a RecBole atomic data set, add scenes if asked, and embed item texts.
    Prepare {
        /// Source data set: a directory `NAME/` holding `NAME.inter` and `NAME.item`.
        #[arg(long)]
        source: PathBuf,
        /// Output directory (the prepared data set).
        #[arg(long)]
        out: PathBuf,
        /// Derive the scene column by a built-in rule when the data has none: `ml1m-genres`
        /// (MovieLens genre channels), `first-category` (each item's first category) or `single`.
        #[arg(long)]
        derive_scenes: Option<String>,
        /// Directory of all-MiniLM-L6-v2 (config.json, tokenizer.json, model.safetensors).
        #[arg(long, default_value = "data/minilm")]
        lm_dir: PathBuf,
    },
    /// Add the text embedding to new items (JSON `[{id, scene, genres?, title?}]`), as the
    /// npm package's `addItems` takes them, so the browser ranks them at once.
    EmbedItems {
        /// JSON file of the new items.
        #[arg(long)]
        items: PathBuf,
        /// Directory of all-MiniLM-L6-v2 (the model the catalogue was embedded with).
        #[arg(long, default_value = "data/minilm")]
        lm_dir: PathBuf,
        /// Write the items here (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Pretrain the model (resumable: rerun with --resume after an interruption).
    Train {
        #[command(flatten)]
        set: DataSet,
        /// Run directory for checkpoints and the best weights.
        #[arg(long)]
        out: PathBuf,
        /// Continue the run in --out from its last completed epoch.
        #[arg(long)]
        resume: bool,
    },
    /// Evaluate weights with full ranking (overall and per scene).
    Eval {
        #[command(flatten)]
        trained: Trained,
        /// `test` or `valid`.
        #[arg(long, default_value = "test")]
        split: String,
        /// `agnostic` (no scene: rank the whole catalogue), `in-scene` (the target's tab: rank
        /// its scene's items), `last-scene` (the tab of the user's last event), or `all`.
        #[arg(long, default_value = "all")]
        track: String,
        /// Rank from the item vectors quantised as `export --encoding` ships them (`int8`,
        /// `int6` or `int4`: the browser's ranking), to measure what the quantisation costs.
        #[arg(long)]
        quantised: Option<String>,
        /// Also write the report as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Write what the browser loads: user-side weights, catalogue and quantised item vectors.
    Export {
        #[command(flatten)]
        trained: Trained,
        /// How the item vectors are quantised: `int6` (the default), `int8` (a third more
        /// bytes) or `int4` (a third fewer); see the browser benchmark for what each costs.
        #[arg(long, default_value = Encoding::DEFAULT.name())]
        encoding: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Show a user's top items per scene (the native twin of the browser demo).
    Recommend {
        #[command(flatten)]
        trained: Trained,
        /// User id from the data set (default: the first user).
        #[arg(long)]
        user: Option<String>,
        /// Scene name (default: the whole catalogue, then every scene).
        #[arg(long)]
        scene: Option<String>,
        #[arg(short, long, default_value_t = 10)]
        k: usize,
    },
    /// Rank with an exported model directory as the browser does (JSON request → JSON).
    Rank {
        /// Directory written by `export`.
        #[arg(long)]
        model: PathBuf,
        /// JSON file: {"history": [{"itemId", "scene", "action"?, "time"}], "scene"? (absent: all scenes), "k"?, "exclude"?, "now"? (seconds; absent: unknown)}
        #[arg(long)]
        request: PathBuf,
        /// Rank this many times and print the median time (`rank_ms`) to stderr.
        #[arg(long, default_value_t = 1)]
        repeat: usize,
    },
    /// Write a weights file's parameters by name (tensors.json + tensors.f32) for tools outside Burn.
    Tensors {
        #[arg(long)]
        weights: PathBuf,
        /// Directory to write into (e.g. the exported model's).
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a random model over a synthetic catalogue of N items (for speed benchmarks).
    Synth {
        #[arg(long)]
        items: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// `int6`, `int8` or `int4` item vectors (as `export --encoding`).
        #[arg(long, default_value = Encoding::DEFAULT.name())]
        encoding: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// How sure a difference between two `eval --json` reports of the same queries is: each
    /// track's mean NDCG@10 ratio with a 95% interval from a paired bootstrap over users.
    Compare {
        /// The report whose NDCG@10 is the numerator (e.g. the changed model).
        #[arg(long)]
        ours: PathBuf,
        /// The report it is measured against (e.g. the model before the change).
        #[arg(long)]
        theirs: PathBuf,
        /// Also write the comparisons as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Fuzz a target (weights, vectors, catalog, history, recbole) with N mutated inputs; a panic fails.
    /// The RecBole seeds are the given data set's atomic files.
    Fuzz {
        #[arg(long)]
        target: String,
        #[arg(long, default_value_t = 1000)]
        inputs: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// A prepared data directory whose `.item` and `.inter` files seed the RecBole target.
        #[arg(long)]
        data: PathBuf,
        /// Write the tally here as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Instead of running them, write the weights target's seed model and mutated files
        /// here (for the browser's robustness test).
        #[arg(long)]
        write: Option<PathBuf>,
    },
    /// The accuracy benchmark in three tracks: the model, its ablations and its peers, cold
    /// start and on-device fine-tuning. Runs the given parts, then merges every part run so far.
    Bench {
        #[command(flatten)]
        set: DataSet,
        /// Directory for accuracy.json and accuracy.md.
        #[arg(long)]
        out: PathBuf,
        /// Working directory for the benchmark's training runs and parts' results.
        #[arg(long, default_value = "runs/bench")]
        runs: PathBuf,
        /// Parts to run (peers, sasrec, scenerec, no-lm, per-scene, cold-start, fine-tune-sweep,
        /// fine-tune, fine-tune-unseen, sasrec-seeds, scenerec-seeds), comma-separated; `all` runs every
        /// part, `none` only merges.
        #[arg(long, default_value = "all")]
        parts: String,
        /// The command line to record in the results file.
        #[arg(long, default_value = "scripts/bench-accuracy.sh")]
        command: String,
        /// With one part that trains several models (`--parts per-scene`: its six scene
        /// models; `cold-start`: its two; `sasrec-seeds`, `scenerec-seeds`: their two seeds):
        /// only train that part's models `I`, `I+N`, …
        /// (no results, no merge), so N processes train them side by side; the part run after
        /// them finds the models trained and measures them.
        #[arg(long, value_name = "I/N")]
        shard: Option<String>,
        /// Train the models of each named part that trains several (per-scene, cold-start, the
        /// seeds parts) in N processes side by side, each a `--shard I/N` logging to
        /// `<runs>/logs/<part>-shard-<I>.log`, before the part measures them.
        #[arg(long, value_name = "N", default_value_t = 1)]
        jobs: usize,
        /// Measure the fine-tuning parts on at most this many users, for a quicker look (by
        /// default: 1,000 validation users for the sweep, 2,000 test users for fine-tune, 500
        /// for fine-tune-unseen).
        #[arg(long, value_name = "N")]
        fine_tune_users: Option<usize>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Prepare { source, out, derive_scenes, lm_dir } => {
            commands::prepare(&source, &out, derive_scenes.as_deref(), &lm_dir)
        }
        Command::EmbedItems { items, lm_dir, out } => commands::embed_items(&items, &lm_dir, out.as_deref()),
        Command::Train { set, out, resume } => commands::train(&set.data, set.config.as_deref(), &out, resume),
        Command::Eval { trained: t, split, track, quantised, json } => {
            commands::eval(&t.set.data, &t.weights, t.set.config.as_deref(), &split, &track, quantised.as_deref(), json.as_deref())
        }
        Command::Export { trained: t, encoding, out } => {
            commands::export(&t.set.data, &t.weights, t.set.config.as_deref(), &encoding, &out)
        }
        Command::Recommend { trained: t, user, scene, k } => {
            commands::recommend(&t.set.data, &t.weights, t.set.config.as_deref(), user.as_deref(), scene.as_deref(), k)
        }
        Command::Rank { model, request, repeat } => commands::rank(&model, &request, repeat),
        Command::Tensors { weights, out } => commands::tensors(&weights, &out),
        Command::Synth { items, seed, encoding, out } => commands::synth(items, seed, &encoding, &out),
        Command::Compare { ours, theirs, json } => scenerec::cli::compare::run(&ours, &theirs, json.as_deref()),
        Command::Fuzz { target, inputs, seed, data, json, write } => {
            commands::fuzz(&target, inputs, seed, &data, json.as_deref(), write.as_deref())
        }
        Command::Bench { set, out, runs, parts, command, shard, jobs, fine_tune_users } => {
            let (parts, shard) = (parts.as_str(), shard.as_deref());
            commands::bench(&set.data, set.config.as_deref(), &out, &runs, parts, &command, shard, jobs, fine_tune_users)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
