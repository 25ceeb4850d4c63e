//! flinkops-notify: the health of Flink jobs and the alerts about it.
//!
//! - [`health`]: the built-in rules (pure: samples in, alert states and notifications out);
//! - [`sample`]: reads one [`health::JobHealthSample`] of a job from Flink's REST API;
//! - [`channels`]: the [`Notifier`] that routes notifications by severity to Slack, PagerDuty,
//!   e-mail (SMTP), a generic webhook and Alertmanager;
//! - [`secret`]: channel secrets from env or file, never printed.
pub mod channels;
pub mod health;
pub mod sample;
pub mod secret;
mod time;

pub use channels::{ChannelKind, ConfigProblem, DeliveryResult, Notifier, NotifierOptions, fingerprint};
pub use health::{
    HealthHistory, JobEvaluation, JobHealthSample, Notification, NotificationStatus, Rule, RuleSettings, dedup_key,
    evaluate_job,
};
pub use sample::{SampleError, Sampled, sample_job};
pub use secret::{Secret, SecretError, redact, resolve_secret};
