//! `{{...}}` templates, compiled once against the scenario's variable table so that
//! rendering on the hot path is a walk over segments with no lookups by name.
//!
//! A placeholder is a variable (`{{email}}`, from `[vars]` or a capture) or one of
//! the built-in functions listed in [`FUNCTIONS`].

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use rand::distributions::{Alphanumeric, DistString};
use rand::Rng;

/// Built-in placeholders, as users write them.
pub(super) const FUNCTIONS: &str =
    "unique_email, uuid, random_alnum(N), random_int(MIN,MAX), random_choice(A|B|...), user, iteration, run_id";

/// A compiled template string.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    segments: Vec<Segment>,
}

#[derive(Clone, Debug, PartialEq)]
enum Segment {
    Literal(String),
    Var(usize),
    Func(Func),
}

#[derive(Clone, Debug, PartialEq)]
enum Func {
    UniqueEmail,
    Uuid,
    RandomAlnum(usize),
    RandomInt(i64, i64),
    RandomChoice(Vec<String>),
    User,
    Iteration,
    RunId,
}

/// What a render needs beyond the template: the virtual user's state and the run's.
pub struct Context<'a> {
    /// Values of the variable table, by index; `None` until set.
    pub vars: &'a [Option<String>],
    /// The virtual user's number (from 0).
    pub user: usize,
    /// The user's iteration of the scenario (from 0).
    pub iteration: u64,
    /// Short id of the run, part of every unique value.
    pub run_tag: &'a str,
    /// Run-wide counter behind `unique_email`.
    pub sequence: &'a AtomicU64,
}

impl Template {
    /// Compiles `text`, resolving variable names with `lookup`.
    pub fn compile(text: &str, lookup: impl Fn(&str) -> Option<usize>) -> Result<Self, String> {
        let mut segments = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            push_literal(&mut segments, &rest[..open]);
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("unclosed `{{{{` in {text:?}"))?;
            segments.push(placeholder(after[..close].trim(), &lookup)?);
            rest = &after[close + 2..];
        }
        push_literal(&mut segments, rest);
        Ok(Self { segments })
    }

    /// A template that is only text.
    pub fn literal(text: &str) -> Self {
        let mut segments = Vec::new();
        push_literal(&mut segments, text);
        Self { segments }
    }

    /// Variables this template reads, by index.
    pub fn vars(&self) -> impl Iterator<Item = usize> + '_ {
        self.segments.iter().filter_map(|s| match s {
            Segment::Var(i) => Some(*i),
            _ => None,
        })
    }

    /// The text of a template without placeholders, which renders the same every time.
    pub fn as_literal(&self) -> Option<&str> {
        match self.segments.as_slice() {
            [] => Some(""),
            [Segment::Literal(text)] => Some(text),
            _ => None,
        }
    }

    /// The template as a pattern: its literal parts through `literal` (an escaper),
    /// each placeholder as `placeholder` (what any rendered value matches).
    pub fn pattern(&self, literal: impl Fn(&str) -> String, placeholder: &str) -> String {
        self.segments
            .iter()
            .map(|segment| match segment {
                Segment::Literal(text) => literal(text),
                Segment::Var(_) | Segment::Func(_) => placeholder.to_owned(),
            })
            .collect()
    }

    pub fn render(&self, ctx: &Context<'_>) -> String {
        let mut out = String::new();
        self.render_into(ctx, &mut out);
        out
    }

    pub fn render_into(&self, ctx: &Context<'_>, out: &mut String) {
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => out.push_str(text),
                Segment::Var(i) => out.push_str(ctx.vars.get(*i).and_then(|v| v.as_deref()).unwrap_or("")),
                Segment::Func(func) => func.render(ctx, out),
            }
        }
    }
}

fn push_literal(segments: &mut Vec<Segment>, text: &str) {
    if !text.is_empty() {
        segments.push(Segment::Literal(text.to_owned()));
    }
}

fn placeholder(inner: &str, lookup: &impl Fn(&str) -> Option<usize>) -> Result<Segment, String> {
    if let Some(func) = Func::parse(inner)? {
        return Ok(Segment::Func(func));
    }
    lookup(inner).map(Segment::Var).ok_or_else(|| {
        format!("unknown placeholder {{{{{inner}}}}}: not a variable defined before this point, nor one of {FUNCTIONS}")
    })
}

impl Func {
    /// `Ok(None)` when `inner` is not a function name (it may be a variable).
    fn parse(inner: &str) -> Result<Option<Self>, String> {
        let (name, args) = match inner.split_once('(') {
            Some((name, rest)) => {
                let args = rest
                    .strip_suffix(')')
                    .ok_or_else(|| format!("missing `)` in {{{{{inner}}}}}"))?;
                (name.trim(), Some(args))
            }
            None => (inner, None),
        };
        let func = match (name, args) {
            ("unique_email", None) => Self::UniqueEmail,
            ("uuid", None) => Self::Uuid,
            ("user", None) => Self::User,
            ("iteration", None) => Self::Iteration,
            ("run_id", None) => Self::RunId,
            ("random_alnum", Some(args)) => Self::RandomAlnum(number(inner, args)?),
            ("random_int", Some(args)) => {
                let (min, max) = args
                    .split_once(',')
                    .ok_or_else(|| format!("{{{{{inner}}}}} takes two numbers: random_int(MIN,MAX)"))?;
                let (min, max): (i64, i64) = (number(inner, min)?, number(inner, max)?);
                if min > max {
                    return Err(format!("{{{{{inner}}}}}: MIN is greater than MAX"));
                }
                Self::RandomInt(min, max)
            }
            ("random_choice", Some(args)) => {
                let choices: Vec<String> = args.split('|').map(|c| c.trim().to_owned()).collect();
                if choices.iter().any(String::is_empty) {
                    return Err(format!(
                        "{{{{{inner}}}}}: random_choice takes non-empty choices split by |"
                    ));
                }
                Self::RandomChoice(choices)
            }
            ("unique_email" | "uuid" | "user" | "iteration" | "run_id", Some(_)) => {
                return Err(format!("{{{{{inner}}}}}: {name} takes no arguments"))
            }
            ("random_alnum" | "random_int" | "random_choice", None) => {
                return Err(format!("{{{{{inner}}}}}: {name} needs arguments"))
            }
            (_, Some(_)) => return Err(format!("unknown function in {{{{{inner}}}}}; known: {FUNCTIONS}")),
            (_, None) => return Ok(None),
        };
        Ok(Some(func))
    }

    fn render(&self, ctx: &Context<'_>, out: &mut String) {
        match self {
            Self::UniqueEmail => {
                let n = ctx.sequence.fetch_add(1, Ordering::Relaxed);
                let _ = write!(out, "kp-{}-{}-{n}@loadtest.example.com", ctx.run_tag, ctx.user);
            }
            Self::Uuid => {
                let _ = write!(out, "{}", uuid::Uuid::new_v4());
            }
            Self::RandomAlnum(len) => Alphanumeric.append_string(&mut rand::thread_rng(), out, *len),
            Self::RandomInt(min, max) => {
                let _ = write!(out, "{}", rand::thread_rng().gen_range(*min..=*max));
            }
            Self::RandomChoice(choices) => {
                out.push_str(&choices[rand::thread_rng().gen_range(0..choices.len())])
            }
            Self::User => {
                let _ = write!(out, "{}", ctx.user);
            }
            Self::Iteration => {
                let _ = write!(out, "{}", ctx.iteration);
            }
            Self::RunId => out.push_str(ctx.run_tag),
        }
    }
}

fn number<T: std::str::FromStr>(inner: &str, text: &str) -> Result<T, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{{{{{inner}}}}}: {:?} is not a valid number", text.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(text: &str) -> Result<Template, String> {
        Template::compile(text, |name| ["token", "email"].iter().position(|v| *v == name))
    }

    fn render(t: &Template, vars: &[Option<String>]) -> String {
        let sequence = AtomicU64::new(7);
        let ctx = Context {
            vars,
            user: 3,
            iteration: 9,
            run_tag: "abcd",
            sequence: &sequence,
        };
        t.render(&ctx)
    }

    #[test]
    fn variables_and_literals_render_in_order() {
        let t = compile("Bearer {{ token }}!").unwrap();
        assert_eq!(render(&t, &[Some("xyz".into()), None]), "Bearer xyz!");
        assert_eq!(t.vars().collect::<Vec<_>>(), vec![0]);
    }

    #[test]
    fn only_text_is_a_literal() {
        assert_eq!(compile("/api/health").unwrap().as_literal(), Some("/api/health"));
        assert_eq!(compile("").unwrap().as_literal(), Some(""));
        assert_eq!(compile("/api/{{user}}").unwrap().as_literal(), None);
        assert_eq!(compile("{{email}}").unwrap().as_literal(), None);
    }

    #[test]
    fn functions_render_fresh_values() {
        let t = compile("{{unique_email}}|{{user}}|{{iteration}}|{{random_alnum(5)}}|{{random_int(4,4)}}")
            .unwrap();
        let out = render(&t, &[]);
        let parts: Vec<&str> = out.split('|').collect();
        assert_eq!(parts[0], "kp-abcd-3-7@loadtest.example.com");
        assert_eq!(&parts[1..3], ["3", "9"]);
        assert_eq!(parts[3].len(), 5);
        assert!(parts[3].chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(parts[4], "4");
    }

    #[test]
    fn random_choice_picks_one_of_its_choices() {
        let t = compile("{{random_choice(plumbing | cleaning)}}").unwrap();
        for _ in 0..20 {
            assert!(["plumbing", "cleaning"].contains(&render(&t, &[]).as_str()));
        }
        assert!(compile("{{random_choice(a||b)}}")
            .unwrap_err()
            .contains("non-empty"));
    }

    #[test]
    fn mistakes_are_explained() {
        assert!(compile("{{tokn}}")
            .unwrap_err()
            .contains("unknown placeholder {{tokn}}"));
        assert!(compile("{{token").unwrap_err().contains("unclosed"));
        assert!(compile("{{random_int(5,1)}}")
            .unwrap_err()
            .contains("MIN is greater"));
        assert!(compile("{{random_alnum(x)}}")
            .unwrap_err()
            .contains("not a valid number"));
        assert!(compile("{{nope(1)}}").unwrap_err().contains("unknown function"));
    }
}
