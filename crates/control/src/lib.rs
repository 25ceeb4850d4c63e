//! The flinkops control plane's core: what `flinkops serve` decides and remembers.
//!
//! - [`store`]: the durable store (SQLite by default, PostgreSQL with the same code): desired
//!   spec versions, observed jobs, the checkpoint/savepoint catalog, the intent/audit log, alert
//!   state, bounded metric history.
//! - [`lifecycle`]: the job lifecycle as a typed state machine (transitions checked at compile
//!   time), the pure planner `plan(desired, observed, facts) -> actions` and the pure
//!   `resume(intent, observed) -> action` that finishes or rolls back an upgrade after a crash.
//! - [`retention`]: which savepoints to delete (pure policy) and the shell that deletes them,
//!   intent first.
//! - [`recovery`]: which retained checkpoint or savepoint to restore from (checking Flink's
//!   `_metadata` header), exponential backoff with jitter and a circuit breaker.
//!
//! Functional core, imperative shell: everything that decides is pure code over plain data;
//! the store and the file system are thin shells around it. Times are epoch milliseconds.

pub mod lifecycle;
pub mod location;
pub mod objstore;
pub mod recovery;
pub mod retention;
pub mod store;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

mod error;
pub use error::{Error, Result};
