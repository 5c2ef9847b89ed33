//! Ctrl-C and SIGTERM: both stop the load (through Goose's killswitch), after which
//! the stack is torn down and a partial report written as on any other ending.
//!
//! Before the load starts we listen for both signals ourselves. Once Goose runs, it
//! installs its own Ctrl-C handler (which pulls the same killswitch, and exits at
//! once on a second Ctrl-C); SIGTERM stays ours throughout.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::Notify;

#[derive(Clone)]
pub struct Interrupt {
    fired: Arc<AtomicBool>,
    notify: Arc<Notify>,
}

impl Interrupt {
    /// Starts listening for SIGINT and SIGTERM.
    pub fn listen() -> std::io::Result<Self> {
        let interrupt = Self {
            fired: Arc::new(AtomicBool::new(false)),
            notify: Arc::new(Notify::new()),
        };
        let mut sigint = signal(SignalKind::interrupt())?;
        let mut sigterm = signal(SignalKind::terminate())?;
        let handle = interrupt.clone();
        tokio::spawn(async move {
            loop {
                let name = tokio::select! {
                    _ = sigint.recv() => "SIGINT",
                    _ = sigterm.recv() => "SIGTERM",
                };
                eprintln!("\n{name} received: stopping the load, tearing the stack down");
                handle.fired.store(true, Ordering::SeqCst);
                handle.notify.notify_waiters();
                goose::trigger_killswitch(name);
            }
        });
        Ok(interrupt)
    }

    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }

    /// Completes once a signal has arrived while a load runs: ours, or Goose's
    /// Ctrl-C, which only pulls the killswitch (nothing else of the caller's may pull
    /// it meanwhile).
    pub async fn wait_during_load(&self) {
        while !self.fired() {
            if goose::is_killswitch_triggered() {
                self.fired.store(true, Ordering::SeqCst);
                return;
            }
            tokio::select! {
                _ = self.notify.notified() => {}
                _ = tokio::time::sleep(std::time::Duration::from_millis(100)) => {}
            }
        }
    }

    /// Completes once a signal has arrived.
    pub async fn wait(&self) {
        let notified = self.notify.notified();
        if self.fired() {
            return;
        }
        notified.await;
    }
}
