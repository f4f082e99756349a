//! Progress bars for long CLI work (indicatif).

use indicatif::{ProgressBar, ProgressStyle};

use crate::train::{EpochReport, Progress};

/// A bar of `len` steps with a message.
pub fn bar(len: usize, message: &str) -> ProgressBar {
    let pb = ProgressBar::new(len as u64);
    pb.set_style(
        ProgressStyle::with_template("{msg:>14} [{bar:30}] {pos}/{len} {elapsed}<{eta} {prefix}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(message.to_string());
    pb
}

/// Training progress: a bar per epoch, then a line with the epoch's figures.
#[derive(Default)]
pub struct TrainBars {
    bar: Option<ProgressBar>,
    loss: f64,
    seen: usize,
}

impl Progress for TrainBars {
    fn epoch_start(&mut self, epoch: usize, batches: usize) {
        self.bar = Some(bar(batches, &format!("epoch {epoch}")));
        self.loss = 0.0;
        self.seen = 0;
    }

    fn batch(&mut self, loss: f64) {
        self.loss += loss;
        self.seen += 1;
        if let Some(b) = &self.bar {
            b.set_prefix(format!("loss {:.4}", self.loss / self.seen as f64));
            b.inc(1);
        }
    }

    fn epoch_end(&mut self, r: &EpochReport) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        let tracks: Vec<String> = r.valid_tracks.iter().map(|(t, v)| format!("{t} {v:.4}")).collect();
        eprintln!(
            "epoch {:>3}  lr {:.2e}  loss {:.4} (softmax {:.4}, head {:.4})  valid NDCG@10 {:.4} ({})  {:.1}s  {:.0} samples/s",
            r.epoch,
            r.learning_rate,
            r.loss,
            r.retrieval_loss,
            r.head_loss,
            r.valid_ndcg10,
            tracks.join(", "),
            r.seconds,
            r.samples as f64 / r.seconds.max(1e-9)
        );
    }
}
