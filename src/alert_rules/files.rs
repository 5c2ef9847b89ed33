//! The rules file (`groups:` of alerting rules, as `promtool check rules` reads it) and
//! its tests (`promtool test rules`), as YAML.

use std::collections::BTreeMap;

use serde::Serialize;

use super::figures::AlertRule;
use super::fixtures::{self, Case};
use super::RuleSet;

#[derive(Serialize)]
struct RuleFile<'a> {
    groups: Vec<Group<'a>>,
}

#[derive(Serialize)]
struct Group<'a> {
    name: String,
    rules: Vec<Rule<'a>>,
}

#[derive(Serialize)]
struct Rule<'a> {
    alert: &'a str,
    expr: String,
    #[serde(rename = "for")]
    for_: &'a str,
    labels: BTreeMap<&'static str, String>,
    annotations: BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
struct TestFile<'a> {
    rule_files: Vec<&'a str>,
    evaluation_interval: &'static str,
    tests: Vec<Test<'a>>,
}

#[derive(Serialize)]
struct Test<'a> {
    name: String,
    interval: &'static str,
    input_series: Vec<InputSeries>,
    alert_rule_test: Vec<AlertTest<'a>>,
}

#[derive(Serialize)]
struct InputSeries {
    series: String,
    values: String,
}

#[derive(Serialize)]
struct AlertTest<'a> {
    eval_time: &'static str,
    alertname: &'a str,
    exp_alerts: Vec<ExpectedAlert>,
}

#[derive(Serialize)]
struct ExpectedAlert {
    exp_labels: BTreeMap<String, String>,
    exp_annotations: BTreeMap<&'static str, String>,
}

/// The rules file: one group named for the scenario, a comment naming what no rule
/// stands for.
pub fn rules_yaml(set: &RuleSet) -> Result<String, serde_yaml::Error> {
    let file = RuleFile {
        groups: vec![Group {
            name: format!("karigar-perf:{}", set.scenario),
            rules: set.rules.iter().map(|rule| yaml_rule(set, rule)).collect(),
        }],
    };
    let mut text = format!(
        "# Alerting rules for the SLOs of scenario {} and the seed's thresholds, written by\n\
         # karigar-perf slo rules; their tests are beside this file (.test.yml).\n",
        set.scenario
    );
    for (slo, why) in &set.skipped {
        text.push_str(&format!("# No rule for {slo}: {why}.\n"));
    }
    text.push_str(&serde_yaml::to_string(&file)?);
    Ok(text)
}

/// The tests of every rule whose inputs are known, against `rules_file` (its name,
/// beside the tests).
pub fn tests_yaml(set: &RuleSet, rules_file: &str) -> Result<String, serde_yaml::Error> {
    let tests = set
        .rules
        .iter()
        .flat_map(|rule| {
            fixtures::cases(rule)
                .into_iter()
                .map(move |case| test(set, rule, case))
        })
        .collect();
    let file = TestFile {
        rule_files: vec![rules_file],
        evaluation_interval: fixtures::INTERVAL,
        tests,
    };
    Ok(format!(
        "# promtool test rules: each alert of {rules_file} fires 10% past its threshold\n\
         # and stays silent 10% short of it. Written by karigar-perf slo rules.\n{}",
        serde_yaml::to_string(&file)?
    ))
}

fn yaml_rule<'a>(set: &RuleSet, rule: &'a AlertRule) -> Rule<'a> {
    Rule {
        alert: &rule.name,
        expr: rule.expr(),
        for_: &rule.for_,
        labels: labels(set, rule),
        annotations: annotations(rule),
    }
}

fn labels(set: &RuleSet, rule: &AlertRule) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("severity", "page".to_owned()),
        ("scenario", set.scenario.clone()),
        ("slo", rule.slo.clone()),
    ])
}

/// Fixed text (no templates): a test expects it word for word.
fn annotations(rule: &AlertRule) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("summary", rule.summary.clone()),
        ("verified_by", rule.verified.clone()),
    ])
}

fn test<'a>(set: &RuleSet, rule: &'a AlertRule, case: Case) -> Test<'a> {
    let expected = case.fires.then(|| {
        let mut exp_labels: BTreeMap<String, String> = labels(set, rule)
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        exp_labels.extend(case.kept.iter().cloned());
        ExpectedAlert {
            exp_labels,
            exp_annotations: annotations(rule),
        }
    });
    let how = match case.fires {
        true => "fires",
        false => "stays silent",
    };
    Test {
        name: format!(
            "{} {how} at {} (threshold {} {})",
            rule.name,
            super::figures::number(case.value),
            rule.op,
            super::figures::number(rule.threshold)
        ),
        interval: fixtures::INTERVAL,
        input_series: case
            .series
            .into_iter()
            .map(|s| InputSeries {
                series: s.series,
                values: s.values,
            })
            .collect(),
        alert_rule_test: vec![AlertTest {
            eval_time: fixtures::EVAL_TIME,
            alertname: &rule.name,
            exp_alerts: expected.into_iter().collect(),
        }],
    }
}
