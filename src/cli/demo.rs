//! `sipas demo`: fills the database with the demo's synthetic data (see `demo`).

use std::time::Instant;

use super::db::open;
use crate::app;
use crate::config::Config;
use crate::demo::{self, Plan, staged};
use crate::kernel::time::today;

/// `sipas demo [--responses N] [--seed S]`.
/// From 1000 responses on, the last working day also gets the integrity capability's staged
/// patterns (see `demo::staged`), answered through the real submission core; they are part
/// of the N responses asked for.
pub fn run(config: &Config, responses: u64, seed: u64) -> Result<String, String> {
    let started = Instant::now();
    let (db, mut conn, instruments) = open(config)?;
    let staged_answers = if responses >= 1000 { (staged::GENUINE + staged::STAGED) as u64 } else { 0 };
    let plan = Plan::ending_yesterday(responses - staged_answers, seed);
    let opened = started.elapsed().as_secs_f64();
    let mut out = demo::generate(&mut conn, Some(&db.url), &instruments, plan)?;
    if staged_answers > 0 {
        let clock = Instant::now();
        let secret = app::prepare(&db.url, config, &instruments)?;
        let day = staged::last_working_day(today());
        let detection = staged::run(&mut conn, &instruments, config, &secret, day, seed)?;
        out.push_str(&format!(
            "; {detection} (in {:.1} s); {responses} responses in all",
            clock.elapsed().as_secs_f64()
        ));
    }
    out.push_str(&format!(
        "; the command took {:.1} s (opening the database {opened:.1} s)",
        started.elapsed().as_secs_f64()
    ));
    Ok(out)
}
