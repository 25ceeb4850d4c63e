//! The web dashboard in a real browser: Debian's headless Chromium driven through chromedriver
//! (fantoccini) against a `flinkops serve` that manages a real local Flink 2.3. The fleet page
//! lists the running job with live throughput; the job page draws its charts, heat map and job
//! graph from live data; "savepoint now" (confirm, then token: a wrong one is refused with a
//! message, the right one works) creates a savepoint that then appears in the catalog; an
//! unknown job id and a Flink that stops answering show a clear message. Screenshots of each
//! page go to `target/dashboard-screenshots/` (the committed ones are under `docs/dashboard/`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::serve::Serve;
use crate::support::{free_port, wait_for};

/// chromedriver on 127.0.0.1 and a free port, in its own process group; dropping it kills the
/// group (chromedriver and the Chromium it started) by its id.
struct Chromedriver {
    child: Child,
    url: String,
}

impl Chromedriver {
    fn start() -> Chromedriver {
        use std::os::unix::process::CommandExt;
        let bin = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"].into_iter().find(|p| Path::new(p).is_file()).expect(
            "chromedriver is not installed: `apt-get install chromium chromium-driver` (.ci/run does)",
        );
        let port = free_port();
        let child = Command::new(bin)
            .args([
                format!("--port={port}"),
                "--allowed-ips=127.0.0.1".into(),
                "--allowed-origins=*".into(),
            ])
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let pgid = child.id();
        // If this test binary dies, the group goes too.
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "while kill -0 {me} 2>/dev/null; do sleep 1; done; kill -9 -{pgid} 2>/dev/null",
                me = std::process::id()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        wait_for("chromedriver to listen", Duration::from_secs(20), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        });
        Chromedriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // `--`: a negative pid names the process group (without it, kill reads `-<pid>` as an
        // option and chromedriver lives on).
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}

async fn browser(driver: &Chromedriver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--force-device-scale-factor=1", "--window-size=1440,900", "--lang=en-US"]
        }),
    );
    ClientBuilder::rustls()
        .expect("rustls")
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session through chromedriver")
}

/// Evaluates a script's `return` value.
async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
}

/// Polls a script until it returns something truthy (not null/false/0/""), or panics with what
/// the page shows.
async fn until(c: &Client, what: &str, timeout: Duration, script: &str) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let v = js(c, script).await;
        let truthy = match &v {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
            Value::String(s) => !s.is_empty(),
            _ => true,
        };
        if truthy {
            return v;
        }
        if Instant::now() > deadline {
            let text = js(c, "return document.body.innerText").await;
            panic!(
                "timed out after {timeout:?} waiting for {what}; the page shows:\n{}",
                text.as_str().unwrap_or("")
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn screenshot_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/dashboard-screenshots");
    std::fs::create_dir_all(&d).expect("screenshot dir");
    d
}

/// A screenshot of the whole page (the window is made as tall as the page first).
async fn screenshot(c: &Client, name: &str) {
    let h = js(
        c,
        "return Math.max(document.documentElement.scrollHeight, 700)",
    )
    .await
    .as_u64()
    .unwrap_or(900)
    .min(4000);
    c.set_window_size(1440, u32::try_from(h).unwrap_or(900))
        .await
        .expect("resize");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let png = c.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let p = screenshot_dir().join(format!("{name}.png"));
    std::fs::write(&p, png).expect("write screenshot");
    println!("screenshot: {}", p.display());
    c.set_window_size(1440, 900).await.expect("resize");
}

/// serve's test spec at parallelism 2, with a deprecated key for the lint finding.
fn spec(platform: &str) -> String {
    crate::serve::spec_yaml(platform, "    flinkConfiguration:\n      state.backend: hashmap\n")
        .replace("    parallelism: 1\n", "    parallelism: 2\n")
}

const SQL: &str = "CREATE TABLE src (k INT, v BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '500', 'fields.k.min' = '1', 'fields.k.max' = '50');\n\
    CREATE TABLE snk (k INT, c BIGINT, s BIGINT, PRIMARY KEY (k) NOT ENFORCED) WITH ('connector' = 'blackhole');\n\
    INSERT INTO snk SELECT k, COUNT(*), SUM(v) FROM src GROUP BY k;\n";

#[test]
fn dashboard_in_a_real_browser() {
    let dir = tempfile::tempdir().expect("tmp");
    let platform = format!("it-dash-{}", std::process::id());
    let spec_path = dir.path().join("flinkops.yaml");
    std::fs::write(&spec_path, spec(&platform)).expect("spec");
    std::fs::write(dir.path().join("counter.sql"), SQL).expect("sql");
    let s = Serve::start(&spec_path, &format!("{platform}-dev"), dir.path());
    let t0 = Instant::now();
    wait_for(
        "the job to run and checkpoint",
        Duration::from_secs(240),
        || {
            let j = s.job("dev", "counter");
            let id = j["job"]["flink_job_id"].as_str()?.to_string();
            (j["job"]["phase"] == "running" && j["job"]["last_checkpoint"].as_str()?.contains(&id))
                .then_some(())
        },
    );
    println!("job running after {:.1} s", t0.elapsed().as_secs_f64());
    let driver = Chromedriver::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let c = browser(&driver).await;
        let r = std::panic::AssertUnwindSafe(run(&c, &s))
            .catch_unwind_async()
            .await;
        let _ = c.close().await;
        if let Err(p) = r {
            std::panic::resume_unwind(p);
        }
    });
}

/// `catch_unwind` for a future, so the browser session is closed on failure too.
trait CatchUnwindAsync: std::future::Future + Sized {
    async fn catch_unwind_async(self) -> std::thread::Result<Self::Output>;
}

impl<F: std::future::Future + std::panic::UnwindSafe> CatchUnwindAsync for F {
    async fn catch_unwind_async(self) -> std::thread::Result<Self::Output> {
        let mut f = std::pin::pin!(self);
        std::future::poll_fn(move |cx| {
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f.as_mut().poll(cx))) {
                Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
                Ok(std::task::Poll::Ready(v)) => std::task::Poll::Ready(Ok(v)),
                Err(p) => std::task::Poll::Ready(Err(p)),
            }
        })
        .await
    }
}

async fn run(c: &Client, s: &Serve) {
    let url = &s.url;

    // 1. Fleet: the running job with its state and the sampler's live throughput.
    c.goto(&format!("{url}/"))
        .await
        .expect("open the fleet page");
    until(c, "the job listed as RUNNING", Duration::from_secs(60), r#"return document.querySelector('tr.job-row[data-key="dev/counter"][data-state="RUNNING"]') !== null"#).await;
    // Flink's per-second rates average over a minute, so the sampled rate climbs towards the
    // datagen source's 500 rows/s; it must get there and not beyond.
    let rate = until(
        c,
        "a records-in rate of 100+/s in the fleet",
        Duration::from_secs(150),
        r#"const t = document.querySelector('tr.job-row[data-key="dev/counter"] td.tput');
           if (!t) return null;
           const m = t.textContent.split('/')[0].trim().match(/^([0-9.]+)(k?)$/);
           const v = m ? Number(m[1]) * (m[2] ? 1000 : 1) : 0;
           return v >= 100 ? v : null"#,
    )
    .await;
    let rate = rate.as_f64().unwrap_or(0.0);
    assert!((100.0..=600.0).contains(&rate), "records in per second of a datagen source at 500/s: {rate}");
    let env = js(c, r#"const e = document.querySelector('.env-card[data-env="dev"]'); return e ? e.innerText : null"#).await;
    assert!(
        env.as_str().unwrap_or("").contains(&s.rest_url()),
        "the environment card shows Flink's REST URL: {env}"
    );
    until(
        c,
        "the environment marked reachable",
        Duration::from_secs(30),
        r#"return document.querySelector('.env-card[data-env="dev"] .dot.ok') !== null"#,
    )
    .await;
    // Filters: a name that matches nothing empties the table, clearing it brings the job back.
    let f = c
        .find(Locator::Css("#filter-text"))
        .await
        .expect("filter box");
    f.send_keys("no-such-job").await.expect("type");
    until(
        c,
        "the filter to hide the job",
        Duration::from_secs(5),
        "return document.querySelector('#fleet-empty') !== null",
    )
    .await;
    f.clear().await.expect("clear");
    f.send_keys("count").await.expect("type");
    until(
        c,
        "the filter to show the job",
        Duration::from_secs(5),
        r#"return document.querySelectorAll('tr.job-row').length === 1"#,
    )
    .await;
    f.clear().await.expect("clear");
    js(
        c,
        "document.getElementById('filter-text').dispatchEvent(new Event('input')); return true",
    )
    .await;
    screenshot(c, "fleet").await;

    // The fleet page at 1,000 jobs (the same render code, a fleet of the API's shape): the jobs
    // that need a look first, 100 per page; its render time is printed, not asserted (the
    // machine is shared).
    let ms = js(
        c,
        r#"const jobs = [];
           for (let i = 0; i < 1000; i++) jobs.push({key: `env${i % 4}/job-${i}`, env: `env${i % 4}`, job: `job-${i}`, phase: 'running', state: i % 17 ? 'RUNNING' : 'FAILED', health: i % 13 ? 'healthy' : 'degraded', flink_job_id: 'a'.repeat(32), parallelism: 1 + i % 8, started_at: Date.now() - i * 60000, uptime_ms: i * 60000, records_in_per_s: i * 10.5, records_out_per_s: i * 9.5, busy_max: 300, restarts: 0, last_checkpoint: 'file:///x/chk-1', last_checkpoint_at: Date.now() - 3000, last_checkpoint_age_ms: 3000, last_savepoint: `file:///tmp/sp/savepoint-${i}`, alerts_firing: i % 50 ? [] : ['FlinkJobNotRunning'], pending: null, updated_at: Date.now()});
           const fleet = {platform: 'bench', generated_at: Date.now(), environments: [0,1,2,3].map(i => ({name: `env${i}`, target: 'standalone', flink_version: '2.3', rest_url: 'http://127.0.0.1:1', reachable: true, error: null, sampled_at: Date.now(), jobs: 250})), jobs};
           const times = [];
           let shown = null;
           for (let r = 0; r < 7; r++) { const t = performance.now(); shown = window.flinkopsRenderFleet(fleet); document.body.offsetHeight; times.push(performance.now() - t); }
           const rows = document.querySelectorAll('tr.job-row').length;
           const first = document.querySelector('tr.job-row').dataset.key;
           const pager = document.getElementById('fleet-pager').innerText;
           times.sort((a, b) => a - b);
           return {median_ms: times[3], rows, matching: shown.matching, first, pager};"#,
    )
    .await;
    assert_eq!((&ms["rows"], &ms["matching"]), (&json!(100), &json!(1000)), "the first page of 100 of 1,000 jobs: {ms}");
    assert_eq!(ms["first"], "env0/job-0", "jobs that need a look first (job-0 is FAILED and alerting): {ms}");
    assert!(ms["pager"].as_str().unwrap_or("").contains("1–100 of 1000 jobs"), "{ms}");
    println!(
        "fleet page render at 1,000 jobs in Chromium: median {:.1} ms of 7 (render + layout)",
        ms["median_ms"].as_f64().unwrap_or(f64::NAN)
    );

    // 2. Job page: charts with live data, heat map, job graph, checkpoint charts, config lint.
    c.goto(&format!("{url}/jobs/dev/counter"))
        .await
        .expect("open the job page");
    let last_in = until(c, "the records chart with 2+ samples", Duration::from_secs(60), r#"const p = document.querySelector('#chart-records path.series[data-name="in"]'); return p && Number(p.dataset.points) >= 2 ? Number(p.dataset.last) : null"#).await;
    assert!(
        last_in.as_f64().unwrap_or(0.0) > 0.0,
        "the records-in chart shows a positive rate: {last_in}"
    );
    let cells = until(
        c,
        "busy-time heat map cells",
        Duration::from_secs(30),
        "return Number(document.querySelector('#heatmap-busy')?.dataset.cells || 0)",
    )
    .await;
    assert!(
        cells.as_f64().unwrap_or(0.0) >= 2.0,
        "two vertices sampled at least once: {cells}"
    );
    let graph = until(c, "the job graph", Duration::from_secs(30), "const v = [...document.querySelectorAll('#job-graph .vertex')]; return v.length >= 2 ? v.map(x => Number(x.dataset.parallelism)) : null").await;
    assert!(
        graph.as_array().is_some_and(|v| v.iter().all(|p| p == 2)),
        "every vertex runs with the environment's parallelism 2: {graph}"
    );
    until(
        c,
        "checkpoint duration bars",
        Duration::from_secs(30),
        "return document.querySelectorAll('#chart-cp-duration rect.bar').length",
    )
    .await;
    let sizes = js(c, "return [...document.querySelectorAll('#chart-cp-size rect.bar')].map(r => Number(r.dataset.value))").await;
    assert!(
        sizes
            .as_array()
            .is_some_and(|v| !v.is_empty() && v.iter().any(|x| x.as_f64().unwrap_or(0.0) > 0.0)),
        "checkpoint sizes from Flink: {sizes}"
    );
    let webui = js(
        c,
        "return document.querySelector('#flink-ui-link')?.getAttribute('href')",
    )
    .await;
    assert!(
        webui
            .as_str()
            .is_some_and(|u| u.starts_with(&s.rest_url()) && u.contains("/#/job/running/")),
        "links to Flink's Web UI: {webui}"
    );
    let timeline = js(
        c,
        "return [...document.querySelectorAll('#timeline .event')].map(e => e.dataset.kind)",
    )
    .await;
    assert!(
        timeline
            .as_array()
            .is_some_and(|v| v.iter().any(|k| k == "deploy")),
        "the timeline shows the deploy: {timeline}"
    );
    let scaling = js(c, "return document.querySelector('#scaling').innerText").await;
    assert!(
        scaling.as_str().unwrap_or("").contains("No decision yet"),
        "{scaling}"
    );
    let config = js(c, "return document.querySelector('#config').innerText").await;
    assert!(
        config.as_str().unwrap_or("").contains("state.backend"),
        "the effective configuration: {config}"
    );
    assert!(
        config.as_str().unwrap_or("").contains("deprecated"),
        "the lint finding of the deprecated key `state.backend`: {config}"
    );
    screenshot(c, "job").await;

    // 3. Savepoint now: confirm; a wrong token is refused with a message; the right one works,
    // and the savepoint appears in the catalog on the page.
    let before = js(c, "return [...document.querySelectorAll('tr.snapshot[data-kind=savepoint]')].map(r => r.dataset.path)").await;
    c.find(Locator::Css("#btn-savepoint"))
        .await
        .expect("button")
        .click()
        .await
        .expect("click");
    until(
        c,
        "the confirmation",
        Duration::from_secs(5),
        "return document.getElementById('confirm-dialog').open",
    )
    .await;
    c.find(Locator::Css("#confirm-ok"))
        .await
        .expect("ok")
        .click()
        .await
        .expect("confirm");
    until(
        c,
        "the token dialog",
        Duration::from_secs(5),
        "return document.getElementById('token-dialog').open",
    )
    .await;
    c.find(Locator::Css("#token-input"))
        .await
        .expect("input")
        .send_keys("not-the-token")
        .await
        .expect("type");
    c.find(Locator::Css("#token-save"))
        .await
        .expect("save")
        .click()
        .await
        .expect("save");
    let refused = until(c, "the refusal", Duration::from_secs(20), "const e = document.getElementById('token-error'); return document.getElementById('token-dialog').open && !e.hidden ? e.textContent : null").await;
    assert!(
        refused.as_str().unwrap_or("").contains("not valid"),
        "serve's reason is shown: {refused}"
    );
    screenshot(c, "token-refused").await;
    c.find(Locator::Css("#token-input"))
        .await
        .expect("input")
        .send_keys("it-token-0123456789")
        .await
        .expect("type");
    c.find(Locator::Css("#token-save"))
        .await
        .expect("save")
        .click()
        .await
        .expect("save");
    let flash = until(c, "the savepoint to be taken", Duration::from_secs(180), "const f = document.getElementById('flash'); return !f.hidden && f.classList.contains('ok') ? f.textContent : (!f.hidden && f.classList.contains('error') ? 'ERROR ' + f.textContent : null)").await;
    let flash = flash.as_str().unwrap_or("").to_string();
    assert!(flash.starts_with("Savepoint taken: "), "{flash}");
    let path = flash.trim_start_matches("Savepoint taken: ").to_string();
    let shown = until(c, "the new savepoint in the catalog", Duration::from_secs(30), &format!("return [...document.querySelectorAll('tr.snapshot[data-kind=savepoint]')].map(r => r.dataset.path).includes({}) ? true : null", json!(path))).await;
    assert_eq!(shown, true);
    assert!(
        !before
            .as_array()
            .is_some_and(|v| v.iter().any(|p| p == &json!(path))),
        "a new savepoint: {path}"
    );
    let local = PathBuf::from(path.trim_start_matches("file:").trim_start_matches("//"));
    assert!(
        local.join("_metadata").is_file(),
        "the savepoint is on disk: {}",
        local.display()
    );
    let cat = s.job("dev", "counter");
    assert!(
        cat["snapshots"]
            .as_array()
            .is_some_and(|v| v.iter().any(|x| x["path"] == json!(path)
                && x["kind"] == "savepoint"
                && x["status"] == "completed")),
        "and in serve's catalog"
    );
    js(
        c,
        "document.getElementById('flash').hidden = true; return true",
    )
    .await;
    screenshot(c, "job-after-savepoint").await;

    // 4. Restore from here asks for confirmation; cancelling changes nothing.
    c.find(Locator::Css("button.restore"))
        .await
        .expect("restore button")
        .click()
        .await
        .expect("click");
    let text = until(c, "the restore confirmation", Duration::from_secs(5), "const d = document.getElementById('confirm-dialog'); return d.open ? document.getElementById('confirm-text').textContent : null").await;
    assert!(
        text.as_str()
            .unwrap_or("")
            .contains("Restart dev/counter from"),
        "{text}"
    );
    c.find(Locator::Css("#confirm-cancel"))
        .await
        .expect("cancel")
        .click()
        .await
        .expect("cancel");

    // 5. An unknown job id: a clear message naming the known jobs, not a blank page.
    c.goto(&format!("{url}/jobs/dev/no-such-job"))
        .await
        .expect("open");
    let msg = until(
        c,
        "the unknown-job message",
        Duration::from_secs(20),
        "return document.querySelector('#message #known-jobs') ? document.querySelector('#message').innerText : null",
    )
    .await;
    let msg = msg.as_str().unwrap_or("");
    assert!(
        msg.contains("Unknown job")
            && msg.contains("dev/no-such-job")
            && msg.contains("dev/counter"),
        "{msg}"
    );
    screenshot(c, "unknown-job").await;

    // 6. Alerts page.
    c.goto(&format!("{url}/alerts")).await.expect("open");
    until(
        c,
        "the alerts page",
        Duration::from_secs(20),
        "return document.querySelector('#alerts') !== null",
    )
    .await;
    screenshot(c, "alerts").await;

    // 7. Flink stops answering (JobManager stopped with SIGSTOP) while the job page is open: the
    // page keeps the stored data and says so; it recovers when Flink answers again.
    c.goto(&format!("{url}/jobs/dev/counter"))
        .await
        .expect("open");
    until(
        c,
        "the job page",
        Duration::from_secs(30),
        "return document.querySelector('#chart-records') !== null",
    )
    .await;
    let jm = s.pid_of("jobmanager");
    let cmdline = std::fs::read(format!("/proc/{jm}/cmdline")).unwrap_or_default();
    assert!(
        jm > 1 && String::from_utf8_lossy(&cmdline).contains("StandaloneSessionClusterEntrypoint"),
        "pid {jm} is this cluster's JobManager"
    );
    let _ = Command::new("kill")
        .args(["-STOP", &jm.to_string()])
        .status();
    let banner = std::panic::AssertUnwindSafe(until(
        c,
        "the banner about Flink",
        Duration::from_secs(90),
        "const b = document.getElementById('banner'); return !b.hidden ? b.textContent : null",
    ))
    .catch_unwind_async()
    .await;
    let page = js(c, "return document.querySelector('#job') !== null && document.querySelector('#snapshots') !== null").await;
    if banner.is_err() || page != json!(true) {
        let _ = Command::new("kill")
            .args(["-CONT", &jm.to_string()])
            .status();
    }
    let banner = banner.unwrap_or_else(|p| std::panic::resume_unwind(p));
    assert!(
        banner
            .as_str()
            .unwrap_or("")
            .contains("Flink does not answer"),
        "{banner}"
    );
    assert_eq!(page, json!(true), "the stored data stays on the page");
    screenshot(c, "flink-not-answering").await;
    let _ = Command::new("kill")
        .args(["-CONT", &jm.to_string()])
        .status();
    until(
        c,
        "the banner to go once Flink answers",
        Duration::from_secs(90),
        "return document.getElementById('banner').hidden",
    )
    .await;
}
