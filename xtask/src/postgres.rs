//! A throwaway PostgreSQL cluster on loopback for the audit tests: `initdb` into a temporary
//! directory, `pg_ctl start` on a free port with trust auth for local connections only, and
//! `pg_ctl stop` when dropped. As root (CI), the server runs as the `postgres` system user, since
//! PostgreSQL refuses to run as root.

use std::path::PathBuf;
use std::process::Command;

pub struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    as_user: Option<&'static str>,
    pub url: String,
}

fn server_bin() -> Result<PathBuf, String> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| "PostgreSQL is not installed (apt-get install postgresql)".to_owned())?
        .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
        .filter(|bin| bin.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .ok_or_else(|| "no pg_ctl under /usr/lib/postgresql/*/bin".to_owned())
}

fn free_port() -> Result<u16, String> {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").map_err(|error| error.to_string())?;
    Ok(probe
        .local_addr()
        .map_err(|error| error.to_string())?
        .port())
}

impl Postgres {
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match self.as_user {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(path);
                command
            }
            None => Command::new(path),
        }
    }

    pub fn start() -> Result<Postgres, String> {
        let is_root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|output| output.stdout.starts_with(b"0"));
        let root = std::env::temp_dir().join(format!("ward-postgres-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).map_err(|error| error.to_string())?;
        let as_user = is_root.then_some("postgres");
        if let Some(user) = as_user {
            crate::ci::run(Command::new("chown").arg(user).arg(&root))?;
        }
        let port = free_port()?;
        let postgres = Postgres {
            bin: server_bin()?,
            data: root.join("data"),
            as_user,
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        };
        crate::ci::run(
            postgres
                .command("initdb")
                .arg("-D")
                .arg(&postgres.data)
                .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]),
        )?;
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={}",
            root.display()
        );
        crate::ci::run(
            postgres
                .command("pg_ctl")
                .arg("-D")
                .arg(&postgres.data)
                .args(["-o", &options, "-l"])
                .arg(root.join("server.log"))
                .args(["-w", "start"]),
        )?;
        Ok(postgres)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "fast", "-w", "stop"])
            .status();
        if let Some(root) = self.data.parent() {
            let _ = std::fs::remove_dir_all(root);
        }
    }
}
