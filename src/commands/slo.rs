//! `karigar-perf slo rules`: the rules file and its promtool tests, written side by side.

use crate::alert_rules::{files, rule_set};
use crate::cli::SloRulesArgs;
use crate::config::SloRulesConfig;
use crate::error::Context as _;
use crate::error::{Error, Result};

pub fn rules(args: &SloRulesArgs) -> Result<u8> {
    let config = SloRulesConfig::resolve(args)?;
    let set = rule_set(
        &config.plan,
        &config.service,
        &config.queries,
        config.resources,
        config.verification.as_ref(),
        &config.for_,
    );
    let rules_name = config
        .out
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("rules.yml");
    let rules = files::rules_yaml(&set).map_err(|e| Error::Internal(e.into()))?;
    let tests = files::tests_yaml(&set, rules_name).map_err(|e| Error::Internal(e.into()))?;
    if let Some(dir) = config.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).config_context(|| format!("cannot create {}", dir.display()))?;
    }
    for (path, text) in [(&config.out, &rules), (&config.tests_out, &tests)] {
        std::fs::write(path, text).config_context(|| format!("cannot write {}", path.display()))?;
    }
    for (slo, why) in &set.skipped {
        eprintln!("no rule for {slo}: {why}");
    }
    println!(
        "wrote {} ({} alerts) and its tests {}\ncheck them: promtool check rules {} && promtool test rules {}",
        config.out.display(),
        set.rules.len(),
        config.tests_out.display(),
        config.out.display(),
        config.tests_out.display()
    );
    Ok(crate::exit::PASS)
}
