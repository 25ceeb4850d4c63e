//! Background processes of a local cluster: pid files, liveness (that also guards against pid
//! reuse), graceful stop with a deadline, and finding which process owns a TCP port.

use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Reads a pid file; `None` when missing or unreadable.
pub fn read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The command line of a running process (`/proc/<pid>/cmdline`), NUL-separated args joined by spaces.
pub fn cmdline(pid: u32) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(raw.split(|b| *b == 0).map(|s| String::from_utf8_lossy(s).to_string()).collect::<Vec<_>>().join(" ").trim().to_string())
}

/// True when `pid` runs and has not exited (zombies count as dead).
pub fn is_alive(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else { return false };
    if kill(Pid::from_raw(raw), None).is_err() {
        return false;
    }
    // A zombie (exited, not yet reaped by its parent) still accepts signal 0.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => true,
    }
}

/// CPU time a process has used so far: utime + stime from `/proc/<pid>/stat`, in clock ticks
/// (`getconf CLK_TCK`, 100 on Linux); `None` when it cannot be read.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command (field 2) may hold spaces and parentheses: the fields follow its last ')'.
    let after = text.rsplit_once(')')?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields after the command: state is 3, utime 14, stime 15 (1-based in proc(5)).
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// True when `pid` is alive and its command line contains `marker` (so a recycled pid that
/// now belongs to another program is not mistaken for ours).
pub fn is_ours(pid: u32, marker: &str) -> bool {
    is_alive(pid) && cmdline(pid).is_some_and(|c| c.contains(marker))
}

/// Sends SIGTERM, waits up to `grace`, then SIGKILL and waits a little more.
/// Returns true when the process is gone.
pub fn stop(pid: u32, grace: Duration) -> bool {
    let Ok(raw) = i32::try_from(pid) else { return true };
    if !is_alive(pid) {
        return true;
    }
    let _ = kill(Pid::from_raw(raw), Signal::SIGTERM);
    if wait_gone(pid, grace) {
        return true;
    }
    tracing::warn!(pid, "process did not stop within {grace:?}; killing it");
    let _ = kill(Pid::from_raw(raw), Signal::SIGKILL);
    wait_gone(pid, Duration::from_secs(5))
}

/// Starts `cmd` as a background process that may outlive this one, and returns its pid. A
/// small thread waits for it, so that when it exits while we still run (a long-lived `serve`,
/// the benchmark) it is reaped instead of staying a zombie in the process table; if we exit
/// first, the process is re-parented and keeps running.
pub fn spawn_detached(cmd: &mut std::process::Command, what: &str) -> std::io::Result<u32> {
    let mut child = cmd.spawn()?;
    let pid = child.id();
    // The process runs whether or not the reaper starts: failing here would leave it untracked.
    if let Err(e) = std::thread::Builder::new().name(format!("reap-{what}-{pid}")).stack_size(64 * 1024).spawn(move || {
        let _ = child.wait();
    }) {
        tracing::warn!(pid, "no thread to reap the {what}: {e}");
    }
    Ok(pid)
}

/// Sends SIGKILL at once (used by tests that simulate a crash).
pub fn kill_now(pid: u32) {
    if let Ok(raw) = i32::try_from(pid) {
        let _ = kill(Pid::from_raw(raw), Signal::SIGKILL);
    }
}

/// Waits until `pid` is gone or `timeout` passes.
pub fn wait_gone(pid: u32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if !is_alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    !is_alive(pid)
}

/// True when nothing listens on 127.0.0.1:`port` (we can bind it).
pub fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// Names the process listening on TCP `port` ("pid 123 (java … StandaloneSessionClusterEntrypoint)"),
/// from /proc/net/tcp{,6} and the processes' socket fds. Best effort: "an unknown process"
/// when it cannot be seen (another user's process, no /proc).
pub fn port_owner(port: u16) -> String {
    let inodes: Vec<String> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .flat_map(|text| {
            text.lines()
                .skip(1)
                .filter_map(|line| {
                    let cols: Vec<&str> = line.split_whitespace().collect();
                    let local = cols.get(1)?;
                    let state = cols.get(3)?;
                    let p = u16::from_str_radix(local.rsplit(':').next()?, 16).ok()?;
                    (p == port && *state == "0A").then(|| cols.get(9).map(|s| s.to_string()))?
                })
                .collect::<Vec<_>>()
        })
        .collect();
    if inodes.is_empty() {
        return "an unknown process".into();
    }
    let Ok(procs) = std::fs::read_dir("/proc") else { return "an unknown process".into() };
    for entry in procs.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else { continue };
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path()) {
                let t = target.to_string_lossy();
                if inodes.iter().any(|i| t == format!("socket:[{i}]")) {
                    let cmd = cmdline(pid).unwrap_or_default();
                    let short: String = cmd.chars().take(120).collect();
                    return format!("pid {pid} ({short})");
                }
            }
        }
    }
    "an unknown process".into()
}

/// The last `n` lines of a file (for error messages).
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Why a Java process failed, from its log: the innermost `Caused by:` (message first, then
/// the exception class), else the last ERROR line's message.
pub fn failure_reason(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    if let Some(cause) = lines.iter().rev().find_map(|l| l.strip_prefix("Caused by: ")) {
        return Some(match cause.split_once(": ") {
            Some((class, msg)) => format!("{} ({class})", msg.trim()),
            None => cause.trim().to_string(),
        });
    }
    lines.iter().rev().find(|l| l.contains(" ERROR ")).map(|l| match l.split_once(" - ") {
        Some((_, msg)) => msg.trim().to_string(),
        None => l.trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_grow_with_the_cpu_a_process_uses() {
        let me = std::process::id();
        let before = cpu_ticks(me).expect("our own /proc/<pid>/stat");
        // ~300 ms of CPU (30 ticks at 100 Hz) in this thread.
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(300) {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        let after = cpu_ticks(me).unwrap();
        assert!(after >= before + 10, "{before} → {after} ticks after 300 ms of CPU");
        assert_eq!(cpu_ticks(u32::MAX), None);
    }

    #[test]
    fn names_the_owner_of_a_port() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert!(!port_free(port));
        let owner = port_owner(port);
        assert!(owner.contains(&format!("pid {}", std::process::id())), "{owner}");
        drop(l);
        assert!(port_free(port));
    }

    #[test]
    fn failure_reasons_come_from_the_innermost_cause() {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("x.log");
        std::fs::write(&log, "2026 INFO a - fine\n2026 ERROR org.X [] - Terminating with exit code 1.\norg.apache.flink.util.FlinkException: Failed to start.\n\tat a.b(C.java:1)\nCaused by: java.net.BindException: Could not start actor system on any port in port range 43233\n\tat x\n").unwrap();
        assert_eq!(failure_reason(&log).as_deref(), Some("Could not start actor system on any port in port range 43233 (java.net.BindException)"));
        std::fs::write(&log, "2026 ERROR org.X [] - Terminating with exit code 1.\n").unwrap();
        assert_eq!(failure_reason(&log).as_deref(), Some("Terminating with exit code 1."));
        std::fs::write(&log, "all good\n").unwrap();
        assert_eq!(failure_reason(&log), None);
        assert_eq!(failure_reason(&d.path().join("missing")), None);
    }

    #[test]
    fn liveness_and_stop() {
        let mut child = std::process::Command::new("python3").args(["-c", "import time; time.sleep(30)"]).spawn().unwrap();
        let pid = child.id();
        assert!(is_alive(pid));
        // python3 may be a shim that execs the real interpreter a moment later.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !is_ours(pid, "time.sleep(30)") && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(is_ours(pid, "time.sleep(30)"));
        assert!(!is_ours(pid, "StandaloneSessionClusterEntrypoint"));
        let waiter = std::thread::spawn(move || child.wait());
        assert!(stop(pid, Duration::from_secs(5)));
        waiter.join().unwrap().unwrap();
        assert!(!is_alive(pid));
    }

    #[test]
    fn a_detached_process_that_exits_is_reaped() {
        let mut cmd = std::process::Command::new("python3");
        cmd.args(["-c", "import time; time.sleep(30)"]);
        let pid = spawn_detached(&mut cmd, "test").unwrap();
        assert!(is_alive(pid));
        kill_now(pid);
        // Reaped: /proc/<pid> disappears (an unreaped child stays there in state Z for as long
        // as its parent, this test process, lives).
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::path::Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "pid {pid} was not reaped");
    }
}
