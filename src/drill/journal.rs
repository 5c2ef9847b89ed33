//! The harness's own log of acknowledged writes: each time a write step of a virtual
//! user got its 2xx, the value that identifies the write (an email, a refresh token)
//! and when the answer came. A drill later asks the store which of them it still has.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::load::RequestHook;

/// One acknowledged write.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ack {
    /// The virtual user that made it.
    pub user: usize,
    pub key: String,
    /// Seconds since the load started, when the request was sent and when the
    /// acknowledgement arrived.
    pub sent_s: f64,
    pub at_s: f64,
}

/// Which steps write, and which session variable names what they wrote.
pub struct Journal {
    steps: Vec<usize>,
    key_var: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    acks: Vec<Ack>,
    /// Per user, when each of its write requests was sent.
    sent: HashMap<usize, Vec<f64>>,
}

impl Journal {
    /// A journal of steps `steps` (plan indices) whose write is named by variable `key_var`.
    pub fn new(steps: Vec<usize>, key_var: usize) -> Self {
        Self {
            steps,
            key_var,
            inner: Mutex::default(),
        }
    }

    /// When the first write sent at or after `at_s` was acknowledged.
    pub fn first_acknowledged_after(&self, at_s: f64) -> Option<f64> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .acks
            .iter()
            .filter(|a| a.sent_s >= at_s)
            .map(|a| a.at_s)
            .reduce(f64::min)
    }

    /// Every acknowledged write, in the order the acknowledgements came.
    pub fn acks(&self) -> Vec<Ack> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).acks.clone()
    }

    /// Each user's last acknowledged write before `before_s`, and whether that user
    /// sent another before `before_s` that was not acknowledged by then (its fate is
    /// unknown: the store may have applied it, replacing what was acknowledged).
    pub fn held(&self, before_s: f64) -> Vec<(Ack, bool)> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut last: HashMap<usize, &Ack> = HashMap::new();
        for ack in inner.acks.iter().filter(|a| a.at_s < before_s) {
            last.insert(ack.user, ack);
        }
        let mut held: Vec<(Ack, bool)> = last
            .into_values()
            .map(|ack| {
                let in_doubt = inner
                    .sent
                    .get(&ack.user)
                    .is_some_and(|sent| sent.iter().any(|&s| s > ack.sent_s && s < before_s));
                (ack.clone(), in_doubt)
            })
            .collect();
        held.sort_by_key(|(ack, _)| ack.user);
        held
    }
}

/// The load tells the journal of each write step's requests.
impl RequestHook for Journal {
    /// Whether plan step `step` is one of the writes.
    fn watches(&self, step: usize) -> bool {
        self.steps.contains(&step)
    }

    /// User `user` is sending a write at `at_s`.
    fn sent(&self, user: usize, at_s: f64) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.sent.entry(user).or_default().push(at_s);
    }

    /// User `user`'s write was acknowledged at `at_s`; its key is read from `vars`
    /// (after the step's captures).
    fn acknowledged(&self, user: usize, vars: &[Option<String>], at_s: f64) {
        let Some(key) = vars.get(self.key_var).cloned().flatten() else {
            return;
        };
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let sent_s = inner
            .sent
            .get(&user)
            .and_then(|s| s.last())
            .copied()
            .unwrap_or(at_s);
        inner.acks.push(Ack {
            user,
            key,
            sent_s,
            at_s,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(key: &str) -> Vec<Option<String>> {
        vec![None, Some(key.to_owned())]
    }

    #[test]
    fn each_user_holds_its_last_acknowledged_write_and_an_unanswered_one_is_in_doubt() {
        let journal = Journal::new(vec![0, 2], 1);
        assert!(journal.watches(2) && !journal.watches(1));
        journal.sent(1, 0.5);
        journal.acknowledged(1, &vars("a1"), 0.6);
        journal.sent(2, 0.7);
        journal.acknowledged(2, &vars("b1"), 0.8);
        journal.sent(1, 1.0);
        journal.acknowledged(1, &vars("a2"), 1.1);
        journal.sent(2, 1.2);
        journal.acknowledged(1, &[None, None], 1.3);
        let held = journal.held(5.0);
        assert_eq!(held.len(), 2);
        assert_eq!((held[0].0.key.as_str(), held[0].1), ("a2", false));
        assert_eq!((held[1].0.key.as_str(), held[1].1), ("b1", true));
        assert_eq!(journal.held(1.0)[0].0.key, "a1");
        assert!(
            !journal.held(1.15)[1].1,
            "user 2's second write was sent after 1.15 s"
        );
        assert_eq!(journal.acks().len(), 3, "a write without its key is not logged");
        assert_eq!(journal.acks()[2].sent_s, 1.0);
        assert_eq!(journal.first_acknowledged_after(0.9), Some(1.1));
        assert_eq!(journal.first_acknowledged_after(1.2), None);
    }
}
