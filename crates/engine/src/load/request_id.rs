//! Each request's id, readable and unique in the run: `RUNTAG[-gN]-uUSER-iITERATION-STEP`
//! (`.K` for the K-th request of a repeated step), in a header the server logs (the
//! seed's backend logs `x-request-id` as `request_id`), beside a W3C `traceparent` whose
//! trace is the iteration and whose span is the request: a slow or failed request is
//! then one search away in the server's logs or traces.

use std::fmt::Write as _;
use std::hash::{DefaultHasher, Hash, Hasher};

use reqwest::header::{HeaderName, HeaderValue};

use crate::scenario::Plan;

/// W3C Trace Context's header.
const TRACEPARENT: &str = "traceparent";

/// What every request's id is made of that is the same for the whole run.
pub struct RequestIds {
    header: HeaderName,
    /// `RUNTAG` or `RUNTAG-gN`.
    prefix: String,
    /// Each step's name (letters, digits, `_` and `-`: a header value as it is).
    steps: Vec<String>,
    /// Steps that set the header themselves: theirs is sent, not ours.
    own_header: Vec<bool>,
}

/// Where one request is in the run.
#[derive(Clone, Copy, Debug)]
pub struct Position {
    pub user: usize,
    pub iteration: u64,
    pub step: usize,
    /// Which request of a repeated step, from 0.
    pub repeat: u32,
}

impl RequestIds {
    /// Ids for `plan`'s steps in `header`; `generator` numbers this generator of a run
    /// on several.
    pub fn new(plan: &Plan, header: HeaderName, run_tag: &str, generator: Option<usize>) -> Self {
        let prefix = match generator {
            Some(index) => format!("{run_tag}-g{index}"),
            None => run_tag.to_owned(),
        };
        Self {
            steps: plan.steps.iter().map(|s| s.name.clone()).collect(),
            own_header: plan
                .steps
                .iter()
                .map(|s| s.headers.iter().any(|(name, _)| *name == header))
                .collect(),
            header,
            prefix,
        }
    }

    /// The id of the request at `at`, e.g. `k3f9a2qz-u12-i3-register`.
    pub fn id(&self, at: Position, repeated: bool) -> String {
        let mut id = String::with_capacity(self.prefix.len() + 40);
        let _ = write!(
            id,
            "{}-u{}-i{}-{}",
            self.prefix, at.user, at.iteration, self.steps[at.step]
        );
        if repeated {
            let _ = write!(id, ".{}", at.repeat + 1);
        }
        id
    }

    /// `request` with the id and its `traceparent`, unless the step sends a header of
    /// that name itself.
    pub fn add(
        &self,
        request: reqwest::RequestBuilder,
        at: Position,
        repeated: bool,
    ) -> reqwest::RequestBuilder {
        if self.own_header[at.step] {
            return request;
        }
        match HeaderValue::from_str(&self.id(at, repeated)) {
            Ok(id) => request
                .header(self.header.clone(), id)
                .header(TRACEPARENT, self.traceparent(at)),
            Err(_) => request,
        }
    }

    /// `00-TRACE-SPAN-01`: one trace per iteration of a user, one span per request,
    /// both derived from the id's parts (never all zeros, as the format requires).
    pub fn traceparent(&self, at: Position) -> String {
        let trace = (
            hash(&(&self.prefix, at.user, at.iteration, 1u8)),
            hash(&(&self.prefix, at.user, at.iteration, 2u8)),
        );
        let span = hash(&(&self.prefix, at.user, at.iteration, at.step, at.repeat)) | 1;
        format!("00-{:016x}{:016x}-{span:016x}-01", trace.0, trace.1 | 1)
    }
}

/// A fixed hash (the same in every process of a run, unlike a seeded one).
fn hash(value: &impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{LoadOverrides, Source};

    fn plan() -> Plan {
        let text = "name = \"ids\"\n[[steps]]\nname = \"log_in\"\npath = \"/login\"\n\
                    [[steps]]\nname = \"own\"\npath = \"/own\"\nheaders = { \"X-Request-ID\" = \"mine\" }\n";
        let source = Source {
            origin: "ids.toml".into(),
            text: text.into(),
            dir: None,
        };
        Plan::build(&source, &LoadOverrides::default(), &[]).unwrap()
    }

    fn at(user: usize, iteration: u64, step: usize, repeat: u32) -> Position {
        Position {
            user,
            iteration,
            step,
            repeat,
        }
    }

    #[test]
    fn ids_name_the_run_generator_user_iteration_and_step() {
        let header = HeaderName::from_static("x-request-id");
        let ids = RequestIds::new(&plan(), header.clone(), "k3f9a2qz", Some(2));
        assert_eq!(ids.id(at(12, 3, 0, 0), false), "k3f9a2qz-g2-u12-i3-log_in");
        assert_eq!(ids.id(at(12, 3, 0, 1), true), "k3f9a2qz-g2-u12-i3-log_in.2");
        let alone = RequestIds::new(&plan(), header, "k3f9a2qz", None);
        assert_eq!(alone.id(at(0, 0, 0, 0), false), "k3f9a2qz-u0-i0-log_in");
    }

    #[test]
    fn a_request_carries_its_id_and_traceparent_unless_the_step_sets_the_header() {
        let header = HeaderName::from_static("x-request-id");
        let ids = RequestIds::new(&plan(), header, "run", None);
        let client = reqwest::Client::new();
        let request = ids.add(client.get("http://127.0.0.1:9/login"), at(1, 2, 0, 0), false);
        let request = request.build().unwrap();
        assert_eq!(request.headers()["x-request-id"], "run-u1-i2-log_in");
        let traceparent = request.headers()["traceparent"].to_str().unwrap().to_owned();
        let parts: Vec<&str> = traceparent.split('-').collect();
        assert_eq!(
            (parts[0], parts[1].len(), parts[2].len(), parts[3]),
            ("00", 32, 16, "01")
        );
        // The same iteration is one trace; each request its own span.
        let next = ids.traceparent(at(1, 2, 1, 0));
        assert_eq!(next[..35], traceparent[..35]);
        assert_ne!(next[36..52], traceparent[36..52]);
        assert_ne!(ids.traceparent(at(1, 3, 0, 0))[..35], traceparent[..35]);

        let request = ids.add(client.get("http://127.0.0.1:9/own"), at(1, 2, 1, 0), false);
        let request = request.build().unwrap();
        // The step's own value is added with its other headers; none of ours is.
        assert!(request.headers().get("x-request-id").is_none());
        assert!(request.headers().get("traceparent").is_none());
    }
}
