//! A gate's history over time (`history report`): per step and figure one value per
//! run, the band the next run is judged against, each run's verdict against the runs
//! before it, and where levels shifted.

use super::comparison::ChangePoint;

/// Everything `trends.html` and `trends.md` show.
pub struct Trends {
    pub scenario: String,
    /// Oldest first.
    pub runs: Vec<TrendRun>,
    pub steps: Vec<StepTrend>,
    /// As `compare --history` names them.
    pub change_points: Vec<ChangePoint>,
}

pub struct TrendRun {
    pub run_id: String,
    pub started_at: String,
    /// The gated figures on which it regressed against the runs before it
    /// (`register p95`); empty when it held or had too few runs before it.
    pub regressed: Vec<String>,
    /// Whether it had enough runs before it (two) to be judged.
    pub judged: bool,
}

impl TrendRun {
    pub fn flagged(&self) -> bool {
        !self.regressed.is_empty()
    }
}

pub struct StepTrend {
    pub step: String,
    pub figures: Vec<FigureTrend>,
}

pub struct FigureTrend {
    /// `p50`, `p95`, `p99` (ms), `throughput` (/s) or `error_rate` (fraction).
    pub metric: String,
    /// One per run, oldest first; `None` where the run did not send the step.
    pub values: Vec<Option<f64>>,
    /// The whole history's prediction interval (low, high): where the next run is
    /// expected; `None` with fewer than two runs.
    pub band: Option<(f64, f64)>,
}
