//! `keybridge` as a child process: `serve` on an ephemeral loopback port, and one-shot
//! commands. Included with `#[path]` by the tests that need a real process (crash,
//! backup), so the in-process `TestBridge` tests do not compile it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_keybridge");

/// A running `keybridge serve`; killed with SIGKILL and reaped when dropped.
pub struct ServeChild {
    child: Child,
    /// The SCIM base URL it printed.
    pub base: String,
}

impl ServeChild {
    /// Starts `keybridge serve --tls none` on 127.0.0.1 and waits until it listens.
    /// Its log (stderr) is appended to `log`.
    pub fn start(data: &Path, log: &Path) -> ServeChild {
        ServeChild::ready(ServeChild::spawn(data, log))
    }

    /// Starts the process without waiting for it.
    pub fn spawn(data: &Path, log: &Path) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("log file");
        Command::new(BIN)
            .arg("--data-dir")
            .arg(data)
            .args(["serve", "--tls", "none", "--listen", "127.0.0.1:0"])
            .env("KEYBRIDGE_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn keybridge serve")
    }

    /// Waits for the base URL a spawned bridge prints once it listens.
    pub fn ready(mut child: Child) -> ServeChild {
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        // The reader keeps draining stdout after the URL so the child never blocks on a
        // full pipe; it ends at EOF, when the child exits.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.split("Base URL").nth(1) {
                    if let Some(url) = url.split(": ").nth(1) {
                        let _ = tx.send(url.trim().to_owned());
                    }
                }
            }
        });
        let mut server = ServeChild {
            child,
            base: String::new(),
        };
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(base) => server.base = base,
            Err(_) => panic!(
                "keybridge serve printed no base URL (exit: {:?})",
                server.child.try_wait()
            ),
        }
        server
    }

    /// SIGKILL, then reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServeChild {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs `keybridge --data-dir DATA ARGS…` to completion.
pub fn keybridge(data: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run keybridge")
}

/// Issues a token (secrets kept in an owner-only file, not the keychain) and returns it.
pub fn issue_token(data: &Path, name: &str) -> String {
    let out = keybridge(
        data,
        &["--secrets", "file", "token", "issue", "--name", name],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .expect("token line")
        .trim()
        .to_owned()
}
