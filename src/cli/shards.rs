//! `bench --jobs N`: the models of a part that trains several (see [`Part::SHARDED`]) trained by
//! N child processes of this binary side by side, each `bench --shard I/N`. On a few cores N
//! trainings of one thread each finish sooner than one after the other with every thread, and
//! separate processes keep the trainings' memory and random streams apart.

use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use crate::bench::Part;
use crate::{Error, Result};

/// Trains `part`'s models in `jobs` processes running `bench` with `args` (the data, config, runs
/// and output arguments of this run), each logging to `<logs>/<part>-shard-<I>.log`, and waits
/// for all of them, saying as each finishes. Each child gets `RAYON_NUM_THREADS` = cores /
/// `jobs` unless the variable is already set. A failed shard fails the whole, naming its log;
/// the others are still waited for, so no training is left running behind the error.
pub fn train_in_processes(part: Part, jobs: usize, args: &[OsString], logs: &Path) -> Result<()> {
    let exe = std::env::current_exe().map_err(|e| Error::io("the scenerec executable", e))?;
    std::fs::create_dir_all(logs).map_err(|e| Error::io(logs, e))?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads = std::env::var_os("RAYON_NUM_THREADS").unwrap_or_else(|| (cores / jobs).max(1).to_string().into());
    eprintln!("== benchmark part {}: its models trained in {jobs} processes (logs: {}/{}-shard-*.log)", part.name(), logs.display(), part.name());
    let mut running: Vec<(usize, Child, PathBuf)> = Vec::with_capacity(jobs);
    let mut failure = None;
    for i in 0..jobs {
        let log = logs.join(format!("{}-shard-{i}.log", part.name()));
        let spawned = File::create(&log).and_then(|out| {
            let err = out.try_clone()?;
            Command::new(&exe)
                .arg("bench")
                .args(args)
                .args(["--parts", part.name(), "--shard", &format!("{i}/{jobs}")])
                .env("RAYON_NUM_THREADS", &threads)
                .stdout(out)
                .stderr(err)
                .spawn()
        });
        match spawned {
            Ok(child) => running.push((i, child, log)),
            Err(e) => {
                failure = Some(Error::io(&log, e));
                break;
            }
        }
    }
    // Polled rather than waited for in order, so each shard's end is reported when it comes
    // (a part's shards can run for hours).
    while !running.is_empty() {
        let mut still = Vec::with_capacity(running.len());
        for (i, mut child, log) in running {
            match child.try_wait().map_err(|e| Error::io(&log, e))? {
                None => still.push((i, child, log)),
                Some(status) => {
                    eprintln!("== shard {i}/{jobs} of part {} finished: {status}", part.name());
                    if !status.success() && failure.is_none() {
                        let msg = format!("shard {i}/{jobs} of part {} failed ({status}); its log says why", part.name());
                        failure = Some(Error::io(&log, std::io::Error::other(msg)));
                    }
                }
            }
        }
        running = still;
        if !running.is_empty() {
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
    }
    failure.map_or(Ok(()), Err)
}
