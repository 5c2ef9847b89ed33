//! What a caller sees of the requests of the steps it watches: a drill logs each write
//! it sends and each that is acknowledged, to count later what a restore lost. The
//! engine calls a hook only for the steps it [`watches`](RequestHook::watches).

/// Told of each request of the steps it watches.
pub trait RequestHook: Send + Sync {
    /// Whether the requests of plan step `step` are told.
    fn watches(&self, step: usize) -> bool;
    /// Virtual user `user` is sending a request of a watched step, `at_s` seconds into
    /// the load.
    fn sent(&self, user: usize, at_s: f64);
    /// That request was answered as expected; `vars` are the user's variables after the
    /// step's captures.
    fn acknowledged(&self, user: usize, vars: &[Option<String>], at_s: f64);
}
