//! A private PostgreSQL cluster for one test: `initdb` into a fresh temporary folder (as the
//! `postgres` user when the tests run as root, since PostgreSQL refuses to run as root), a
//! server listening only on a Unix socket in that folder, stopped and removed on drop. A
//! missing PostgreSQL fails the test with what to install: it is never skipped.

use super::{PATIENCE, TempDir};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

/// The superuser the cluster is created with.
pub const PG_USER: &str = "cohort";

/// A running cluster; `url(db)` gives a connection URL for the cohort server.
pub struct PgCluster {
    bin: PathBuf,
    pub dir: TempDir,
    pub log: PathBuf,
    as_postgres: bool,
}

/// Where `initdb` and `pg_ctl` are: `$PG_BIN`, else the newest `/usr/lib/postgresql/*/bin`.
fn pg_bin() -> PathBuf {
    if let Ok(dir) = std::env::var("PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).filter(|p| p.join("initdb").exists()).collect()
        })
        .unwrap_or_default();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL is required by this test but initdb was not found: install the Debian package \
             `postgresql` (apt-get install postgresql) or set PG_BIN to the folder holding initdb and pg_ctl"
        )
    })
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

impl PgCluster {
    pub fn start() -> PgCluster {
        let bin = pg_bin();
        let dir = TempDir::new("pg");
        let as_postgres = is_root();
        if as_postgres {
            let ok = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()).status();
            assert!(ok.is_ok_and(|s| s.success()), "chown the cluster folder to postgres");
        }
        let cluster = PgCluster { bin, log: dir.path().join("postgres.log"), dir, as_postgres };
        let data = cluster.data();
        let out = cluster.run("initdb", &["-D", &data, "-U", PG_USER, "--auth=trust", "--no-sync", "-E", "UTF8"]);
        assert!(out.status.success(), "initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        // Every statement and its parameters go to the log, so a scan of the log sees all
        // the server ever sent to PostgreSQL. fsync stays on: durability is tested.
        let options = format!(
            "-k {} -c listen_addresses='' -c fsync=on -c synchronous_commit=on -c log_statement=all \
             -c log_parameter_max_length=-1 -c max_connections=200",
            cluster.dir.path().display()
        );
        let log = cluster.log.display().to_string();
        let out = cluster.run("pg_ctl", &["-D", &data, "-l", &log, "-o", &options, "-w", "-t", "120", "start"]);
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&cluster.log).unwrap_or_default()
        );
        let deadline = Instant::now() + PATIENCE;
        loop {
            match postgres::Client::connect(&cluster.url("postgres"), postgres::NoTls) {
                Ok(mut c) => {
                    c.batch_execute("CREATE DATABASE cohort").expect("create database");
                    break;
                }
                Err(e) => assert!(Instant::now() < deadline, "PostgreSQL never accepted connections: {e}"),
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        cluster
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, tool: &str, args: &[&str]) -> Output {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(args).current_dir(self.dir.path()).output().unwrap_or_else(|e| panic!("run {tool}: {e}"))
    }

    /// A URL for database `db` over the cluster's Unix socket.
    pub fn url(&self, db: &str) -> String {
        format!("postgresql://{PG_USER}@localhost/{db}?host={}", self.dir.path().display())
    }

    /// A client on the `cohort` database, for the tests' own queries.
    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url("cohort"), postgres::NoTls).expect("connect to the test cluster")
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Every row of every table in the `cohort` database, as text.
    pub fn dump(&self) -> String {
        let mut client = self.client();
        let tables = client
            .query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", &[])
            .expect("tables");
        let mut out = String::new();
        for t in tables {
            let name: String = t.get(0);
            for row in client.query(&format!("SELECT t::text FROM {name} t"), &[]).expect("rows") {
                out.push_str(&name);
                out.push(' ');
                out.push_str(&row.get::<_, String>(0));
                out.push('\n');
            }
        }
        out
    }

    #[allow(dead_code)]
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }
}
