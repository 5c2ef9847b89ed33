//! One step of one virtual user: render the request, send it, read the whole body
//! (an unread body makes the client drop the connection), classify, capture, record.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, SET_COOKIE};
use serde_json::Value;

use super::hook::RequestHook;
use super::pacer::{Pacer, Slot};
use super::request_id::{Position, RequestIds};
use super::session::{RunContext, Session};

/// An open-model iteration that starts later than this counts as a late start.
const LATE: Duration = Duration::from_millis(10);
/// How long an open-model worker with nothing to start pauses once the schedule's end
/// has passed, until Goose ends it.
const IDLE: Duration = Duration::from_millis(100);
use crate::metrics::{Collector, RequestOutcome, Sighting};
use crate::scenario::Context;
use crate::scenario::{Body, CaptureFrom, JsonTemplate, Plan, Step, Target};
use crate::stop::Stop;
use crate::transport::{Client, Failure, FailureKind, Request, StaticUrl, Url};

/// Which request is being sent: its step, the id it carries (when ids are on), and
/// how late its iteration began.
#[derive(Clone, Copy)]
struct Which<'a> {
    step: usize,
    request_id: Option<&'a str>,
    delay: Duration,
}

impl<'a> Which<'a> {
    /// The request as its step's exemplars name it, answered with `status` after
    /// `service`.
    fn sighting(&self, status: Option<u16>, service: Duration) -> Sighting<'a> {
        Sighting {
            request_id: self.request_id,
            status,
            service,
            delay: self.delay,
        }
    }
}

/// A request ready to send: the request (or why it cannot be), what its answer's
/// headers must hold, and its id.
struct Prepared<'a> {
    request: Result<Request<'a>, Failure>,
    expected_headers: Vec<String>,
    request_id: Option<String>,
}

/// Everything a step needs that is the same for every user.
pub struct StepRunner {
    pub plan: Arc<Plan>,
    pub collector: Arc<Collector>,
    /// Added to every virtual user's number (see `LoadOptions::user_offset`).
    pub user_offset: usize,
    pub run: RunContext,
    pub backend_url: String,
    pub frontend_url: Option<String>,
    /// The open model's schedule; `None` in the closed model.
    pub pacer: Option<Arc<Pacer>>,
    /// A drill's log of acknowledged writes.
    pub hook: Option<Arc<dyn RequestHook>>,
    /// The run's stop: an open-model worker waiting for its slot gives up when it fires.
    pub stop: Stop,
    /// Each request's id and `traceparent`; `None` when they are off.
    pub request_ids: Option<RequestIds>,
    /// Each step's URL parsed once when its path has no placeholders (see
    /// [`static_urls`]): parsing and IDNA-checking it per request was 3-4% of the
    /// closed model's CPU.
    pub static_urls: Vec<Option<StaticUrl>>,
}

/// The URL of every step whose path is plain text, parsed against its base; `None`
/// for a templated path (rendered per request) or one that does not parse (left to
/// fail per request, as it would unparsed).
pub(super) fn static_urls(
    plan: &Plan,
    backend_url: &str,
    frontend_url: Option<&str>,
) -> Vec<Option<StaticUrl>> {
    plan.steps
        .iter()
        .map(|step| {
            let path = step.path.as_literal()?;
            let base = base_url(step, backend_url, frontend_url);
            StaticUrl::new(format!("{}{path}", base.trim_end_matches('/')))
        })
        .collect()
}

/// Where `step`'s requests go: the frontend's URL for a frontend step when there is one.
fn base_url<'a>(step: &Step, backend_url: &'a str, frontend_url: Option<&'a str>) -> &'a str {
    match step.target {
        Target::Backend => backend_url,
        Target::Frontend => frontend_url.unwrap_or(backend_url),
    }
}

impl StepRunner {
    /// Runs step `index` for the user whose client and session are given.
    pub async fn run(&self, index: usize, user: usize, client: &mut Client<'_>, session: &mut Session) {
        if self.plan.steps[index].starts_iteration {
            if let Some(pacer) = &self.pacer {
                session.delay = match pacer.take() {
                    Some(slot) => self.wait_for(slot).await,
                    None => None,
                };
            }
            session.begin_iteration(&self.plan, user, &self.run);
        }
        if let (Some(pacer), None) = (&self.pacer, session.delay) {
            self.rest(pacer).await;
            return;
        }
        if session.aborted {
            self.collector.skip(index);
            return;
        }
        let step = &self.plan.steps[index];
        let hook = self.hook.as_deref().filter(|h| h.watches(index));
        for repeat in 0..step.repeat {
            let Prepared {
                request,
                expected_headers,
                request_id,
            } = self.prepare(index, user, repeat, session);
            let which = Which {
                step: index,
                request_id: request_id.as_deref(),
                delay: session.delay.unwrap_or_default(),
            };
            self.collector.begin_request();
            let hook_user = user + self.user_offset;
            if let Some(hook) = hook {
                hook.sent(hook_user, self.collector.elapsed().as_secs_f64());
            }
            let (outcome, latency, status) = self
                .send(which, step, client, request, &expected_headers, session)
                .await;
            self.collector.end_request();
            if let (Some(hook), true) = (hook, outcome.is_ok()) {
                hook.acknowledged(hook_user, &session.vars, self.collector.elapsed().as_secs_f64());
            }
            self.collector
                .record_delayed(index, outcome, latency, which.delay);
            if status.is_some() {
                self.collector
                    .consider_slow(index, which.sighting(status, latency));
            }
            if !outcome.is_ok() {
                session.aborted = true;
                return;
            }
        }
        if !step.think_time.is_zero() {
            tokio::time::sleep(step.think_time).await;
        }
    }

    /// The `repeat`-th request of step `index` for `user`, rendered with its id, and the
    /// header values its answer must carry.
    fn prepare(&self, index: usize, user: usize, repeat: u32, session: &Session) -> Prepared<'_> {
        let step = &self.plan.steps[index];
        let ctx = session.context(user, &self.run);
        let expected_headers = step.expect_headers.iter().map(|(_, t)| t.render(&ctx)).collect();
        let mut request = self.build(index, &ctx);
        let request_id = self.request_ids.as_ref().and_then(|ids| {
            let at = Position {
                user,
                iteration: session.iterations.saturating_sub(1),
                step: index,
                repeat,
            };
            ids.add(&mut request.as_mut().ok()?.headers, at, step.repeat > 1)
        });
        Prepared {
            request,
            expected_headers,
            request_id,
        }
    }

    /// Nothing more to start: every slot is taken, or the run was stopped. Waits for the
    /// schedule's end (when Goose ends the run) or the stop in one sleep, rather than
    /// looking again every [`IDLE`]; past either, a pause of [`IDLE`] keeps the worker
    /// from spinning until Goose ends it.
    async fn rest(&self, pacer: &Pacer) {
        let until_end = pacer.end().saturating_sub(self.collector.elapsed());
        if until_end.is_zero() || self.stop.is_stopped() {
            tokio::time::sleep(IDLE).await;
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(until_end) => {}
            _ = self.stop.stopped() => {}
        }
    }

    /// Sleeps until `slot` is due; returns how late it is (zero when on time), or
    /// `None` when the run was stopped before it was.
    async fn wait_for(&self, slot: Slot) -> Option<Duration> {
        let now = self.collector.elapsed();
        if now <= slot.intended {
            return tokio::select! {
                _ = tokio::time::sleep(slot.intended - now) => Some(Duration::ZERO),
                _ = self.stop.stopped() => None,
            };
        }
        let lateness = now - slot.intended;
        if lateness > LATE {
            self.collector.late_start(lateness);
        }
        Some(lateness)
    }

    /// Step `index`'s request rendered in `ctx`; a failure for a header value that
    /// renders to something no header may carry.
    fn build(&self, index: usize, ctx: &Context<'_>) -> Result<Request<'_>, Failure> {
        let step = &self.plan.steps[index];
        let url = match self.static_urls.get(index).and_then(Option::as_ref) {
            Some(url) => Url::Static(url),
            None => {
                let base = base_url(step, &self.backend_url, self.frontend_url.as_deref());
                let mut url = String::with_capacity(base.len() + 48);
                url.push_str(base.trim_end_matches('/'));
                step.path.render_into(ctx, &mut url);
                Url::Rendered(url)
            }
        };
        let mut headers = HeaderMap::with_capacity(step.headers.len() + 3);
        for (name, template) in &step.headers {
            let value = HeaderValue::from_str(&template.render(ctx)).map_err(|_| {
                Failure::new(
                    FailureKind::Transport,
                    format!("the value of header {name} is not a header value"),
                )
            })?;
            headers.append(name.clone(), value);
        }
        let body = match &step.body {
            Some(Body::Json(template)) => {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                Some(render_json(template, ctx).to_string().into())
            }
            Some(Body::Raw(template)) => Some(template.render(ctx).into()),
            None => None,
        };
        Ok(Request {
            method: step.method.clone(),
            url,
            headers,
            body,
            timeout: self.plan.load.timeout,
        })
    }

    /// Sends and classifies; latency runs from send to the last byte of the body. A
    /// failure is also noted with what the server answered. Returns the outcome, the
    /// latency and the answer's status (`None`: no answer).
    async fn send(
        &self,
        which: Which<'_>,
        step: &Step,
        client: &mut Client<'_>,
        request: Result<Request<'_>, Failure>,
        expected_headers: &[String],
        session: &mut Session,
    ) -> (RequestOutcome, Duration, Option<u16>) {
        let started = Instant::now();
        let answer = match request {
            Ok(request) => client.send(request).await,
            Err(failure) => Err(failure),
        };
        let latency = started.elapsed();
        let response = match answer {
            Ok(response) => response,
            Err(failure) => {
                let (outcome, kind) = match failure.kind {
                    FailureKind::Timeout => (RequestOutcome::Timeout, "timeout"),
                    FailureKind::Connect => (RequestOutcome::Connect, "connect"),
                    FailureKind::Transport => (RequestOutcome::Transport, "transport"),
                };
                let sighting = which.sighting(None, latency);
                self.collector
                    .note_failure(which.step, kind, failure.message.as_bytes(), sighting);
                return (outcome, latency, None);
            }
        };
        let (status, headers, body) = (response.status, &response.headers, &response.body);
        let headers_hold = step
            .expect_headers
            .iter()
            .zip(expected_headers)
            .all(|((name, _), want)| headers.get(name).is_some_and(|v| v.as_bytes() == want.as_bytes()));
        let sighting = which.sighting(Some(status), latency);
        let mut outcome = RequestOutcome::of_status(status, &step.expect);
        if !outcome.is_ok() {
            self.collector
                .note_failure(which.step, &format!("status {status}"), body, sighting);
        } else if !headers_hold {
            outcome = RequestOutcome::Assertion;
            self.collector
                .note_failure(which.step, "expected header missing or different", body, sighting);
        } else if !step.captures.is_empty() && !capture(step, headers, body, &mut session.vars) {
            outcome = RequestOutcome::Capture;
            self.collector
                .note_failure(which.step, "capture not found", body, sighting);
        }
        (outcome, latency, Some(status))
    }
}

/// Stores every capture of `step` from the response's `headers` and `body` into `vars`;
/// false if one is missing. The body is parsed as JSON at most once, and only when a
/// capture needs it.
pub fn capture(step: &Step, headers: &HeaderMap, body: &[u8], vars: &mut [Option<String>]) -> bool {
    let mut json = None;
    step.captures.iter().all(|capture| {
        let value = match &capture.from {
            CaptureFrom::Pointer(pointer) => json
                .get_or_insert_with(|| serde_json::from_slice::<Value>(body).ok())
                .as_ref()
                .and_then(|json| json.pointer(pointer))
                .map(|value| match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                }),
            CaptureFrom::Pattern(pattern) => first_match(pattern, body),
            CaptureFrom::Header(name) => headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned),
            CaptureFrom::Cookie(name) => set_cookie(headers, name),
        };
        let found = value.is_some();
        vars[capture.var] = value;
        found
    })
}

/// The value of cookie `name` in the response's `Set-Cookie` headers.
fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|cookie| {
            let pair = cookie.split(';').next()?;
            let (key, value) = pair.split_once('=')?;
            (key.trim() == name).then(|| value.trim().to_owned())
        })
}

/// The first group of `pattern`'s first match in `body` (the whole match without groups).
fn first_match(pattern: &regex::Regex, body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let found = pattern.captures(text)?;
    found
        .get(1)
        .or_else(|| found.get(0))
        .map(|m| m.as_str().to_owned())
}

pub fn render_json(template: &JsonTemplate, ctx: &Context<'_>) -> Value {
    match template {
        JsonTemplate::Literal(value) => value.clone(),
        JsonTemplate::Text(text) => Value::String(text.render(ctx)),
        JsonTemplate::Array(items) => Value::Array(items.iter().map(|t| render_json(t, ctx)).collect()),
        JsonTemplate::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, t)| (k.clone(), render_json(t, ctx)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{LoadOverrides, Source};

    #[test]
    fn plain_paths_are_parsed_once_against_their_base() {
        let text = "name = \"n\"\n\
            [[steps]]\nname = \"health\"\npath = \"/api/health\"\n\
            [[steps]]\nname = \"home\"\ntarget = \"frontend\"\npath = \"/\"\n\
            [[steps]]\nname = \"provider\"\npath = \"/api/providers/{{user}}\"\n";
        let source = Source {
            origin: "t.toml".into(),
            text: text.into(),
            dir: None,
        };
        let plan = Plan::build(&source, &LoadOverrides::default(), &[]).unwrap();
        let urls = static_urls(&plan, "http://127.0.0.1:8080/", Some("http://127.0.0.1:3000"));
        let urls: Vec<Option<&str>> = urls
            .iter()
            .map(|u| u.as_ref().map(|u| u.parsed.as_str()))
            .collect();
        assert_eq!(
            urls,
            [
                Some("http://127.0.0.1:8080/api/health"),
                Some("http://127.0.0.1:3000/"),
                None
            ]
        );
        let without_frontend = static_urls(&plan, "http://127.0.0.1:8080", None);
        assert_eq!(
            without_frontend[1].as_ref().map(|u| u.text.as_str()),
            Some("http://127.0.0.1:8080/")
        );
    }
}
