//! `sipas demo`: fills the database with the demo's synthetic data (see `demo`).

use std::time::Instant;

use super::db::open;
use crate::app;
use crate::config::Config;
use crate::demo::{self, Plan, staged};
use crate::kernel::time::today;

/// `sipas demo [--responses N] [--seed S]`. Then fills what the staff pages need beyond answers
/// (`demo::pages`): daily case counts, follow-ups, the public page and one account per role,
/// whose passwords it prints.
/// From 1000 responses on, the last four working weeks also get the integrity simulation (see
/// `demo::staged`: realistic residents and staged patterns), answered through the real
/// submission core; its answers are part of the N responses asked for, and the generated data
/// leaves those weeks of the simulated unit to it (the other unit keeps its share).
pub fn run(config: &Config, responses: u64, seed: u64) -> Result<String, String> {
    let started = Instant::now();
    let (db, mut conn, instruments) = open(config)?;
    let last = staged::last_working_day(today());
    let staged_answers = if responses >= 1000 { staged::answers_planned(last, seed) as u64 } else { 0 };
    let mut plan = Plan::ending_yesterday(responses - staged_answers, seed);
    if staged_answers > 0 {
        // the simulated unit's last four weeks are the simulation's alone
        plan = plan.simulated_from(staged::first_day(last));
    }
    let opened = started.elapsed().as_secs_f64();
    let mut out = demo::generate(&mut conn, Some(&db.url), &instruments, plan)?;
    if staged_answers > 0 {
        let clock = Instant::now();
        let secret = app::prepare(&db.url, config, &instruments)?;
        let detection = staged::run(&mut conn, &instruments, config, &secret, last, seed)?;
        out.push_str(&format!(
            "; {detection} (in {:.1} s); {responses} responses in all",
            clock.elapsed().as_secs_f64()
        ));
    }
    // every staff page shows something: case counts, follow-ups, the public page, accounts
    let cases = demo::pages::case_counts(&mut conn).map_err(|e| format!("demo case counts: {e}"))?;
    let (opened_f, answered_f, closed_f) =
        demo::pages::followups(&mut conn, &instruments, config.followup_days)
            .map_err(|e| format!("demo follow-ups: {e}"))?;
    crate::reporting::public::set_public_page(&mut conn, "CHIEMHOA", true, "demo")?;
    let accounts = demo::pages::create_accounts(&mut conn)?;
    out.push_str(&format!(
        "; {cases} daily case counts; {opened_f} follow-ups ({answered_f} answered, {closed_f} closed); \
         public page /public/CHIEMHOA on"
    ));
    out.push_str(&format!(
        "; the command took {:.1} s (opening the database {opened:.1} s)",
        started.elapsed().as_secs_f64()
    ));
    out.push_str("\n\nDemo accounts (sign in at /login; the passwords are shown only now):\n");
    out.push_str(&accounts.join("\n"));
    Ok(out)
}
