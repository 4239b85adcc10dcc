//! The claims table: what the asyncio notes claim, the measured figures that test each claim, the rule
//! that decides it, and whether it holds here. The tour's claims are decided here, the lab's in
//! [`crate::lab_render::claims`]; [`crate::render`] writes the table to `claims.md`.

use crate::data::{Row, TourData};
use crate::lab::LabData;
use crate::lab_render;
use crate::render::{caption, caption_of, percent};

/// A claim of the asyncio notes, the rows that test it, and the rule that decides it.
#[derive(Clone, Debug)]
pub struct Claim {
    pub claim: &'static str,
    pub evidence: String,
    pub rule: &'static str,
    pub holds: Option<bool>,
}

/// The tour's claims, decided by their rules.
pub fn claims(data: &TourData) -> Vec<Claim> {
    let share = |r: &Row| {
        format!(
            "{}: {:.3} s CPU in {:.3} s wall ({})",
            r.label(),
            r.cpu_secs,
            r.wall_secs,
            percent(r.cpu_share())
        )
    };
    let weight = |r: &Row| {
        let threads = if r.peak_threads == 1 { "thread" } else { "threads" };
        format!("{}: {:.3} s wall, {} {threads}", r.label(), r.wall_secs, r.peak_threads)
    };
    let mut claims = Vec::new();
    let sequential = data.row("sequential");
    claims.push(Claim {
        claim: "A crawler is I/O-bound: its CPU mostly waits.",
        evidence: sequential.map(share).unwrap_or_default(),
        rule: "sequential CPU / wall under 25 %",
        holds: sequential.map(|r| r.cpu_share() < 0.25),
    });
    let (busy, callbacks) = (data.row("busy-poll"), data.row("callbacks"));
    claims.push(Claim {
        claim: "A busy-polling loop burns a core while it waits; an event loop does not.",
        evidence: [busy, callbacks].into_iter().flatten().map(share).collect::<Vec<_>>().join("; "),
        rule: "busy-poll CPU / wall at least 75 %, and over 3 times the event loop's",
        holds: busy.zip(callbacks).map(|(b, c)| b.cpu_share() >= 0.75 && b.cpu_share() > 3.0 * c.cpu_share()),
    });
    let (pool, tasks) = (data.row("pool"), data.row("async-await"));
    claims.push(Claim {
        claim: "Async is not faster than threads, it is lighter.",
        evidence: [pool, tasks].into_iter().flatten().map(weight).collect::<Vec<_>>().join("; "),
        rule: "wall times within a factor of 1.5 of each other, and fewer threads for async/await",
        holds: pool.zip(tasks).map(|(p, t)| {
            let ratio = p.wall_secs / t.wall_secs.max(f64::MIN_POSITIVE);
            (1.0 / 1.5..=1.5).contains(&ratio) && t.peak_threads < p.peak_threads
        }),
    });
    let limit = TOUR_MAX_TASKS;
    let most = data.rows.iter().map(|r| r.peak_connections).max().unwrap_or(0);
    claims.push(Claim {
        claim: "Every stage keeps to --max-tasks requests in flight, and prints the same report.",
        evidence: format!(
            "most connections open at once in any row: {most} (limit {limit}); rows with the same report as the first: {} of {}",
            data.rows.iter().filter(|r| r.same_report).count(),
            data.rows.len()
        ),
        rule: "every row at or under the limit, every report the same",
        holds: Some(most <= limit && data.rows.iter().all(|r| r.same_report)),
    });
    claims
}

/// The `--max-tasks` in [`crate::data::TOUR_FLAGS`].
pub const TOUR_MAX_TASKS: u64 = 10;

/// The tour's claims, then the lab's, under one caption naming every command (two captions if
/// the lab was measured in another run).
pub fn table(data: &TourData, lab: &LabData) -> String {
    let mut out = String::from("| claim | measured | holds when | on this machine |\n|---|---|---|---|\n");
    for c in claims(data).into_iter().chain(lab_render::claims(lab)) {
        let verdict = match c.holds {
            Some(true) => "holds",
            Some(false) => "**does not hold**",
            None => "not measured",
        };
        out += &format!("| {} | {} | {} | {verdict} |\n", c.claim, c.evidence, c.rule);
    }
    let caption = if lab.same_run_as(data) {
        let commands: Vec<&str> = [data.command.as_str()].into_iter().chain(lab.commands()).collect();
        caption_of(&data.generated_by, &commands, &data.date, &data.commit, &data.machine)
    } else {
        caption(data) + "\n" + &lab.caption(&lab.commands())
    };
    out + "\n" + &caption
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data;
    use crate::render::tests::sample;

    #[test]
    fn the_claims_are_decided_by_their_rules() {
        let verdicts: Vec<Option<bool>> = claims(&sample()).iter().map(|c| c.holds).collect();
        assert_eq!(verdicts, [Some(true), Some(true), Some(true), Some(true)]);
        let mut slow = sample();
        slow.rows[4].wall_secs = 2.0; // async twice as slow as the pool: "not faster" is too kind
        assert_eq!(claims(&slow)[2].holds, Some(false));
        let mut missing = sample();
        missing.rows.retain(|r| r.mode != "busy-poll");
        assert_eq!(claims(&missing)[1].holds, None);
    }

    #[test]
    fn the_max_tasks_of_the_claims_is_the_one_measured() {
        let at = data::TOUR_FLAGS.iter().position(|f| *f == "--max-tasks").unwrap();
        assert_eq!(data::TOUR_FLAGS[at + 1].parse::<u64>().unwrap(), TOUR_MAX_TASKS);
    }

    #[test]
    fn one_run_gets_one_caption_naming_every_command() {
        let (tour, mut lab) = (sample(), lab_render::tests::sample());
        lab.generated_by = tour.generated_by.clone();
        lab.machine = tour.machine.clone();
        let text = table(&tour, &lab);
        assert_eq!(text.matches("*Measured by").count(), 1, "{text}");
        for command in [tour.command.as_str()].into_iter().chain(lab.commands()) {
            assert!(text.contains(&format!("`{command}`")), "{command} in {text}");
        }
        lab.date = "2026-02-02".into();
        assert_eq!(table(&tour, &lab).matches("*Measured by").count(), 2);
    }
}
