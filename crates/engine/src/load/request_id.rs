//! Each request's id, readable and unique in the run: `RUNTAG[-gN]-uUSER-iITERATION-STEP`
//! (`.K` for the K-th request of a repeated step), in a header the server logs (the
//! seed's backend logs `x-request-id` as `request_id`), beside a W3C `traceparent` whose
//! trace is the iteration and whose span is the request: a slow or failed request is
//! then one search away in the server's logs or traces.

use std::hash::{DefaultHasher, Hash, Hasher};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::scenario::Plan;

/// W3C Trace Context's header.
const TRACEPARENT: &str = "traceparent";

/// What every request's id is made of that is the same for the whole run.
pub struct RequestIds {
    header: HeaderName,
    /// `RUNTAG` or `RUNTAG-gN`.
    prefix: String,
    /// The prefix hashed once: the seed of every trace and span id.
    seed: u64,
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
            seed: hash(&prefix),
            prefix,
        }
    }

    /// The id of the request at `at`, e.g. `k3f9a2qz-u12-i3-register`.
    pub fn id(&self, at: Position, repeated: bool) -> String {
        let step = &self.steps[at.step];
        let mut id = String::with_capacity(self.prefix.len() + step.len() + 48);
        id.push_str(&self.prefix);
        id.push_str("-u");
        push_decimal(&mut id, at.user as u64);
        id.push_str("-i");
        push_decimal(&mut id, at.iteration);
        id.push('-');
        id.push_str(step);
        if repeated {
            id.push('.');
            push_decimal(&mut id, u64::from(at.repeat) + 1);
        }
        id
    }

    /// Adds the request's id and `traceparent` to its `headers`, unless the step sends a
    /// header of that name itself; and returns the id.
    pub fn add(&self, headers: &mut HeaderMap, at: Position, repeated: bool) -> Option<String> {
        if self.own_header[at.step] {
            return None;
        }
        let id = self.id(at, repeated);
        let value = HeaderValue::from_str(&id).ok()?;
        headers.insert(self.header.clone(), value);
        headers.insert(TRACEPARENT, traceparent_value(&self.traceparent(at)));
        Some(id)
    }

    /// `00-TRACE-SPAN-01`: one trace per iteration of a user, one span per request,
    /// both derived from the id's parts (never all zeros, as the format requires).
    pub fn traceparent(&self, at: Position) -> [u8; 55] {
        let iteration = mix(self.seed ^ mix(at.user as u64) ^ mix(at.iteration).rotate_left(32));
        let trace = [mix(iteration ^ 1), mix(iteration ^ 2) | 1];
        let span = mix(iteration ^ mix(((at.step as u64) << 32) | u64::from(at.repeat)) ^ 3) | 1;
        let mut text = *b"00-00000000000000000000000000000000-0000000000000000-01";
        write_hex(&mut text[3..19], trace[0]);
        write_hex(&mut text[19..35], trace[1]);
        write_hex(&mut text[36..52], span);
        text
    }
}

/// A `traceparent`'s text as a header value (hex digits and dashes: always valid).
fn traceparent_value(text: &[u8; 55]) -> HeaderValue {
    HeaderValue::from_bytes(text).expect("hex digits and dashes")
}

/// `value` in 16 lower-case hex digits into `out`.
fn write_hex(out: &mut [u8], value: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = DIGITS[((value >> (60 - 4 * i)) & 0xf) as usize];
    }
}

/// `value` in decimal at the end of `out`, without the formatting machinery (this runs
/// for every request).
fn push_decimal(out: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend(digits[start..].iter().map(|&d| d as char));
}

/// SplitMix64's finaliser: a cheap, well-spread 64-bit mix, the same in every process.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A fixed hash (the same in every process of a run, unlike a seeded one), once per run.
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
        assert_eq!(
            alone.id(at(10_000, u64::MAX, 0, 0), false),
            format!("k3f9a2qz-u10000-i{}-log_in", u64::MAX)
        );
    }

    #[test]
    fn a_request_carries_its_id_and_traceparent_unless_the_step_sets_the_header() {
        let header = HeaderName::from_static("x-request-id");
        let ids = RequestIds::new(&plan(), header, "run", None);
        let mut headers = HeaderMap::new();
        let id = ids.add(&mut headers, at(1, 2, 0, 0), false);
        assert_eq!(id.as_deref(), Some("run-u1-i2-log_in"));
        assert_eq!(headers["x-request-id"], "run-u1-i2-log_in");
        let traceparent = headers["traceparent"].to_str().unwrap().to_owned();
        assert_eq!(traceparent.as_bytes(), ids.traceparent(at(1, 2, 0, 0)));
        let parts: Vec<&str> = traceparent.split('-').collect();
        assert_eq!(
            (parts[0], parts[1].len(), parts[2].len(), parts[3]),
            ("00", 32, 16, "01")
        );
        // The same iteration is one trace; each request its own span.
        let traceparent = traceparent.as_bytes();
        let next = ids.traceparent(at(1, 2, 1, 0));
        assert_eq!(next[..35], traceparent[..35]);
        assert_ne!(next[36..52], traceparent[36..52]);
        assert_ne!(ids.traceparent(at(1, 3, 0, 0))[..35], traceparent[..35]);
        assert_ne!(ids.traceparent(at(2, 2, 0, 0))[..35], traceparent[..35]);

        let mut headers = HeaderMap::new();
        let id = ids.add(&mut headers, at(1, 2, 1, 0), false);
        assert_eq!(id, None);
        // The step's own value is added with its other headers; none of ours is.
        assert!(headers.is_empty());
    }
}
