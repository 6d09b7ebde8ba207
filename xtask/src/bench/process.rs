//! The processes a benchmark or a soak runs (each killed when dropped, and when the xtask is
//! interrupted; its peak memory readable while it lives) and a tiny HTTP/1.1 client for setting
//! up and checking, so the xtask needs no HTTP library.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A child process, killed when dropped.
pub struct Process {
    child: Child,
}

/// The children alive now: an interrupted xtask (Ctrl-C, SIGTERM) runs no `Drop`, so its signal
/// handler kills these before it exits, rather than leaving servers and doubles running.
static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());
static ON_INTERRUPT: Once = Once::new();

fn track(pid: u32) {
    ON_INTERRUPT.call_once(|| {
        let installed = ctrlc::set_handler(|| {
            let pids = RUNNING.lock().map(|running| running.clone()).unwrap_or_default();
            for pid in pids {
                let _ = Command::new("kill").arg("-KILL").arg(pid.to_string()).status();
            }
            eprintln!("interrupted: stopped the processes started");
            std::process::exit(130);
        });
        if let Err(error) = installed {
            eprintln!("warning: no interrupt handler ({error}); an interrupted run may leave processes behind");
        }
    });
    RUNNING.lock().expect("not poisoned").push(pid);
}

fn untrack(pid: u32) {
    RUNNING.lock().expect("not poisoned").retain(|running| *running != pid);
}

impl Process {
    /// Starts `program` with `args` and `env`, with a high open-file limit; its output goes to
    /// `log`.
    pub fn start(
        name: &str,
        program: &Path,
        args: &[String],
        env: &[(&str, String)],
        log: &Path,
    ) -> anyhow::Result<Self> {
        let log = std::fs::File::create(log)?;
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg("ulimit -n 65536 2>/dev/null || ulimit -n \"$(ulimit -Hn)\" 2>/dev/null; exec \"$@\"")
            .arg(name)
            .arg(program)
            .args(args)
            .stdout(log.try_clone()?)
            .stderr(log)
            .stdin(Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().with_context(|| format!("starting {}", program.display()))?;
        track(child.id());
        Ok(Process { child })
    }

    /// The process id (the program's own: `sh` execs it).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Peak resident memory (VmHWM) in MiB, as Linux reports it.
    pub fn peak_rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        untrack(self.child.id());
    }
}

/// A port free now on loopback.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until `path` on `addr` answers 2xx.
pub fn wait_ready(addr: SocketAddr, path: &str, what: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if http(addr, "GET", path, &[], None).is_ok_and(|(status, _)| (200..300).contains(&status)) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("{what} did not answer on {addr}{path}")
}

/// One HTTP/1.1 request; returns the status and the body.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> anyhow::Result<(u16, String)> {
    exchange(addr, method, path, headers, body).with_context(|| format!("{method} http://{addr}{path}"))
}

fn exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> anyhow::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = body.unwrap_or("");
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes())?;
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line)?;
    let status: u16 = status_line.split_whitespace().nth(1).context("a status line")?.parse()?;
    let mut chunked = false;
    let mut length: Option<usize> = None;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if line.trim().is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse().ok();
        }
    }
    // Read what the headers announce, not until the connection closes.
    let text = match (length, chunked) {
        (Some(length), false) => {
            let mut body = vec![0; length];
            reader.read_exact(&mut body)?;
            String::from_utf8_lossy(&body).to_string()
        }
        (_, true) => {
            let mut body = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line)? == 0 {
                    break;
                }
                body.push_str(&line);
                if body.ends_with("\r\n0\r\n\r\n") || body.starts_with("0\r\n") {
                    break;
                }
            }
            dechunk(&body)
        }
        (None, false) => {
            let mut rest = Vec::new();
            reader.read_to_end(&mut rest)?;
            String::from_utf8_lossy(&rest).to_string()
        }
    };
    Ok((status, text))
}

fn dechunk(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else { break };
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}
