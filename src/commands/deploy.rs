//! `karigar-perf deploy k8s` and `deploy compose`: a capacity report's sizing written
//! as the seed's deployment files.

use crate::cli::{DeployComposeArgs, DeployK8sArgs, K8sManifestArgs};
use crate::deploy::{self, DeploymentPlan};
use crate::error::Result;

pub fn k8s(args: &DeployK8sArgs) -> Result<u8> {
    let plan = deploy::plan_from_file(&args.from)?;
    print_plan(&plan);
    emit_k8s(&plan, &args.k8s, &args.out)?;
    Ok(crate::exit::PASS)
}

pub fn compose(args: &DeployComposeArgs) -> Result<u8> {
    let plan = deploy::plan_from_file(&args.from)?;
    print_plan(&plan);
    let path = deploy::write_compose(&plan, &args.out)?;
    println!("wrote {}", path.display());
    println!("run it: {}", deploy::compose_command_line(&plan));
    Ok(crate::exit::PASS)
}

fn emit_k8s(plan: &DeploymentPlan, args: &K8sManifestArgs, out: &std::path::Path) -> Result<()> {
    print!(
        "{}",
        deploy::emit_k8s(plan, &crate::config::k8s_options(args), out)?
    );
    Ok(())
}

fn print_plan(plan: &DeploymentPlan) {
    println!(
        "deployment for {:.1} {} iterations/s ({:.2}/s per instance), from capacity run {}:",
        plan.target_rate, plan.scenario, plan.per_instance_rate, plan.capacity_run
    );
    for chosen in &plan.chosen {
        println!("  {:<28} {:<12} {}", chosen.setting, chosen.value, chosen.from);
    }
    println!("  db budget: {}", plan.db_decision);
}
