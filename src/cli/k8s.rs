//! `k8s generators`: the Kubernetes objects of a distributed run.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::*;

#[derive(Debug, Subcommand)]
pub enum K8sCommand {
    /// Write the objects of a run whose generators are a Kubernetes Indexed Job: the
    /// coordinator Pod and Service, the Job, a ConfigMap with the scenario and a Secret
    /// with the run's token. `kubectl apply -f FILE` runs it.
    Generators(Box<K8sGeneratorsArgs>),
}

#[derive(Debug, Args)]
pub struct K8sGeneratorsArgs {
    /// A scenario name (./scenarios/NAME.toml, or built in) or a path to a TOML file.
    pub scenario: String,
    /// Generator pods (the Job's parallelism and completions).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub workers: u16,
    /// The backend the load goes to, as the pods reach it.
    #[arg(long)]
    pub target: String,
    /// The frontend, for steps with target = "frontend".
    #[arg(long)]
    pub frontend: Option<String>,
    /// An image with `karigar-perf` on its PATH (docker/build.sh makes
    /// karigar-perf/harness:latest; push it where the cluster pulls from).
    #[arg(long)]
    pub image: String,
    /// The namespace of every object (default: kubectl's).
    #[arg(long)]
    pub namespace: Option<String>,
    /// Virtual users over all generators (closed model).
    #[arg(long)]
    pub users: Option<usize>,
    /// How long the load runs, e.g. 5m.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Open model: iterations per second over all generators, e.g. 200/s.
    #[arg(long)]
    pub rate: Option<String>,
    /// CPU of each generator pod, requested and limited alike, e.g. 500m or 2 (default:
    /// from the planned rate per pod at a measured CPU cost per request, twice over;
    /// 1 core in the closed model).
    #[arg(long, value_name = "CORES", value_parser = parse_cores)]
    pub generator_cpu: Option<f64>,
    /// Memory of each generator pod, e.g. 512MiB (default: 128 MiB and 64 KiB per user).
    #[arg(long, value_name = "SIZE", value_parser = parse_bytes)]
    pub generator_memory: Option<u64>,
    #[command(flatten)]
    pub http: HttpArgs,
    /// Where to write the objects (default: reports/k8s-RUN.yaml).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}
