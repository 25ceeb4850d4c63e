//! flinkops-notify: health-rule evaluation and alert notification channels (work in progress).
pub mod health;
mod time;
