//! Test support for crates that need a real store backend: a PostgreSQL 15 server owned by one
//! test (`initdb` as the `postgres` user when run as root, 127.0.0.1 on a free port, socket dir
//! in a temp dir, stopped by its pid on drop — also when a check fails). Built for this crate's
//! tests and, with the `testing` feature, for other crates' tests (the CLI's integration tests
//! run `flinkops serve` on it).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A PostgreSQL server owned by one test.
pub struct Postgres {
    dir: tempfile::TempDir,
    port: u16,
    child: Child,
}

fn as_postgres_user(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = PathBuf::from(PG_BIN);
        assert!(
            bin.join("initdb").is_file(),
            "PostgreSQL 15 is not installed ({PG_BIN}/initdb missing): `apt-get install -y postgresql` (.ci/run installs it)"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let sock = dir.path().join("sock");
        std::fs::create_dir_all(&sock).expect("socket dir");
        if is_root() {
            // The postgres user must reach and own its data and socket dirs.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
            let st = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()).status().expect("chown");
            assert!(st.success(), "chown to postgres failed");
        }
        let out = as_postgres_user(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", "flinkops", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"])
            .output()
            .expect("run initdb");
        assert!(out.status.success(), "initdb failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("postgres.log")).expect("log file");
        let child = as_postgres_user(&bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(&sock)
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-c", "fsync=off", "-c", "max_connections=50"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start postgres");
        let pg = Postgres { dir, port, child };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "PostgreSQL did not listen on {port}: {}", pg.log());
            std::thread::sleep(Duration::from_millis(100));
        }
        pg
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://flinkops@127.0.0.1:{}/{db}", self.port)
    }

    /// The postmaster's pid, from its pid file (the child may be `runuser`).
    fn postmaster_pid(&self) -> Option<String> {
        let pidfile = std::fs::read_to_string(self.dir.path().join("data/postmaster.pid")).ok()?;
        pidfile.lines().next().map(|l| l.trim().to_string()).filter(|p| p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty())
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // Fast shutdown of the postmaster by pid; then make sure our child is gone.
        if let Some(pid) = self.postmaster_pid() {
            let _ = Command::new("kill").args(["-INT", &pid]).status();
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
                _ => {
                    if let Some(pid) = self.postmaster_pid() {
                        let _ = Command::new("kill").args(["-KILL", &pid]).status();
                    }
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break;
                }
            }
        }
    }
}

