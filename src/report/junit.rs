//! `junit.xml`: one test case per SLO and per baseline comparison, so CI systems show
//! a performance gate like any other test result.

use std::fmt::Write;

use super::comparison::{Comparison, RowVerdict};
use super::console::observed;
use super::summary::Summary;

pub fn render(summary: &Summary) -> String {
    let slo_cases: Vec<Case> = summary
        .slos
        .iter()
        .map(|slo| Case {
            class: "slo".into(),
            name: slo.expr.clone(),
            failure: (!slo.pass).then(|| format!("observed {}", observed(slo))),
        })
        .collect();
    let comparison_cases = summary.comparison.as_ref().map(cases).unwrap_or_default();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total = slo_cases.len() + comparison_cases.len();
    let failures = slo_cases
        .iter()
        .chain(&comparison_cases)
        .filter(|c| c.failure.is_some())
        .count();
    let _ = writeln!(
        out,
        "<testsuites name=\"karigar-perf {}\" tests=\"{total}\" failures=\"{failures}\">",
        escape(&summary.scenario)
    );
    suite(&mut out, "slo", &slo_cases);
    if summary.comparison.is_some() {
        suite(&mut out, "comparison", &comparison_cases);
    }
    out.push_str("</testsuites>\n");
    out
}

struct Case {
    class: String,
    name: String,
    failure: Option<String>,
}

fn cases(comparison: &Comparison) -> Vec<Case> {
    let history = comparison
        .history
        .iter()
        .flat_map(|h| &h.rows)
        .filter(|r| r.gated)
        .map(|row| Case {
            class: format!("comparison.{}", row.step),
            name: format!(
                "{} vs {} ({})",
                row.metric,
                comparison.baseline_run,
                super::comparison_markdown::detectable(row)
            ),
            failure: (row.verdict == RowVerdict::Regression).then(|| {
                format!(
                    "{} beyond the history's boundary {}",
                    super::comparison_markdown::change(row),
                    super::comparison_markdown::figure(&row.metric, row.boundary)
                )
            }),
        });
    let per_second = comparison.rows.iter().map(|row| Case {
        class: format!("comparison.{}", row.step),
        name: format!(
            "{} per second vs baseline {}",
            row.metric, comparison.baseline_run
        ),
        failure: (row.verdict == RowVerdict::Regression).then(|| {
            format!(
                "{:+.1}% slower (p = {:.4})",
                row.change.unwrap_or(0.0) * 100.0,
                row.p_slower.unwrap_or(1.0)
            )
        }),
    });
    history.chain(per_second).collect()
}

fn suite(out: &mut String, name: &str, cases: &[Case]) {
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    let _ = writeln!(
        out,
        "  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{failures}\">",
        cases.len()
    );
    for case in cases {
        let open = format!(
            "    <testcase classname=\"{}\" name=\"{}\"",
            escape(&case.class),
            escape(&case.name)
        );
        match &case.failure {
            None => {
                let _ = writeln!(out, "{open}/>");
            }
            Some(message) => {
                let _ = writeln!(
                    out,
                    "{open}>\n      <failure message=\"{}\"/>\n    </testcase>",
                    escape(message)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n");
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}
