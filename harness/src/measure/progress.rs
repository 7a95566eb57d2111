//! Progress on stderr while a comparison runs: which combination, how many are left, and an
//! estimate of the time left. Silent when stderr is not a terminal or with `--quiet`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar over `total` measurements.
    pub fn new(total: u64, quiet: bool) -> Progress {
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden())
        } else {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:24.cyan/blue} {pos}/{len} {wide_msg} about {eta} left",
                )
                .expect("valid progress template"),
            );
            // Redrawn between steps too, so the estimate keeps moving during long runs.
            bar.enable_steady_tick(std::time::Duration::from_millis(250));
            bar
        };
        Progress { bar }
    }

    /// Says what runs now.
    pub fn running(&self, what: String) {
        self.bar.set_message(what);
    }

    /// One measurement done.
    pub fn step(&self) {
        self.bar.inc(1);
    }

    /// Clears the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
