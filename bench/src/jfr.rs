//! Where the TaskManager's time goes (`--jfr`): a Java Flight Recorder recording of the
//! TaskManager over a run's measurement window, summarized as the share of execution samples
//! per thread and per method. JFR samples Java stacks only (time in native code such as
//! RocksDB's is not in it) and costs a few per cent of CPU, alike in every variant.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufReader;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// The execution samples of one recording, or of several added up.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub samples: u64,
    /// Samples per thread, digits in the name replaced by `N` (a task's subtasks together).
    pub threads: BTreeMap<String, u64>,
    /// Samples whose stack contains the method (`Class.method`, the class without its
    /// package): the method's inclusive share. Methods on fewer than 0.1 % of the samples are
    /// left out.
    pub methods: BTreeMap<String, u64>,
}

impl Profile {
    pub fn add(&mut self, other: &Profile) {
        self.samples += other.samples;
        for (k, v) in &other.threads {
            *self.threads.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.methods {
            *self.methods.entry(k.clone()).or_default() += v;
        }
    }

    /// The share of the samples whose stack contains `method`.
    pub fn share(&self, method: &str) -> f64 {
        self.fraction(self.methods.get(method))
    }

    /// The share of the samples taken in the thread group `thread`.
    pub fn thread_share(&self, thread: &str) -> f64 {
        self.fraction(self.threads.get(thread))
    }

    fn fraction(&self, count: Option<&u64>) -> f64 {
        if self.samples == 0 { 0.0 } else { count.copied().unwrap_or(0) as f64 / self.samples as f64 }
    }
}

/// Starts a recording of `pid` that ends by itself after `duration` and is written to `file`.
pub fn start(jcmd: &Path, pid: u32, duration: Duration, file: &Path) -> Result<()> {
    let out = Command::new(jcmd)
        .arg(pid.to_string())
        .arg("JFR.start")
        .arg("name=flinkops-bench")
        .arg("settings=profile")
        .arg(format!("duration={}s", duration.as_secs().max(1)))
        .arg(format!("filename={}", file.display()))
        .output()
        .with_context(|| format!("running {}", jcmd.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    // jcmd reports a refused command on stdout, sometimes with exit status 0
    // jcmd signals the JVM through an empty `.attach_pid<pid>` in the JVM's working directory
    // (the TaskManager's is the bench's) and leaves it there
    let _ = std::fs::remove_file(format!("/proc/{pid}/cwd/.attach_pid{pid}"));
    if !out.status.success() || !text.contains("Started recording") {
        bail!("{} {pid} JFR.start: {}{}", jcmd.display(), text.trim(), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// Waits until the recording's file is written (its size stops changing), at most `timeout`.
pub async fn wait_written(file: &Path, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    let mut last = None;
    loop {
        let size = std::fs::metadata(file).map(|m| m.len()).ok().filter(|&s| s > 0);
        if size.is_some() && size == last {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("JFR did not write {} within {} s", file.display(), timeout.as_secs());
        }
        last = size;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[derive(Deserialize)]
struct Dump {
    recording: Recording,
}
#[derive(Deserialize)]
struct Recording {
    events: Vec<Event>,
}
#[derive(Deserialize)]
struct Event {
    values: Values,
}
#[derive(Deserialize)]
struct Values {
    #[serde(rename = "sampledThread")]
    thread: Option<Thread>,
    #[serde(rename = "stackTrace")]
    stack: Option<Stack>,
}
#[derive(Deserialize)]
struct Thread {
    #[serde(rename = "javaName")]
    name: Option<String>,
}
#[derive(Deserialize)]
struct Stack {
    frames: Vec<Frame>,
}
#[derive(Deserialize)]
struct Frame {
    method: Method,
}
#[derive(Deserialize)]
struct Method {
    #[serde(rename = "type")]
    class: Class,
    name: String,
}
#[derive(Deserialize)]
struct Class {
    name: String,
}

/// Reads a recording's execution samples with the JDK's `jfr` tool (its JSON, streamed).
pub fn summarize(jfr: &Path, file: &Path) -> Result<Profile> {
    let mut child = Command::new(jfr)
        .args(["print", "--json", "--stack-depth", "64", "--events", "jdk.ExecutionSample"])
        .arg(file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("running {}", jfr.display()))?;
    let stdout = child.stdout.take().context("jfr's stdout")?;
    let parsed: Result<Dump, _> = serde_json::from_reader(BufReader::new(stdout));
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!("{} print {}: {}", jfr.display(), file.display(), String::from_utf8_lossy(&out.stderr).trim());
    }
    let dump = parsed.with_context(|| format!("reading the JSON of {} print {}", jfr.display(), file.display()))?;
    Ok(profile_of(dump))
}

fn profile_of(dump: Dump) -> Profile {
    let mut p = Profile::default();
    for e in dump.recording.events {
        let Some(stack) = e.values.stack else { continue };
        p.samples += 1;
        let thread = e.values.thread.and_then(|t| t.name).unwrap_or_else(|| "?".into());
        *p.threads.entry(thread_group(&thread)).or_default() += 1;
        let methods: BTreeSet<String> = stack
            .frames
            .iter()
            .map(|f| format!("{}.{}", simple_class(&f.method.class.name), f.method.name))
            .collect();
        for m in methods {
            *p.methods.entry(m).or_default() += 1;
        }
    }
    // methods on fewer than 0.1 % of the samples say nothing and would fill the JSON
    let min = p.samples / 1000;
    p.methods.retain(|_, n| *n > min);
    p
}

/// `org/apache/flink/Foo$Bar` → `Foo$Bar`; a hidden class (`a.b.Foo$$Lambda$552+0x7f3d…/2043914182`,
/// dotted, numbered per JVM) → `Foo$$Lambda`.
fn simple_class(name: &str) -> String {
    let name = name.split("+0x").next().unwrap_or(name);
    let simple = name.rsplit(['/', '.']).next().unwrap_or(name);
    match simple.find("$$Lambda") {
        Some(i) => format!("{}$$Lambda", &simple[..i]),
        None => simple.to_string(),
    }
}

/// `WindowAggregate[4] -> snk[6]: Writer (1/2)#0` → `WindowAggregate[N] -> snk[N]: Writer (N/N)#N`.
fn thread_group(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_digits = false;
    for c in name.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('N');
            }
            in_digits = true;
        } else {
            out.push(c);
            in_digits = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_recording_is_waited_for_until_its_file_stops_growing() {
        let dir = std::env::temp_dir().join(format!("flinkops-bench-jfr-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("r.jfr");
        let missing = wait_written(&file, Duration::from_millis(700)).await.unwrap_err().to_string();
        assert!(missing.contains("did not write"), "{missing}");
        std::fs::write(&file, b"FLR\0").unwrap();
        wait_written(&file, Duration::from_secs(5)).await.unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn subtasks_of_a_task_are_one_thread_group() {
        assert_eq!(thread_group("WindowAggregate[4] -> Calc[5] -> snk[6]: Writer (1/2)#0"), "WindowAggregate[N] -> Calc[N] -> snk[N]: Writer (N/N)#N");
        assert_eq!(thread_group("flink-pekko.actor.default-dispatcher-17"), "flink-pekko.actor.default-dispatcher-N");
    }

    #[test]
    fn methods_on_fewer_than_a_thousandth_of_the_samples_are_left_out() {
        let event = |method: &str| format!(r#"{{"values": {{"stackTrace": {{"frames": [{{"method": {{"type": {{"name": "a/Op"}}, "name": "{method}"}}}}]}}}}}}"#);
        let mut events: Vec<String> = (0..2000).map(|_| event("hot")).collect();
        events.extend([event("rare"), event("rare"), event("seen"), event("seen"), event("seen")]);
        let p = profile_of(serde_json::from_str(&format!(r#"{{"recording": {{"events": [{}]}}}}"#, events.join(","))).unwrap());
        assert_eq!(p.samples, 2005);
        assert_eq!(p.methods.get("Op.seen"), Some(&3));
        assert_eq!(p.methods.get("Op.rare"), None, "2 of 2005 samples");
        assert_eq!(p.threads.get("?"), Some(&2005), "samples without a thread count under `?`");
    }

    #[test]
    fn classes_lose_their_package_and_lambdas_their_numbers() {
        assert_eq!(simple_class("org/apache/flink/table/runtime/util/TimeWindowUtil"), "TimeWindowUtil");
        assert_eq!(simple_class("org.apache.flink.runtime.rpc.pekko.PekkoRpcActor$$Lambda$552+0x00007f3d91470228/2043914182"), "PekkoRpcActor$$Lambda");
        assert_eq!(simple_class("java.lang.invoke.LambdaForm$DMH+0x00007f3d91740c00/1935107735"), "LambdaForm$DMH");
        assert_eq!(simple_class("Plain"), "Plain");
    }

    #[test]
    fn a_method_counts_once_per_sample_however_deep_it_recurses() {
        let frame = |class: &str, name: &str| format!(r#"{{"method": {{"type": {{"name": "{class}"}}, "name": "{name}"}}, "lineNumber": 1}}"#);
        let event = |thread: &str, frames: &[String]| format!(r#"{{"type": "jdk.ExecutionSample", "values": {{"sampledThread": {{"javaName": "{thread}"}}, "stackTrace": {{"truncated": false, "frames": [{}]}}}}}}"#, frames.join(","));
        let a = frame("java/util/HashMap", "putVal");
        let b = frame("org/apache/flink/Op", "process");
        let json = format!(r#"{{"recording": {{"events": [{}, {}]}}}}"#, event("Op (1/2)#0", &[a.clone(), b.clone(), b.clone()]), event("Op (2/2)#0", &[b]));
        let p = profile_of(serde_json::from_str(&json).unwrap());
        assert_eq!(p.samples, 2);
        assert_eq!(p.threads.get("Op (N/N)#N"), Some(&2));
        assert_eq!(p.methods.get("Op.process"), Some(&2));
        assert_eq!(p.methods.get("HashMap.putVal"), Some(&1));
        assert_eq!(p.share("HashMap.putVal"), 0.5);
    }
}
