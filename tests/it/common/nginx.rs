//! Debian's nginx run by a test with a configuration of its own, in its own folder:
//! started in the foreground, waited for on its ports, stopped with the test.

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A whole `nginx.conf` for a test's nginx in `dir`: one worker, its logs, pid and
/// temporary files in `dir`, and `http` (the `http` block's own directives and servers).
pub fn config(dir: &Path, http: &str) -> String {
    let dir = dir.display();
    format!(
        "user root;\nworker_processes 1;\nerror_log {dir}/error.log;\npid {dir}/nginx.pid;\n\
         events {{ worker_connections 256; }}\nhttp {{\n  access_log off;\n\
         \x20 client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy;\n\
         \x20 fastcgi_temp_path {dir}/fastcgi; uwsgi_temp_path {dir}/uwsgi; scgi_temp_path {dir}/scgi;\n\
         {http}}}\n"
    )
}

/// An nginx master process, stopped (SIGQUIT) when dropped.
pub struct Nginx {
    child: Child,
}

impl Nginx {
    /// nginx with `config` (`nginx.conf` written into `dir`, its prefix), once it
    /// listens on every one of `ports`.
    pub fn start(dir: &Path, config: &str, ports: &[u16]) -> Self {
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, config).unwrap();
        let child = Command::new("/usr/sbin/nginx")
            .args([
                "-p",
                &dir.display().to_string(),
                "-c",
                &conf.display().to_string(),
            ])
            .args(["-g", "daemon off;"])
            .spawn()
            .expect("nginx runs (Debian: apt-get install nginx-light)");
        let mut nginx = Self { child };
        nginx.wait_listening(ports);
        nginx
    }

    fn wait_listening(&mut self, ports: &[u16]) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("nginx exited ({status}) before it listened");
            }
            let up = ports
                .iter()
                .all(|port| std::net::TcpStream::connect(("127.0.0.1", *port)).is_ok());
            if up {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("nginx did not listen on {ports:?}");
    }
}

impl Drop for Nginx {
    /// SIGQUIT: the master stops its workers, then itself (a SIGKILL would orphan them).
    fn drop(&mut self) {
        // SAFETY: signalling our own child, which has not been reaped.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGQUIT);
        }
        let _ = self.child.wait();
    }
}
