//! `drill.md`, and the console's view of a drill (the same text).

use std::fmt::Write;

use crate::drill::{duration_text, DrillKind, DrillReport, Phase, RedisKillOutcome, RestoreOutcome};

pub fn render(report: &DrillReport) -> String {
    let mut out = String::new();
    let kind = match report.kind {
        DrillKind::Restore => "restore",
        DrillKind::RedisKill => "redis-kill",
    };
    let verdict = match (report.interrupted, report.pass) {
        (true, _) => "INTERRUPTED: partial results",
        (false, true) => "PASS",
        (false, false) => "FAIL",
    };
    let _ = writeln!(out, "# Drill {kind}: {} ({verdict})\n", report.scenario);
    let _ = writeln!(
        out,
        "run `{}`, started {}, {} users, local stack\n",
        report.run_id, report.started_at, report.users
    );
    out.push_str("| check | observed | limit | verdict |\n|---|---|---|---|\n");
    for check in &report.checks {
        let mark = if check.pass { "pass" } else { "**FAIL**" };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {mark} |",
            check.name, check.observed, check.limit
        );
    }
    for outcome in &report.restores {
        out.push_str(&restore(outcome));
    }
    if let Some(p) = &report.projection {
        let _ = writeln!(
            out,
            "\n## Projection: the seed's 100 GB production database\n\n\
             Base backup at {:.0} MB/s: {}; restore at {:.0} MB/s plus the other phases as measured: \
             RTO {} (limit {}): {}.\n\n_{}._",
            p.backup_rate_mb_s,
            duration_text(p.backup_s),
            p.restore_rate_mb_s,
            duration_text(p.rto_s),
            duration_text(p.rto_limit_s),
            if p.within_rto { "within" } else { "OVER" },
            p.caveat
        );
        if let (Some(replay), Some(rate)) = (p.day_of_wal_replay_s, p.writes_per_s) {
            let _ = writeln!(
                out,
                "\nWith WAL archiving, a base backup a day old adds a day of WAL to replay: at this drill's \
                 {rate:.1} acknowledged writes/s all day, {} at the replay rate measured here (start-up included). \
                 Take base backups often enough that the WAL behind them replays well within the RTO.",
                duration_text(replay)
            );
        }
    }
    for outcome in &report.redis {
        out.push_str(&redis(outcome));
    }
    for error in &report.errors {
        let _ = writeln!(out, "\nerror: {error}");
    }
    out
}

fn phases(phases: &[Phase]) -> String {
    let mut out = String::from("\n| phase | from | took |\n|---|---|---|\n");
    for phase in phases {
        let _ = writeln!(
            out,
            "| {} | {:.2} s | {:.2} s |",
            phase.name,
            phase.start_s,
            phase.seconds()
        );
    }
    out
}

fn restore(outcome: &RestoreOutcome) -> String {
    let rpo = &outcome.rpo;
    let mut out = format!(
        "\n## Restore, {} policy\n\nBase backup (T1) from {:.2} s to {:.2} s ({} MB, WAL {} to {}); Postgres destroyed (T2) at {:.2} s.\n",
        match outcome.policy {
            crate::drill::Policy::Wal => "WAL archiving",
            crate::drill::Policy::Base => "base backup only",
        },
        outcome.backup_started_s,
        outcome.backup_finished_s,
        outcome.backup_bytes / 1_000_000,
        outcome.backup_start_lsn,
        outcome.backup_end_lsn,
        outcome.destroyed_s
    );
    out.push_str(&phases(&outcome.phases));
    let _ = writeln!(
        out,
        "\n**RTO** {} (the first write sent after T2 that was acknowledged). \
         **RPO** {} of {} acknowledged writes lost, window {}; placed by commit against the backup's WAL: \
         before it {}/{} lost, during it {}/{}, after it {}/{} ({} kept past its end), in doubt {}/{}; \
         {} lost out of commit order. {} rows right after the restore; {} writes lost after it.",
        outcome.rto_s.map_or("not reached".into(), duration_text),
        rpo.lost,
        rpo.acknowledged,
        duration_text(rpo.window_s),
        rpo.lost_before_backup,
        rpo.acknowledged_before_backup,
        rpo.lost_during_backup,
        rpo.acknowledged_during_backup,
        rpo.lost_after_backup,
        rpo.acknowledged_after_backup,
        rpo.kept_after_backup,
        rpo.lost_in_doubt,
        rpo.in_doubt,
        rpo.lost_out_of_order,
        rpo.rows_after_restore,
        rpo.lost_after_restore
    );
    out
}

fn redis(outcome: &RedisKillOutcome) -> String {
    let mut out = format!(
        "\n## Redis killed, appendfsync {}\n\nSIGKILL at {:.2} s; {} writes acknowledged in the last 2 s before it.\n",
        outcome.appendfsync, outcome.killed_s, outcome.acknowledged_last_2s
    );
    out.push_str(&phases(&outcome.phases));
    let window = match (outcome.lost_newest_s, outcome.lost_oldest_s) {
        (Some(newest), Some(oldest)) => format!(", acknowledged {newest:.2}..{oldest:.2} s before the kill"),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "\n{} refresh tokens held, {} in doubt (a refresh in flight at the kill); {} accepted after the restart, \
         {} refused of those in doubt, **{} lost**{window}. {} requests of the load failed from the kill on.",
        outcome.held,
        outcome.in_doubt,
        outcome.accepted,
        outcome.held.saturating_sub(outcome.accepted + outcome.lost),
        outcome.lost,
        outcome.failed_requests
    );
    let exposure = match outcome.appendfsync.as_str() {
        "always" => "none: each write is fsynced before its answer".to_string(),
        _ => format!(
            "up to the last second or two of writes, here up to {} acknowledged in the last 2 s",
            outcome.acknowledged_last_2s
        ),
    };
    let _ = writeln!(
        out,
        "\nA SIGKILL ends the process, not the kernel: what Redis wrote before answering survives in \
         the page cache under either setting. A power loss would lose {exposure}."
    );
    out
}
