//! The starting profiles: the seed guide's four presets with their intent kept and their keys
//! and values corrected (see [`crate::seed`] for the originals). A profile sets the goal and the
//! defaults a workload does not state; the workload's own facts always win.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::workload::{Goal, Workload};

/// A starting profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    LowLatency,
    HighThroughput,
    MemoryIntensive,
    Balanced,
}

impl Profile {
    pub const ALL: [Profile; 4] = [Profile::LowLatency, Profile::HighThroughput, Profile::MemoryIntensive, Profile::Balanced];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Profile::LowLatency => "low-latency",
            Profile::HighThroughput => "high-throughput",
            Profile::MemoryIntensive => "memory-intensive",
            Profile::Balanced => "balanced",
        }
    }

    /// Parses a profile name.
    pub fn parse(s: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.name() == s.trim())
    }

    /// The profile a workload implies when none is named: its goal, or memory-intensive when
    /// its state is larger than its TaskManagers' memory.
    pub fn for_workload(w: &Workload) -> Profile {
        if let Ok(r) = w.resolve()
            && let Some(state) = r.state_size
            && state > r.taskmanager_memory.saturating_mul(u64::from(w.cluster.taskmanagers))
        {
            return Profile::MemoryIntensive;
        }
        match w.goal {
            Goal::Latency => Profile::LowLatency,
            Goal::Throughput => Profile::HighThroughput,
            Goal::Balanced => Profile::Balanced,
        }
    }

    /// The goal of the profile, unless the workload states one.
    pub fn goal(self, w: &Workload) -> Goal {
        match (w.goal, self) {
            (Goal::Balanced, Profile::LowLatency) => Goal::Latency,
            (Goal::Balanced, Profile::HighThroughput) => Goal::Throughput,
            (g, _) => g,
        }
    }

    /// Checkpoint interval when the workload gives none: the seed's (10 s for low latency, 5 min
    /// for high throughput, 60 s elsewhere — its checkpoint section's value).
    pub fn checkpoint_interval(self) -> Duration {
        match self {
            Profile::LowLatency => Duration::from_secs(10),
            Profile::HighThroughput => Duration::from_secs(300),
            Profile::MemoryIntensive | Profile::Balanced => Duration::from_secs(60),
        }
    }

    /// Whether the profile keeps state in RocksDB whatever its size (the seed's memory-intensive
    /// preset is a RocksDB preset).
    pub fn prefers_rocksdb(self) -> bool {
        self == Profile::MemoryIntensive
    }

    /// Buffer timeout when the workload gives no latency target: the seed's 1 ms for low
    /// latency; otherwise Flink's default (100 ms) is kept.
    pub fn buffer_timeout(self) -> Option<Duration> {
        (self == Profile::LowLatency).then_some(Duration::from_millis(1))
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Profile::ALL {
            assert_eq!(Profile::parse(p.name()), Some(p));
            assert_eq!(serde_json::to_value(p).unwrap(), p.name());
        }
        assert_eq!(Profile::parse("fast"), None);
    }

    #[test]
    fn implied_profile() {
        let mut w = Workload { goal: Goal::Latency, ..Default::default() };
        assert_eq!(Profile::for_workload(&w), Profile::LowLatency);
        w.state_size = Some("100gb".into());
        assert_eq!(Profile::for_workload(&w), Profile::MemoryIntensive);
        assert_eq!(Profile::for_workload(&Workload::default()), Profile::Balanced);
        assert_eq!(Profile::HighThroughput.goal(&Workload::default()), Goal::Throughput);
        assert_eq!(Profile::HighThroughput.goal(&Workload { goal: Goal::Latency, ..Default::default() }), Goal::Latency);
    }
}
