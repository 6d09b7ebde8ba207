//! The load generator: wrk (Debian's package, installed on demand), driven with a Lua script per
//! request shape, and its report parsed into numbers.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

/// One wrk run's numbers.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Load {
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub requests: u64,
    /// Socket errors (connect, read, write, timeout) plus non-2xx/3xx answers: a run with any is invalid.
    pub errors: u64,
}

/// A request shape: method, path, headers, body.
pub struct Shape<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub headers: Vec<(&'a str, String)>,
    pub body: Option<String>,
}

/// Makes sure wrk can be run: installs Debian's package when it is missing and we may.
pub fn ensure_installed() -> anyhow::Result<()> {
    if Command::new("wrk").arg("-v").output().is_ok() {
        return Ok(());
    }
    let root = Command::new("id").arg("-u").output().ok().is_some_and(|o| o.stdout.starts_with(b"0"));
    if root && Command::new("apt-get").arg("--version").output().is_ok() {
        eprintln!("installing wrk (Debian package)...");
        let quiet =
            |args: &[&str]| Command::new("apt-get").args(args).env("DEBIAN_FRONTEND", "noninteractive").status();
        if !quiet(&["install", "-y", "-qq", "wrk"])?.success() {
            quiet(&["update", "-qq"])?;
            if !quiet(&["install", "-y", "-qq", "wrk"])?.success() {
                bail!("apt-get could not install wrk");
            }
        }
        return Ok(());
    }
    bail!("the benchmark drives load with wrk: install it (Debian/Ubuntu: apt-get install wrk)")
}

/// Runs wrk against `base` with `connections` for `seconds`, one thread (the machine's other
/// core is the server's).
pub fn run(dir: &Path, base: &str, shape: &Shape<'_>, connections: u32, seconds: u32) -> anyhow::Result<Load> {
    let script = dir.join(format!("shape-{}.lua", std::process::id()));
    std::fs::write(&script, lua(shape)).context("writing the wrk script")?;
    let timeout = if connections > 100 { "10s" } else { "5s" };
    let output = Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 65536 2>/dev/null || ulimit -n \"$(ulimit -Hn)\" 2>/dev/null; exec \"$@\"")
        .arg("wrk")
        .arg("wrk")
        .args(["-t1", &format!("-c{connections}"), &format!("-d{seconds}s"), "--latency", "--timeout", timeout])
        .arg("-s")
        .arg(&script)
        .arg(format!("{base}{}", shape.path))
        .output()
        .context("running wrk")?;
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    if !output.status.success() {
        bail!("wrk failed: {}{}", text, String::from_utf8_lossy(&output.stderr));
    }
    parse(&text).with_context(|| format!("reading wrk's report:\n{text}"))
}

fn lua(shape: &Shape<'_>) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let mut script = format!("wrk.method = {}\n", quote(shape.method));
    for (name, value) in &shape.headers {
        script.push_str(&format!("wrk.headers[{}] = {}\n", quote(name), quote(value)));
    }
    if let Some(body) = &shape.body {
        script.push_str(&format!("wrk.body = {}\n", quote(body)));
    }
    script
}

/// Reads wrk's `--latency` report.
fn parse(text: &str) -> anyhow::Result<Load> {
    let mut load = Load::default();
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", value] => load.p50_ms = millis(value)?,
            ["90%", value] => load.p90_ms = millis(value)?,
            ["99%", value] => load.p99_ms = millis(value)?,
            ["Requests/sec:", value] => load.requests_per_second = value.parse()?,
            [count, "requests", "in", ..] => load.requests = count.parse()?,
            ["Non-2xx", "or", "3xx", "responses:", count] => load.errors += count.parse::<u64>()?,
            ["Socket", "errors:", rest @ ..] => {
                load.errors += rest.iter().filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok()).sum::<u64>();
            }
            _ => {}
        }
    }
    if load.requests == 0 {
        bail!("no request completed");
    }
    Ok(load)
}

fn millis(value: &str) -> anyhow::Result<f64> {
    let (number, factor) = if let Some(n) = value.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = value.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = value.strip_suffix('s') {
        (n, 1000.0)
    } else {
        bail!("a latency without a unit: {value}")
    };
    Ok(number.parse::<f64>()? * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_wrk_report() {
        let report = "Running 3s test @ http://127.0.0.1:1/x
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.20ms  300.00us   9.00ms   90.00%
  Latency Distribution
     50%  812.00us
     75%    1.10ms
     90%    2.50ms
     99%    1.20s
  12345 requests in 3.00s, 1.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   4115.00
Transfer/sec:    300.00KB
";
        let load = parse(report).unwrap();
        assert_eq!(load.requests, 12345);
        assert_eq!(load.errors, 7);
        assert!((load.p50_ms - 0.812).abs() < 1e-9);
        assert!((load.p99_ms - 1200.0).abs() < 1e-9);
        assert!((load.requests_per_second - 4115.0).abs() < 1e-9);
    }
}
