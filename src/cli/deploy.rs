//! `deploy k8s` and `deploy compose`: a capacity report as deployment files.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum DeployCommand {
    /// The seed's k8s/ files (backend and frontend Deployments, Postgres and Redis
    /// StatefulSets, Services, Ingress) plus the HPA and a PodDisruptionBudget.
    #[command(after_help = "Exit codes: 0 written, 2 the report cannot be read or sized")]
    K8s(DeployK8sArgs),
    /// A Compose override of docker-compose.test.yml and the command line that scales it.
    #[command(after_help = "Exit codes: 0 written, 2 the report cannot be read or sized")]
    Compose(DeployComposeArgs),
}

#[derive(Debug, Args)]
pub struct DeployK8sArgs {
    /// A capacity.json of a search with a target rate (`capacity --target-rps N`).
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// Where to write the manifests.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub k8s: K8sManifestArgs,
}

/// What the manifests name that a capacity report does not know.
#[derive(Debug, Args, Clone)]
pub struct K8sManifestArgs {
    /// Namespace of every object (default: none, kubectl's current one).
    #[arg(long)]
    pub k8s_namespace: Option<String>,
    /// The backend image the Deployment runs.
    #[arg(long, default_value = "karigar/backend:latest")]
    pub k8s_backend_image: String,
    /// The frontend image the Deployment runs.
    #[arg(long, default_value = "karigar/frontend:latest")]
    pub k8s_frontend_image: String,
    /// The Ingress's host.
    #[arg(long, default_value = "karigar.example.com")]
    pub k8s_host: String,
}

#[derive(Debug, Args)]
pub struct DeployComposeArgs {
    /// A capacity.json of a search with a target rate.
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// Where to write docker-compose.sized.yml.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}
