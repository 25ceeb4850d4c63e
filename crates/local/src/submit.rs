//! Submitting jobs to a Flink session cluster over REST: a user's jar, or a SQL script through
//! the SQL runner. Used by `flinkops job submit`, `local up --demo` and the control plane.

use std::collections::BTreeMap;
use std::path::Path;

use flinkops_rest::{FlinkClient, JarId, JobId, RunJarRequest};

use crate::dist::FlinkDist;
use crate::home::Home;
use crate::java::Java;
use crate::{Error, Result, sql_runner};

/// Where and how a job starts.
#[derive(Debug, Clone, Default)]
pub struct SubmitOptions {
    pub parallelism: Option<u32>,
    /// Restore from this savepoint or retained checkpoint.
    pub from_savepoint: Option<String>,
    pub allow_non_restored_state: bool,
    /// Job configuration (`flinkConfiguration` of the run request; `pipeline.name`, …).
    pub flink_configuration: BTreeMap<String, String>,
}

/// What to run.
#[derive(Debug, Clone)]
pub enum Program<'a> {
    Jar { path: &'a Path, entry_class: Option<String>, args: Vec<String> },
    /// A SQL script, run by the SQL runner. `parallelism_by_name` gives vertices a parallelism
    /// by their stable name (the vertex name without the planner's node numbers, which
    /// survives a resubmission unlike vertex ids); the runner sets it on the operators before
    /// Flink chains them. Empty: every vertex runs at the job's parallelism.
    Sql { script: String, parallelism_by_name: BTreeMap<String, u32> },
}

/// Uploads the program's jar, runs it and deletes the uploaded jar again (the job keeps running).
/// SQL scripts need the Flink distribution matching the cluster to compile the runner.
pub async fn submit(client: &FlinkClient, home: &Home, dist: Option<&FlinkDist>, java: Option<&Java>, program: Program<'_>, opts: &SubmitOptions) -> Result<JobId> {
    let (jar, entry_class, args) = match program {
        Program::Jar { path, entry_class, args } => (path.to_path_buf(), entry_class, args),
        Program::Sql { script, parallelism_by_name } => {
            if script.trim().is_empty() {
                return Err(Error::Other("the SQL script is empty".into()));
            }
            let dist = dist.ok_or_else(|| Error::Other("a Flink distribution is needed to compile the SQL runner".into()))?;
            let java = java.ok_or_else(|| Error::JavaMissing { hint: "the SQL runner needs a JDK".into() })?;
            let jar = sql_runner::ensure_jar(home, dist, java)?;
            (jar, Some(sql_runner::ENTRY_CLASS.to_string()), sql_runner::program_args(&script, &parallelism_by_name))
        }
    };
    if !jar.is_file() {
        return Err(Error::Other(format!("the jar {} does not exist", jar.display())));
    }
    let jar_id: JarId = client.upload_jar(&jar).await?;
    let request = RunJarRequest {
        entry_class,
        program_args: args,
        parallelism: opts.parallelism,
        savepoint_path: opts.from_savepoint.clone(),
        allow_non_restored_state: opts.from_savepoint.as_ref().map(|_| opts.allow_non_restored_state),
        flink_configuration: opts.flink_configuration.clone(),
        ..Default::default()
    };
    let result = client.run_jar(&jar_id, &request).await;
    // The uploaded jar is not needed once the job runs (or failed to start).
    if let Err(e) = client.delete_jar(&jar_id).await {
        tracing::warn!(jar = %jar_id, "could not delete the uploaded jar: {e}");
    }
    Ok(result?)
}
