#!/usr/bin/env python3
"""Recovery time after a JobManager kill -9 under `flinkops serve`, against the bare cost of
starting a cluster and restoring the same job.

Usage:
    FLINKOPS_BIN=target/release/flinkops FLINKOPS_HOME=... scripts/bench-recovery.py [--runs 3]

Needs Flink 2.3 installed under $FLINKOPS_HOME (`flinkops flink install 2.3.0`), java, and the
binary (default target/release/flinkops, or $FLINKOPS_BIN). Python 3 standard library only.

1. serve: starts `flinkops serve` on a temporary spec (platform `bench-rec-<pid>`, one `local`
   environment `dev`: 1 TaskManager with 4 slots, parallelism 1, hashmap state backend,
   exactly-once checkpoints every 2 s; one streaming SQL job `counter` holding keyed state:
   COUNT/SUM per key over a datagen source) and waits until the job runs and has checkpointed.
   Then, per run: kill -9 of the JobManager (t0), and
     detection      t0 -> serve's `flinkops_local_process_restarts_total{process="JobManager"}`
                    has grown (polled every 100 ms on /metrics): supervision noticed the dead
                    process, stopped the old TaskManagers and started JobManager and
                    TaskManagers again;
     cluster restart -> the `recover` intent's `created_at`: Flink's REST answers again, the job
                    is gone, and serve acts;
     restore        -> the first completed checkpoint of the resubmitted job (Flink's
                    `latest_ack_timestamp` in /jobs/:id/checkpoints): the job is restored, runs
                    and checkpoints. Flink's `latest.restored.external_path` must be a retained
                    checkpoint of the killed job (the script says whether it was the newest).
                    Shown inside it: serve's submission (the intent's `created_at` ->
                    `finished_at`: the SQL runner builds the job graph and submits it).
   Between runs it waits until serve reports the job running again and the job has completed
   two more checkpoints, plus --settle seconds.
2. bare (the same invocation, afterwards): serve is stopped (SIGTERM to its pid) and its cluster
   stopped with `flinkops local down`; the newest retained checkpoint (`chk-N/_metadata`) of the
   job is the restore point. Per run: `flinkops local up` of a fresh cluster with the same Flink
   configuration as serve's cluster (every key of its cluster.json except directories, ports and
   addresses, passed as -D), `flinkops job submit --sql <same SQL> --from-savepoint <chk dir>`,
   until the job's first completed checkpoint (shown inside: the `job submit` command's time);
   then `local down`.
3. Prints per phase the median, min and max (seconds), the ratio of the medians
   serve recovery total / bare total, and one JSON line (prefixed `JSON `) with every figure.

Every process it starts is stopped by pid (serve) or `local down` (clusters), also on errors
and Ctrl-C. The temporary directory and the two clusters' directories (checkpoints) are removed
at the end unless --keep is given (or the run failed: then they are kept and named).
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

BIN = os.environ.get("FLINKOPS_BIN", "target/release/flinkops")
TOKEN = "bench-token-0123456789"

SQL = """CREATE TABLE src (k INT, v BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '{rate}', 'fields.k.min' = '1', 'fields.k.max' = '{keys}');
CREATE TABLE snk (k INT, c BIGINT, s BIGINT, PRIMARY KEY (k) NOT ENFORCED) WITH ('connector' = 'blackhole');
INSERT INTO snk SELECT k, COUNT(*), SUM(v) FROM src GROUP BY k;
"""

SPEC = """platform: {platform}
environments:
  dev:
    target: local
    flinkVersion: "2.3"
    taskManager: {{replicas: 1, memory: 1728m, slots: 4}}
    parallelism: 1
    stateBackend: hashmap
    checkpointing: {{interval: 2s, mode: exactly-once}}
jobs:
  counter:
    sql: counter.sql
"""

# Cluster settings that are the cluster's own (its directory, ports, addresses), not its shape.
OWN_KEYS = re.compile(r"(\.port$|\.address$|bind-host$|\.host$|^io\.tmp\.dirs$|^web\.tmpdir$|^web\.upload\.dir$|^execution\.checkpointing\.(savepoint-)?dir$)")


class Failed(Exception):
    pass


def now_ms():
    return int(time.time() * 1000)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def http_json(url, timeout=10, token=None):
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read().decode() or "null")


def try_json(url, timeout=10):
    try:
        return http_json(url, timeout)
    except (urllib.error.URLError, OSError, ValueError):
        return None


def try_text(url, timeout=10):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.read().decode()
    except (urllib.error.URLError, OSError):
        return None


def wait_for(what, timeout_s, fn, every=0.1):
    deadline = time.monotonic() + timeout_s
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise Failed(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(every)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def flinkops(*args, check=True, timeout=600):
    p = subprocess.run([BIN, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise Failed(f"flinkops {' '.join(args)} exited {p.returncode}:\n{p.stderr.strip()}")
    return p


def home():
    h = os.environ.get("FLINKOPS_HOME")
    if not h:
        raise Failed("set FLINKOPS_HOME (where Flink 2.3 is installed: flinkops flink install 2.3.0)")
    return h


def cluster_dir(name):
    return os.path.join(home(), "clusters", name)


def cluster_state(name):
    with open(os.path.join(cluster_dir(name), "cluster.json")) as f:
        return json.load(f)


def rest_of(name):
    return f"http://127.0.0.1:{cluster_state(name)['rest_port']}"


def pid_of(name, role):
    with open(os.path.join(cluster_dir(name), "pids", f"{role}.pid")) as f:
        return int(f.read().strip())


def local_path(uri):
    return re.sub(r"^file:(//)?", "", uri or "")


def retained_checkpoints(job_dir):
    """chk-N directories with a `_metadata`, oldest first."""
    out = []
    for n in os.listdir(job_dir) if os.path.isdir(job_dir) else []:
        m = re.fullmatch(r"chk-(\d+)", n)
        if m and os.path.isfile(os.path.join(job_dir, n, "_metadata")):
            out.append((int(m.group(1)), os.path.join(job_dir, n)))
    return [p for _, p in sorted(out)]


def first_checkpoint(rest, job_id):
    """(ack ms of the job's first completed checkpoint, the checkpoint statistics), or None."""
    cp = try_json(f"{rest}/jobs/{job_id}/checkpoints")
    if not cp or (cp.get("counts") or {}).get("completed", 0) < 1:
        return None
    acks = [h["latest_ack_timestamp"] for h in cp.get("history", []) if h.get("status") == "COMPLETED"]
    if not acks:
        acks = [cp["latest"]["completed"]["latest_ack_timestamp"]]
    return min(acks), cp


def running_at(rest, job_id):
    j = try_json(f"{rest}/jobs/{job_id}")
    if not j or j.get("state") != "RUNNING":
        return None
    return (j.get("timestamps") or {}).get("RUNNING") or now_ms()


class Serve:
    def __init__(self, workdir, platform):
        self.workdir = workdir
        self.platform = platform
        self.cluster = f"{platform}-dev"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(workdir, "serve.log")
        self.proc = None

    def start(self):
        spec = os.path.join(self.workdir, "flinkops.yaml")
        with open(spec, "w") as f:
            f.write(SPEC.format(platform=self.platform))
        token = os.path.join(self.workdir, "token")
        with open(token, "w") as f:
            f.write(TOKEN)
        env = {k: v for k, v in os.environ.items() if k not in ("FLINKOPS_TOKEN", "FLINK_HOME", "FLINKOPS_FAILPOINTS")}
        logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [BIN, "-v", "serve", "--spec", spec, "--store", os.path.join(self.workdir, "store"), "--listen", f"127.0.0.1:{self.port}", "--tick-secs", "1", "--token-file", token],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, env=env)
        logf.close()
        log(f"serve pid {self.proc.pid} on {self.url}, log {self.log_path}")
        wait_for("serve to answer", 120, lambda: self.alive() and try_text(f"{self.url}/healthz", 5) is not None, every=0.5)

    def alive(self):
        if self.proc.poll() is not None:
            raise Failed(f"serve exited ({self.proc.returncode}); log:\n{self.log_tail()}")
        return True

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            log(f"serve stopped ({self.proc.returncode})")

    def job(self):
        self.alive()
        return try_json(f"{self.url}/api/v1/jobs/dev/counter") or {}

    def jm_restarts(self):
        text = try_text(f"{self.url}/metrics", 5)
        if text is None:
            return None
        m = re.search(r'^flinkops_local_process_restarts_total\{env="dev",process="JobManager"\} (\d+)', text, re.M)
        return int(m.group(1)) if m else 0

    def log_tail(self, n=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


def running_with_checkpoint(s):
    """serve's view: the job runs and its current Flink job has a completed checkpoint."""
    j = s.job()
    job = j.get("job") or {}
    fid, cp = job.get("flink_job_id"), job.get("last_checkpoint") or ""
    return j if job.get("phase") == "running" and fid and fid in cp else None


def settle(s, rest, job_id, settle_s):
    """Stable: serve reports the job running, the job completed 2 more checkpoints, settle_s passed."""
    wait_for("serve to report the job running and checkpointing", 300, lambda: running_with_checkpoint(s), every=0.5)
    base = (first_checkpoint(rest, job_id) or (0, {"counts": {"completed": 0}}))[1]["counts"]["completed"]
    wait_for("two more checkpoints", 120, lambda: (try_json(f"{rest}/jobs/{job_id}/checkpoints") or {}).get("counts", {}).get("completed", 0) >= base + 2, every=0.5)
    time.sleep(settle_s)
    j = running_with_checkpoint(s)
    if not j or j["job"]["flink_job_id"] != job_id:
        raise Failed(f"the job is not stable before the next kill: {j}")


def serve_run(s, run, job_id):
    rest = rest_of(s.cluster)
    restarts = s.jm_restarts()
    jm = pid_of(s.cluster, "jobmanager")
    jdir = os.path.join(cluster_dir(s.cluster), "checkpoints", job_id)
    t0 = now_ms()
    os.kill(jm, signal.SIGKILL)
    # No checkpoint completes without a JobManager: the newest retained one is final now.
    newest = (retained_checkpoints(jdir) or [None])[-1]
    log(f"run {run}: killed JobManager {jm} (job {job_id}, newest retained {newest})")

    def detected():
        r = s.jm_restarts()
        return now_ms() if r is not None and r > restarts else None
    t_detect = wait_for("the JobManager restart", 300, detected, every=0.1)

    def recover_intent():
        j = s.job()
        for i in j.get("intents", []):
            if i.get("kind") == "recover" and (i.get("created_at") or 0) >= t0:
                return i
        return None
    intent = wait_for("the recover intent", 600, recover_intent, every=0.1)
    t_intent = intent["created_at"]

    def new_job():
        ov = try_json(f"{rest}/jobs/overview", 5) or {}
        ids = [j["jid"] for j in ov.get("jobs", []) if j["jid"] != job_id and j.get("name", "").startswith("counter@")]
        return ids[-1] if ids else None
    new_id = wait_for("the resubmitted job", 600, new_job, every=0.2)
    t_ckpt, cp = wait_for("the restored job's first completed checkpoint", 600, lambda: first_checkpoint(rest, new_id), every=0.2)
    t_running = running_at(rest, new_id)
    restored = local_path(((cp.get("latest") or {}).get("restored") or {}).get("external_path"))
    if not (restored and f"{job_id}/chk-" in restored):
        raise Failed(f"run {run}: the new job {new_id} restored {restored!r}, not a checkpoint of the killed job {job_id}")
    intent = recover_intent()
    r = {
        "run": run, "killed_job": job_id, "new_job": new_id, "restored": restored,
        "restored_newest": os.path.normpath(restored) == os.path.normpath(newest or ""),
        "detection_s": (t_detect - t0) / 1000, "cluster_restart_s": (t_intent - t_detect) / 1000,
        "restore_s": (t_ckpt - t_intent) / 1000, "total_s": (t_ckpt - t0) / 1000,
        # Inside restore: serve's submission (intent created -> finished) and the job's RUNNING.
        "submit_s": ((intent.get("finished_at") or t_intent) - t_intent) / 1000,
        "to_running_s": ((t_running or t_ckpt) - t0) / 1000,
    }
    log(f"run {run}: detection {r['detection_s']:.1f} s, cluster restart {r['cluster_restart_s']:.1f} s, restore {r['restore_s']:.1f} s, total {r['total_s']:.1f} s; restored {restored} (newest: {r['restored_newest']})")
    return r, new_id


def bare_run(run, name, port, flags, sql, chk):
    t_start = now_ms()
    flinkops("local", "up", "--name", name, "--rest-port", str(port), "--flink-version", "2.3.0", *flags, "-o", "json", timeout=900)
    t_up = now_ms()
    rest = f"http://127.0.0.1:{port}"
    out = flinkops("job", "submit", "--rest", rest, "--sql", sql, "-p", "1", "--from-savepoint", chk, "-o", "json", timeout=900)
    t_submitted = now_ms()
    job_id = json.loads(out.stdout)["job_id"]
    t_ckpt, cp = wait_for("the bare job's first completed checkpoint", 600, lambda: first_checkpoint(rest, job_id), every=0.2)
    t_running = running_at(rest, job_id)
    restored = local_path(((cp.get("latest") or {}).get("restored") or {}).get("external_path"))
    if os.path.normpath(restored) != os.path.normpath(chk):
        raise Failed(f"bare run {run}: restored {restored!r}, expected {chk}")
    r = {
        "run": run, "job": job_id, "restored": restored,
        "cluster_up_s": (t_up - t_start) / 1000, "restore_s": (t_ckpt - t_up) / 1000, "total_s": (t_ckpt - t_start) / 1000,
        "submit_s": (t_submitted - t_up) / 1000, "to_running_s": ((t_running or t_ckpt) - t_start) / 1000,
    }
    log(f"bare run {run}: cluster up {r['cluster_up_s']:.1f} s, submit+restore to first checkpoint {r['restore_s']:.1f} s, total {r['total_s']:.1f} s")
    flinkops("local", "down", "--name", name, "--timeout", "30", timeout=120)
    return r


def stats(xs):
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)}


def on_sigterm(_sig, _frame):
    raise KeyboardInterrupt


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="kills under serve, and bare restores (default 3)")
    ap.add_argument("--settle", type=float, default=10, help="seconds to wait once the job is stable before the next kill (default 10)")
    ap.add_argument("--rate", type=int, default=200, help="datagen rows per second (default 200)")
    ap.add_argument("--keys", type=int, default=50, help="distinct keys, i.e. keyed state entries (default 50)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory and the clusters' directories")
    a = ap.parse_args()
    if a.runs < 1:
        ap.error("--runs must be at least 1")
    signal.signal(signal.SIGTERM, on_sigterm)
    home()
    if not os.access(BIN, os.X_OK):
        raise Failed(f"no flinkops binary at {BIN} (set FLINKOPS_BIN)")

    platform = f"bench-rec-{os.getpid()}"
    workdir = tempfile.mkdtemp(prefix="bench-recovery-")
    with open(os.path.join(workdir, "counter.sql"), "w") as f:
        f.write(SQL.format(rate=a.rate, keys=a.keys))
    sql = os.path.join(workdir, "counter.sql")
    s = Serve(workdir, platform)
    bare_name = f"{platform}-bare"
    started = set()
    ok = False
    load = open("/proc/loadavg").read().split()[:3]
    serve_runs, bare_runs = [], []
    try:
        # 1. serve: deploy, then kill the JobManager --runs times.
        t_start = time.monotonic()
        started.add(s.cluster)
        s.start()
        j = wait_for("the job to run and checkpoint", 600, lambda: running_with_checkpoint(s), every=0.5)
        job_id = j["job"]["flink_job_id"]
        log(f"deployed: job {job_id} runs and checkpoints after {time.monotonic() - t_start:.0f} s")
        settle(s, rest_of(s.cluster), job_id, a.settle)
        for run in range(1, a.runs + 1):
            r, job_id = serve_run(s, run, job_id)
            serve_runs.append(r)
            settle(s, rest_of(s.cluster), job_id, a.settle)
        metrics = try_text(f"{s.url}/metrics") or ""
        m = re.search(r"^flinkops_recoveries_total (\d+)", metrics, re.M)
        recoveries = int(m.group(1)) if m else None

        # 2. bare: serve and its cluster stopped; restore the newest retained checkpoint.
        config = cluster_state(s.cluster)
        s.stop()
        flinkops("local", "down", "--name", s.cluster, "--timeout", "30", timeout=120)
        jdir = os.path.join(cluster_dir(s.cluster), "checkpoints", job_id)
        chks = retained_checkpoints(jdir)
        if not chks:
            raise Failed(f"no retained checkpoint in {jdir}")
        chk = chks[-1]
        log(f"bare: restoring {chk}")
        flags = ["--taskmanagers", str(config["taskmanagers"]), "--slots", str(config["slots"])]
        shape = {k: v for k, v in config["config"].items() if not OWN_KEYS.search(k)}
        for k, v in sorted(shape.items()):
            flags += ["-D", f"{k}={v}"]
        port = free_port()
        started.add(bare_name)
        for run in range(1, a.runs + 1):
            bare_runs.append(bare_run(run, bare_name, port, flags, sql, chk))
            if run == 1:
                mine = {k: v for k, v in cluster_state(bare_name)["config"].items() if not OWN_KEYS.search(k)}
                if mine != shape:
                    diff = sorted(set(mine.items()) ^ set(shape.items()))
                    log(f"warning: the bare cluster's configuration differs from serve's: {diff}")
        ok = True
    except KeyboardInterrupt:
        log("interrupted")
    except Failed as e:
        log(f"failed: {e}")
        if s.proc:
            log(f"serve log tail:\n{s.log_tail()}")
    finally:
        s.stop()
        for name in started:
            flinkops("local", "down", "--name", name, "--timeout", "30", check=False, timeout=120)
        if ok and not a.keep:
            shutil.rmtree(workdir, ignore_errors=True)
            for name in started:
                shutil.rmtree(cluster_dir(name), ignore_errors=True)
        else:
            log(f"kept {workdir} and {', '.join(cluster_dir(n) for n in sorted(started))}")
    if not ok:
        return 1

    rows = [("serve", "detection (kill -> JobManager restarted)", "detection_s"),
            ("serve", "cluster restart (-> recover intent)", "cluster_restart_s"),
            ("serve", "restore (-> first checkpoint)", "restore_s"),
            ("serve", "  of which submission (intent finished)", "submit_s"),
            ("serve", "total", "total_s"),
            ("bare", "local up (-> TaskManagers registered)", "cluster_up_s"),
            ("bare", "submit + restore (-> first checkpoint)", "restore_s"),
            ("bare", "  of which `flinkops job submit`", "submit_s"),
            ("bare", "total", "total_s")]
    result = {"runs": a.runs, "loadavg": load, "loadavg_end": open("/proc/loadavg").read().split()[:3], "cpus": os.cpu_count(),
              "flinkops_recoveries_total": recoveries, "serve": serve_runs, "bare": bare_runs, "summary": {}}
    print(f"\nRecovery after a JobManager kill -9, {a.runs} runs (load average {' '.join(load)} at start, {' '.join(result['loadavg_end'])} at end, {os.cpu_count()} CPUs)\n")
    print(f"| {'':5} | {'phase':40} | median s | min s | max s |")
    print(f"|{'-' * 7}|{'-' * 42}|---------:|------:|------:|")
    for who, label, key in rows:
        st = stats([r[key] for r in (serve_runs if who == "serve" else bare_runs)])
        result["summary"][f"{who}.{key}"] = st
        print(f"| {who:5} | {label:40} | {st['median']:8.1f} | {st['min']:5.1f} | {st['max']:5.1f} |")
    ratio = result["summary"]["serve.total_s"]["median"] / result["summary"]["bare.total_s"]["median"]
    result["ratio_serve_over_bare"] = round(ratio, 3)
    newest = sum(r["restored_newest"] for r in serve_runs)
    print(f"\nratio serve recovery / bare restore (medians): {ratio:.2f}")
    print(f"serve restored the killed job's newest retained checkpoint in {newest} of {a.runs} runs" + ("" if newest == a.runs else " (the others: an older retained checkpoint of the same job)"))
    print("JSON " + json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failed as e:
        log(f"failed: {e}")
        sys.exit(1)
