//! The live view's HTTP side: `/metrics` for Prometheus to scrape, and the dashboard
//! (`/`, its data at `/data`, the final report at `/report`). The page carries its
//! own script and styles: nothing is fetched from anywhere else.

use std::sync::{Arc, RwLock};

use axum::extract::{Query, State as Shared};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};

use super::state::{Point, State};
use crate::policy;

const PAGE: &str = include_str!("dashboard.html");
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub type Handle = Arc<RwLock<State>>;

/// `/metrics` alone.
pub fn metrics_routes(state: Handle) -> Router {
    Router::new().route("/metrics", get(metrics)).with_state(state)
}

/// The dashboard and its data.
pub fn dashboard_routes(state: Handle) -> Router {
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/data", get(data))
        .route("/report", get(report))
        .with_state(state)
}

async fn metrics(Shared(state): Shared<Handle>) -> Response {
    let text = super::families::openmetrics(&state.read().unwrap_or_else(|e| e.into_inner()));
    ([(header::CONTENT_TYPE, OPENMETRICS)], text).into_response()
}

#[derive(Deserialize)]
struct Since {
    #[serde(default)]
    since: usize,
}

/// What the page needs to draw: the points it has not seen, and the rest as now.
#[derive(Serialize)]
struct Data {
    run_id: String,
    scenario: String,
    steps: Vec<String>,
    points: Vec<Point>,
    requests: u64,
    errors: u64,
    slos: Vec<crate::slo::Verdict>,
    open_model: bool,
    finished: bool,
    response_ms: f64,
    cpu_trigger: f64,
    memory_trigger: f64,
    db_limit: u32,
}

async fn data(Shared(state): Shared<Handle>, Query(since): Query<Since>) -> Response {
    let state = state.read().unwrap_or_else(|e| e.into_inner());
    let all = state.measured.all_steps();
    let data = Data {
        run_id: state.run_id.clone(),
        scenario: state.scenario.clone(),
        steps: state.measured.steps.iter().map(|s| s.name.clone()).collect(),
        points: state.points.iter().skip(since.since).cloned().collect(),
        requests: all.outcomes.total(),
        errors: all.outcomes.errors(),
        slos: state.slos.clone(),
        open_model: state.open_model,
        finished: state.report_html.is_some(),
        response_ms: policy::RESPONSE_MS,
        cpu_trigger: policy::percent(policy::CPU_TRIGGER),
        memory_trigger: policy::percent(policy::MEMORY_TRIGGER),
        db_limit: policy::DB_CONNECTIONS_PER_INSTANCE,
    };
    ([(header::CACHE_CONTROL, "no-store")], axum::Json(data)).into_response()
}

async fn report(Shared(state): Shared<Handle>) -> Response {
    match &state.read().unwrap_or_else(|e| e.into_inner()).report_html {
        Some(html) => Html(html.clone()).into_response(),
        None => (StatusCode::NOT_FOUND, "the run has not ended yet").into_response(),
    }
}
