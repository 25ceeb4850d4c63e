//! `flinkops serve` (the control-plane daemon), `flinkops status`, and the lifecycle commands
//! that talk to a running serve (`deploy`, `upgrade`, `rollback`, `suspend`, `resume`,
//! `savepoint`, `restore`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow};
use clap::Args;
use flinkops_serve::api::StatusView;
use flinkops_serve::state::CommandResult;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::output::{self, Exit, GlobalArgs, OutputFormat, input, peer};

/// `flinkops serve`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  flinkops serve --spec examples/local/flinkops.yaml\n  flinkops serve --spec flinkops.yaml --store postgres://flinkops@db:5432/flinkops --listen 0.0.0.0:8990 --token-file /etc/flinkops/token\n\nserve starts the local clusters of `target: local` environments and keeps them up, deploys every job,\nupgrades changed jobs through a savepoint (rolling back when the new version does not run and\ncheckpoint in time), takes periodic savepoints and deletes expired ones, and restores failed jobs\nfrom their latest valid checkpoint. Its API and /metrics listen on --listen; actions need the token."
)]
pub struct ServeArgs {
    /// The platform spec.
    #[arg(long, short = 's')]
    pub spec: PathBuf,
    /// Store: a directory (SQLite, WAL), `sqlite://FILE` or `postgres://user@host:port/db`.
    /// Default: `$FLINKOPS_HOME/serve/<platform>`.
    #[arg(long, env = "FLINKOPS_STORE")]
    pub store: Option<String>,
    /// Kubeconfig for `target: kubernetes` environments (default: KUBECONFIG, ~/.kube/config
    /// or in-cluster).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context for `target: kubernetes` environments.
    #[arg(long)]
    pub context: Option<String>,
    /// Address of the API, the dashboard and /metrics.
    #[arg(long, default_value = "127.0.0.1:8990")]
    pub listen: SocketAddr,
    /// File holding the API token. Default: FLINKOPS_TOKEN, else a token generated into
    /// `$FLINKOPS_HOME/serve/<platform>/token` (mode 0600), which the CLI finds by itself.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Seconds between reconcile steps of a job when nothing happens.
    #[arg(long, default_value_t = 5)]
    pub tick_secs: u64,
    /// Use this Flink installation for local environments instead of an installed one.
    #[arg(long, env = "FLINK_HOME")]
    pub flink_home: Option<PathBuf>,
    /// Stop the local clusters when serve exits (default: they keep running, serve takes them
    /// over when it starts again).
    #[arg(long)]
    pub stop_local_clusters_on_exit: bool,
}

/// Where a running serve is, written by serve for the CLI.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ServeInfo {
    url: String,
    pid: u32,
    platform: String,
    spec: String,
    store: String,
}

fn serve_dir(home: &flinkops_local::home::Home, platform: &str) -> PathBuf {
    home.root().join("serve").join(platform)
}

fn platform_of(spec: &Path) -> anyhow::Result<String> {
    let text = flinkops_spec::output::read_spec(spec).map_err(input)?;
    let parsed = flinkops_spec::parse(&spec.display().to_string(), &text).map_err(|d| input(anyhow!("{}", d.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))))?;
    Ok(parsed.spec.platform)
}

fn read_token_file(path: &Path) -> anyhow::Result<String> {
    let t = std::fs::read_to_string(path).with_context(|| format!("reading the token file {}", path.display())).map_err(input)?;
    let t = t.trim().to_string();
    if t.is_empty() {
        return Err(input(anyhow!("the token file {} is empty", path.display())));
    }
    Ok(t)
}

fn generate_token(path: &Path) -> anyhow::Result<String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Ok(t) = read_token_file(path) {
        return Ok(t);
    }
    let bytes: [u8; 32] = rand::random();
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut f = std::fs::OpenOptions::new().create(true).truncate(true).write(true).mode(0o600).open(path).with_context(|| format!("writing {}", path.display()))?;
    f.write_all(token.as_bytes())?;
    Ok(token)
}

/// `flinkops serve --spec FILE`.
pub fn serve(args: ServeArgs, g: &GlobalArgs) -> anyhow::Result<Exit> {
    let home = super::home(g)?;
    let platform = platform_of(&args.spec)?;
    let dir = serve_dir(&home, &platform);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display())).map_err(input)?;
    let store = args.store.clone().unwrap_or_else(|| dir.display().to_string());
    let token = match (&args.token_file, std::env::var("FLINKOPS_TOKEN").ok().filter(|t| !t.trim().is_empty())) {
        (Some(f), _) => read_token_file(f)?,
        (None, Some(t)) => t.trim().to_string(),
        (None, None) => generate_token(&dir.join("token"))?,
    };
    let opts = flinkops_serve::ServeOptions {
        spec: args.spec.clone(),
        store: store.clone(),
        home: home.clone(),
        flink_home: args.flink_home.clone(),
        tick: Duration::from_secs(args.tick_secs.max(1)),
        supervise_every: Duration::from_secs(2),
        token: Some(token),
        kubeconfig: args.kubeconfig.clone(),
        kube_context: args.context.clone(),
    };
    let rt = super::runtime()?;
    let info_path = dir.join("serve.json");
    let spec_display = args.spec.display().to_string();
    let result = rt.block_on(async {
        let shutdown = async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
            }
            tracing::info!("shutting down: finishing the steps in progress");
        };
        let on_listen = |addr: SocketAddr| {
            let info = ServeInfo { url: format!("http://{addr}"), pid: std::process::id(), platform: platform.clone(), spec: spec_display.clone(), store: redact_url(&store) };
            let _ = std::fs::write(&info_path, serde_json::to_string_pretty(&info).unwrap_or_default());
            eprintln!(
                "flinkops serve: {} on http://{addr} (store {}, token in {})",
                platform,
                redact_url(&store),
                if args.token_file.is_some() { "--token-file".into() } else { dir.join("token").display().to_string() }
            );
        };
        flinkops_serve::run(opts, args.listen, on_listen, shutdown).await
    });
    let _ = std::fs::remove_file(&info_path);
    let shared = result.map_err(serve_error)?;
    if args.stop_local_clusters_on_exit {
        rt.block_on(shared.stop_local_clusters());
    }
    Ok(Exit::Success)
}

/// Whether `serve.json` names a process that still runs (a crashed serve leaves its file).
fn serve_alive(info: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(info) else {
        return false;
    };
    match serde_json::from_str::<ServeInfo>(&text) {
        Ok(i) => Path::new("/proc").join(i.pid.to_string()).exists(),
        // Unreadable: keep it, so the error names the file.
        Err(_) => true,
    }
}

fn redact_url(s: &str) -> String {
    match url::Url::parse(s) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => s.to_string(),
    }
}

fn serve_error(e: flinkops_serve::Error) -> anyhow::Error {
    match e {
        flinkops_serve::Error::Input(_) | flinkops_serve::Error::NotFound(_) | flinkops_serve::Error::Conflict(_) | flinkops_serve::Error::Unauthorized(_) => input(e),
        other => peer(other),
    }
}

/// How the CLI reaches serve.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// serve's URL. Default: found through `$FLINKOPS_HOME/serve/<platform>/serve.json`.
    #[arg(long, env = "FLINKOPS_SERVER")]
    pub server: Option<String>,
    /// The platform spec (to find its serve and token).
    #[arg(long, short = 's')]
    pub spec: Option<PathBuf>,
    /// File with the API token. Default: FLINKOPS_TOKEN, else the token serve generated.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
}

struct Server {
    url: String,
    token: Option<String>,
    http: reqwest::Client,
}

fn find_server(a: &ServerArgs, g: &GlobalArgs) -> anyhow::Result<Server> {
    let home = super::home(g)?;
    let base = home.root().join("serve");
    let dir = match (&a.spec, &a.server) {
        (Some(s), _) => Some(serve_dir(&home, &platform_of(s)?)),
        // An explicit URL needs no discovery (the token comes from --token-file or the env).
        (None, Some(_)) => None,
        (None, None) => {
            // serve.json of a serve that crashed stays behind: only live processes count.
            let dirs: Vec<PathBuf> = std::fs::read_dir(&base).into_iter().flatten().flatten().map(|e| e.path()).filter(|p| serve_alive(&p.join("serve.json"))).collect();
            match dirs.len() {
                1 => dirs.into_iter().next(),
                0 => None,
                _ => {
                    return Err(input(anyhow!("several serve processes run under {}; pick one with --spec FILE or --server URL", base.display())));
                }
            }
        }
    };
    let url = match (&a.server, &dir) {
        (Some(u), _) => u.trim_end_matches('/').to_string(),
        (None, Some(d)) => {
            let text = std::fs::read_to_string(d.join("serve.json"))
                .map_err(|_| peer(anyhow!("no serve is running for this platform (no {}); start one with `flinkops serve --spec FILE`", d.join("serve.json").display())))?;
            let info: ServeInfo = serde_json::from_str(&text).map_err(|e| input(anyhow!("{} is unreadable: {e}", d.join("serve.json").display())))?;
            info.url
        }
        (None, None) => {
            return Err(peer(anyhow!("no running serve found under {}; start one with `flinkops serve --spec FILE` or pass --server URL", base.display())));
        }
    };
    let token = match (&a.token_file, std::env::var("FLINKOPS_TOKEN").ok().filter(|t| !t.trim().is_empty())) {
        (Some(f), _) => Some(read_token_file(f)?),
        (None, Some(t)) => Some(t.trim().to_string()),
        (None, None) => dir.and_then(|d| read_token_file(&d.join("token")).ok()),
    };
    let http = reqwest::Client::builder().timeout(Duration::from_secs(330)).build()?;
    Ok(Server { url, token, http })
}

impl Server {
    async fn send(&self, req: reqwest::RequestBuilder) -> anyhow::Result<serde_json::Value> {
        let req = match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let resp = req.send().await.map_err(|e| peer(anyhow!("cannot reach serve at {}: {}", self.url, e.without_url())))?;
        let status = resp.status();
        let body: serde_json::Value = resp.json().await.unwrap_or(serde_json::Value::Null);
        if status.is_success() {
            return Ok(body);
        }
        let msg = body.pointer("/error/message").and_then(|m| m.as_str()).unwrap_or("no message").to_string();
        let e = anyhow!("serve refused ({}): {msg}", status.as_u16());
        Err(if status.is_client_error() { input(e) } else { peer(e) })
    }
}

/// GETs a path of serve's API (read-only: no token needed).
pub async fn get_json(a: &ServerArgs, path: &str, g: &GlobalArgs) -> anyhow::Result<serde_json::Value> {
    let server = find_server(a, g)?;
    server.send(server.http.get(format!("{}{path}", server.url))).await
}

/// `flinkops status`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  flinkops status --spec examples/local/flinkops.yaml\n  flinkops status -o json | jq '.jobs[] | {key, phase, health}'")]
pub struct StatusArgs {
    #[command(flatten)]
    pub server: ServerArgs,
}

pub fn status(args: StatusArgs, g: &GlobalArgs) -> anyhow::Result<Exit> {
    let server = find_server(&args.server, g)?;
    let rt = super::runtime()?;
    let body = rt.block_on(server.send(server.http.get(format!("{}/api/v1/status", server.url))))?;
    if g.output == OutputFormat::Json {
        output::print_json(&body)?;
        return Ok(Exit::Success);
    }
    let s: StatusView = serde_json::from_value(body).map_err(|e| peer(anyhow!("serve's status does not read: {e}")))?;
    println!("platform {} (spec {})", s.platform, s.spec);
    let mut t = output::table(&["ENVIRONMENT", "TARGET", "FLINK", "REST URL", "UP", "TASKMANAGERS", "SLOTS FREE/TOTAL"]);
    for e in &s.environments {
        t.add_row(vec![
            e.name.clone(),
            e.target.clone(),
            e.flink_version.clone(),
            e.rest_url.clone().unwrap_or_else(|| "-".into()),
            if e.reachable { "yes".into() } else { "no".into() },
            e.taskmanagers.map_or("-".into(), |n| n.to_string()),
            match (e.slots_available, e.slots_total) {
                (Some(a), Some(t)) => format!("{a}/{t}"),
                _ => "-".into(),
            },
        ]);
    }
    println!("{t}");
    let mut t = output::table(&["JOB", "PHASE", "STATE", "HEALTH", "FLINK JOB", "VERSION", "LAST CHECKPOINT", "LAST SAVEPOINT", "NOTE"]);
    for j in &s.jobs {
        let note = j.error.clone().or_else(|| j.waiting.clone()).or_else(|| j.pending.clone().map(|p| format!("{p} in progress"))).unwrap_or_default();
        let alerts = if j.alerts_firing.is_empty() { String::new() } else { format!(" [{}]", j.alerts_firing.join(", ")) };
        t.add_row(vec![
            j.key.clone(),
            j.phase.clone(),
            j.state.clone(),
            format!("{}{alerts}", j.health),
            j.flink_job_id.clone().unwrap_or_else(|| "-".into()),
            j.running_version.map_or("-".into(), |v| v.to_string()),
            j.last_checkpoint.clone().map(|p| short_path(&p)).unwrap_or_else(|| "-".into()),
            j.last_savepoint.clone().map(|p| short_path(&p)).unwrap_or_else(|| "-".into()),
            note,
        ]);
    }
    println!("{t}");
    Ok(Exit::Success)
}

fn short_path(p: &str) -> String {
    let parts: Vec<&str> = p.trim_end_matches('/').rsplitn(3, '/').collect();
    match parts.as_slice() {
        [a, b, _] => format!("…/{b}/{a}"),
        _ => p.to_string(),
    }
}

/// `flinkops deploy|upgrade|rollback|suspend|resume|savepoint JOB --env E`.
#[derive(Debug, Args)]
pub struct LifecycleArgs {
    /// The job (its name in the spec).
    pub job: String,
    /// The environment.
    #[arg(long, short = 'e')]
    pub env: String,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `flinkops restore JOB --env E --from PATH`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub target: LifecycleArgs,
    /// A completed checkpoint or savepoint of the job's catalog (`flinkops status -o json`).
    #[arg(long)]
    pub from: String,
}

pub fn lifecycle(command: &str, args: LifecycleArgs, g: &GlobalArgs) -> anyhow::Result<Exit> {
    send_command(command, &args, None, g)
}

pub fn restore(args: RestoreArgs, g: &GlobalArgs) -> anyhow::Result<Exit> {
    send_command("restore", &args.target, Some(json!({"path": args.from})), g)
}

fn send_command(command: &str, a: &LifecycleArgs, body: Option<serde_json::Value>, g: &GlobalArgs) -> anyhow::Result<Exit> {
    let server = find_server(&a.server, g)?;
    if server.token.is_none() {
        return Err(input(anyhow!("no API token: set FLINKOPS_TOKEN, pass --token-file, or run on the machine of the serve that generated one")));
    }
    let url = format!("{}/api/v1/jobs/{}/{}/{command}", server.url, a.env, a.job);
    let rt = super::runtime()?;
    let bar = output::Bar::spinner(g, &format!("{command} {}/{}", a.env, a.job));
    let req = server.http.post(url);
    let req = match body {
        Some(b) => req.json(&b),
        None => req,
    };
    let result = rt.block_on(server.send(req));
    bar.finish();
    let body = result?;
    if g.output == OutputFormat::Json {
        output::print_json(&body)?;
    } else {
        let r: CommandResult = serde_json::from_value(body).map_err(|e| peer(anyhow!("serve's answer does not read: {e}")))?;
        println!("{}", r.message);
    }
    Ok(Exit::Success)
}
