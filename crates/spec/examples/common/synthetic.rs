// A synthetic spec of `envs` Kubernetes environments × `jobs` jobs (shared by the render bench
// and the large-spec validation test through `include!`).
pub fn synthetic_spec(envs: usize, jobs: usize) -> String {
    let mut s = String::from("platform: bench\nenvironments:\n");
    for e in 0..envs {
        s.push_str(&format!(
            "  env{e}:\n    target: kubernetes\n    namespace: flink-env{e}\n    flinkVersion: \"2.2\"\n    storage: {{checkpoints: s3://b/cp{e}, savepoints: s3://b/sp{e}, ha: s3://b/ha{e}}}\n    jobManager: {{replicas: 2, memory: 2g, cpu: 1}}\n    taskManager: {{replicas: 4, memory: 4g, cpu: 2, slots: 4}}\n    parallelism: 4\n    checkpointing: {{interval: 60s, timeout: 10 min}}\n    profile: high-throughput\n    flinkConfiguration:\n      restart-strategy.type: exponential-delay\n"
        ));
    }
    s.push_str("jobs:\n");
    for j in 0..jobs {
        s.push_str(&format!(
            "  job-{j:03}:\n    jar: s3://jobs/job-{j}.jar\n    entryClass: com.example.Job{j}\n    args: [--id, \"{j}\"]\n    upgradeMode: last-state\n    savepoints: {{interval: 6h, maxCount: 5, maxAge: 3d}}\n    autoscaler: {{targetUtilization: 0.7, minParallelism: 1, maxParallelism: 32}}\n    alerts: {{channels: [slack]}}\n"
        ));
    }
    s.push_str("alerting:\n  channels:\n    slack:\n      severities: [critical, warning]\n      slack: {channel: \"#alerts\", webhookUrl: {kubernetesSecret: {name: am, key: slack}}}\n    pd:\n      severities: [critical]\n      pagerduty: {routingKey: {file: /etc/am/pd}}\n");
    s
}
