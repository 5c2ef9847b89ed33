//! Ctrl-C and SIGTERM: the first stops the command's [`Stop`] (every load under it ends,
//! the stack is torn down and a partial report written as on any other ending); a
//! second one exits at once.
//!
//! SIGINT is taken through the `ctrlc` crate, whose handler a process holds once:
//! taking it first leaves Goose's own handler (which would only pull its killswitch,
//! unseen by us) uninstalled, so a Ctrl-C reaches us at any phase of a run. SIGTERM is
//! ours through tokio.

use tokio::signal::unix::{signal, SignalKind};

use crate::stop::{Stop, StopReason};

#[derive(Clone)]
pub struct Interrupt {
    stop: Stop,
}

impl Interrupt {
    /// Starts listening for SIGINT and SIGTERM.
    pub fn listen() -> std::io::Result<Self> {
        let stop = Stop::new();
        let on_sigint = stop.clone();
        ctrlc::set_handler(move || received(&on_sigint, "SIGINT")).map_err(std::io::Error::other)?;
        let mut sigterm = signal(SignalKind::terminate())?;
        let on_sigterm = stop.clone();
        tokio::spawn(async move {
            while sigterm.recv().await.is_some() {
                received(&on_sigterm, "SIGTERM");
            }
        });
        Ok(Self { stop })
    }

    pub fn fired(&self) -> bool {
        self.stop.is_stopped()
    }

    /// Completes once a signal has arrived.
    pub async fn wait(&self) {
        self.stop.stopped().await
    }

    /// A stop for one load: a signal stops it, and so can the load's own reasons (an
    /// SLO's abort, the coordinator, a drill) without ending the command.
    pub fn load_stop(&self) -> Stop {
        self.stop.child()
    }
}

/// The first signal stops the command; a second one, while it still tears down,
/// exits at once.
fn received(stop: &Stop, name: &'static str) {
    if stop.stop(StopReason::Signal(name)) {
        eprintln!("\n{name} received: stopping the load, tearing the stack down");
        return;
    }
    eprintln!("\n{name} received again: exiting at once, without tearing down");
    std::process::exit(i32::from(crate::exit::INTERRUPTED));
}
