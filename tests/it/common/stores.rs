//! One real Postgres and one real Redis for the whole test binary, started on first
//! use. They run from a thread that lives as long as the process: the stack's
//! children get a parent-death signal tied to the thread that started them. Their
//! folder is removed when the process exits (nothing ever drops it, and a test process
//! each would otherwise leave a Postgres cluster behind in the temporary folder).

use std::path::PathBuf;
use std::sync::OnceLock;

use karigar_perf::stack::{create_database, LocalPostgres, LocalRedis};
use karigar_perf::stack::{postgres_bin_dir, redis_server_path};

pub struct Stores {
    pub pg_bin: PathBuf,
    pub pg_port: u16,
    pub redis_port: u16,
    pub redis_password: String,
}

pub fn stores() -> &'static Stores {
    static STORES: OnceLock<Stores> = OnceLock::new();
    STORES.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let dir = tempfile::tempdir().unwrap();
            remove_at_exit(dir.path());
            std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
            let pg_bin = postgres_bin_dir().expect("Postgres binaries (see README)");
            let redis_server = redis_server_path().expect("redis-server (see README)");
            let (postgres, redis) = runtime.block_on(async {
                let postgres = LocalPostgres::start(&pg_bin, dir.path(), dir.path())
                    .await
                    .expect("postgres starts");
                let redis = LocalRedis::start(&redis_server, dir.path(), dir.path())
                    .await
                    .expect("redis starts");
                (postgres, redis)
            });
            tx.send(Stores {
                pg_bin,
                pg_port: postgres.port,
                redis_port: redis.port,
                redis_password: redis.password.clone(),
            })
            .unwrap();
            // Keep the servers (and this thread) alive until the process ends.
            let _keep = (postgres, redis, dir);
            loop {
                std::thread::park();
            }
        });
        rx.recv().expect("stores started")
    })
}

/// The stores' folder, for [`remove_dir`].
static DIR: OnceLock<PathBuf> = OnceLock::new();

/// Removes `dir` when the process exits normally (every test passing or failing does).
fn remove_at_exit(dir: &std::path::Path) {
    if DIR.set(dir.to_path_buf()).is_ok() {
        // SAFETY: registers a function with no arguments that touches only a static.
        unsafe { libc::atexit(remove_dir) };
    }
}

extern "C" fn remove_dir() {
    if let Some(dir) = DIR.get() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

impl Stores {
    /// A new empty database, so tests never see each other's rows.
    pub fn fresh_database(&self) -> String {
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        create_database(&self.pg_bin, self.pg_port, &name).expect("createdb");
        name
    }

    pub fn database_url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.pg_port)
    }
}
