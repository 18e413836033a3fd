//! Running `dashvault` and reading its output: one-shot subcommands, a running
//! process's lines as a channel, waiting for a line, and the address it announces; and
//! [`Spawned`], which kills a process a test started when the test ends, passed or not.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

/// `dashvault COMMAND ARGS…`, run to its end.
pub fn dashvault(command: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dashvault"))
        .arg(command)
        .args(args)
        .output()
        .expect("run dashvault")
}

/// `dashvault COMMAND ARGS…`, which must succeed (its stderr is shown when it does not).
pub fn succeeds(command: &str, args: &[&str]) -> Output {
    let out = dashvault(command, args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// How long a test waits for an expected line before failing.
pub const WAIT: Duration = Duration::from_secs(60);

/// The lines of `stream`, read on a thread of their own (so the pipe never fills).
pub fn lines(stream: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The next line containing `what`; fails the test after [`WAIT`] or when the process ends.
pub fn wait_for(rx: &Receiver<String>, what: &str) -> String {
    loop {
        let line = rx
            .recv_timeout(WAIT)
            .unwrap_or_else(|_| panic!("dashvault printed no line containing {what:?}"));
        if line.contains(what) {
            return line;
        }
    }
}

/// The `http://HOST:PORT` in a "listening on …" log line (text or JSON logs).
pub fn base_url(line: &str) -> String {
    let start = line
        .find("http://")
        .expect("an http:// address in the line");
    line[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || ".:/[]".contains(*c))
        .collect()
}

/// A process a test started, killed (and reaped) when dropped — also when the test
/// panics — so that no test leaves a process running. Derefs to the [`Child`].
pub struct Spawned(Child);

impl From<Child> for Spawned {
    fn from(child: Child) -> Self {
        Self(child)
    }
}

impl std::ops::Deref for Spawned {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Spawned {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
