//! `flinkops serve`: the control-plane daemon.
//!
//! - [`model`]: from the spec to environments and managed jobs (what a version runs, its hash).
//! - [`env`]: an environment at run time; local clusters are started and supervised.
//! - [`reconcile`]: one reconcile step of one job — observe Flink, read the facts from the
//!   store, ask the pure planner (`flinkops_control::lifecycle::plan`) and perform its actions,
//!   each destructive one recorded as intent first; periodic savepoints and retention.
//! - [`cadence`]: when a job gets a full reconcile step and when comparing the shared overview
//!   (a light step) is enough: watch-driven with a periodic resync.
//! - [`state`]: the shared state, one loop per job and per local environment, and the commands
//!   (deploy, upgrade, rollback, suspend, resume, savepoint, restore).
//! - [`autoscale`]: the DS2 autoscaler in the reconcile loop (in place, adaptive scheduler).
//! - [`health`]: health rules and notifications.
//! - [`api`]: the REST API (axum), its OpenAPI document, `/metrics`.
//! - [`dashboard`]: the web dashboard at `/` (pages compiled in, a sampler for live numbers).

pub mod api;
pub mod autoscale;
pub mod cadence;
pub mod dashboard;
pub mod env;
pub mod failpoint;
pub mod health;
pub mod kube;
pub mod metrics;
pub mod model;
pub mod reconcile;
pub mod state;

mod error;
pub use error::{Error, Result};
pub use state::{ServeOptions, Shared};

use std::net::SocketAddr;
use std::sync::Arc;

/// Runs serve until `shutdown` resolves: starts the loops, serves the API on `listen`
/// (reported through `on_listen` once bound) and stops gracefully.
pub async fn run(
    opts: ServeOptions,
    listen: SocketAddr,
    on_listen: impl FnOnce(SocketAddr),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<Arc<Shared>> {
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| Error::Input(format!("cannot listen on {listen}: {e} (choose another address with --listen)")))?;
    let addr = listener.local_addr().map_err(|e| Error::Input(e.to_string()))?;
    let shared = Shared::start(opts).await?;
    on_listen(addr);
    let app = api::router(shared.clone());
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await.map_err(|e| Error::Input(format!("the API server failed: {e}")))?;
    shared.shutdown().await;
    Ok(shared)
}
