//! A virtual user's state between steps: its variables and where it is in the
//! current iteration. Stored in Goose's session data.

use crate::scenario::Context;
use crate::scenario::Plan;

#[derive(Clone, Debug, Default)]
pub struct Session {
    /// Values of the plan's variables, by index.
    pub vars: Vec<Option<String>>,
    /// Iterations begun so far.
    pub iterations: u64,
    /// An earlier step of this iteration failed: the rest are skipped.
    pub aborted: bool,
    /// Open model: how late this iteration began (`None`: no slot, the schedule ended).
    pub delay: Option<std::time::Duration>,
    /// This user's own client, when the run's HTTP settings make the clients and each
    /// user has one (`--clients per-user`).
    pub client: Option<reqwest::Client>,
    /// This user's own connections, when the load sends plain HTTP/1.1 on them.
    pub connections: crate::transport::Connections,
}

/// Run-wide values every render needs.
pub struct RunContext {
    pub run_tag: String,
    pub sequence: std::sync::atomic::AtomicU64,
}

impl Session {
    /// Starts an iteration: clears captures, evaluates `[vars]` afresh and draws a row
    /// from every pool.
    pub fn begin_iteration(&mut self, plan: &Plan, user: usize, run: &RunContext) {
        self.vars.clear();
        self.vars.resize(plan.var_names.len(), None);
        self.aborted = false;
        // Counted first, so that `{{iteration}}` in `[vars]` names this iteration.
        self.iterations += 1;
        for (index, template) in &plan.iteration_vars {
            let value = template.render(&self.context(user, run));
            self.vars[*index] = Some(value);
        }
        for pool in &plan.pools {
            for (var, value) in pool.vars.iter().zip(pool.row(user)) {
                self.vars[*var] = Some(value.clone());
            }
        }
    }

    pub fn context<'a>(&'a self, user: usize, run: &'a RunContext) -> Context<'a> {
        Context {
            vars: &self.vars,
            user,
            iteration: self.iterations.saturating_sub(1),
            run_tag: &run.run_tag,
            sequence: &run.sequence,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{LoadOverrides, Source};

    #[test]
    fn each_iteration_renders_its_own_number() {
        let text =
            "name = \"n\"\n[vars]\nclient = \"c{{iteration}}\"\n[[steps]]\nname = \"s\"\npath = \"/\"\n";
        let source = Source {
            origin: "t.toml".into(),
            text: text.into(),
            dir: None,
        };
        let plan = Plan::build(&source, &LoadOverrides::default(), &[]).unwrap();
        let run = RunContext {
            run_tag: "t".into(),
            sequence: Default::default(),
        };
        let mut session = Session::default();
        let mut seen = Vec::new();
        for _ in 0..3 {
            session.begin_iteration(&plan, 0, &run);
            seen.push(session.vars[0].clone().unwrap());
        }
        assert_eq!(seen, ["c0", "c1", "c2"]);
    }
}
