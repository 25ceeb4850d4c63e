#!/usr/bin/env bash
# Record Flink REST response bodies from a real session cluster as test fixtures for crates/rest.
#
# usage: scripts/record-rest-fixtures.sh [VERSION...]     (default: every version installed)
#
# For each VERSION it starts a real standalone session cluster (JobManager + one TaskManager,
# adaptive scheduler, checkpoints every 1 s) from $FLINKOPS_HOME/flink/VERSION (default
# FLINKOPS_HOME; install with `flinkops flink install VERSION`), compiles scripts/fixture-job against that
# version's lib/, uploads and runs it, takes a savepoint, stops with a savepoint, restarts from it
# (so `latest.restored` is populated), rescales through resource requirements, provokes error
# bodies (unknown job, failing jar run, failing savepoint), cancels, and writes every body to
# crates/rest/tests/fixtures/VERSION/NAME.json plus an index (_index.tsv: name, method, path, HTTP
# status). Bodies are recorded, never edited: only re-indented.
#
# Ports: 28400-28999 on 127.0.0.1 (FIXTURE_PORT_BASE to move). Every process started here is
# stopped by its pid on exit, also on failure.
# Needs: java + javac + jar (17), curl, jq, python3.
set -euo pipefail
for tool in java javac jar curl jq python3; do
  command -v "$tool" >/dev/null || { echo "record-rest-fixtures: $tool is required" >&2; exit 1; }
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FLINK_DIR=${FLINKOPS_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/flinkops}/flink   # flinkops's default home
FIXTURES=$ROOT/crates/rest/tests/fixtures
PORT_BASE=${FIXTURE_PORT_BASE:-28400}
ENTRY=flinkops.fixture.FixtureJob

PIDS=()
WORK=""
cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$p" 2>/dev/null || true
  done
  PIDS=()
}
trap 'cleanup; [ -n "$WORK" ] && [ -z "${KEEP_WORK:-}" ] && rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

log() { printf '[record %s] %s\n' "${VERSION:-}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pick_ports() { # sets PORT0: first of 12 consecutive free ports in [PORT_BASE, 28999]
  local b p ok
  for ((b = PORT_BASE; b + 12 <= 28999; b += 20)); do
    ok=1
    for ((p = b; p < b + 12; p++)); do port_free "$p" || { ok=0; break; }; done
    if [ "$ok" = 1 ]; then PORT0=$b; return 0; fi
  done
  die "no 12 free consecutive ports in $PORT_BASE-28999"
}

# ---- HTTP recording -------------------------------------------------------------------------
REST=""
FIX=""
BODY=""
# rec NAME METHOD PATH [curl args...]: record the body of one call into $FIX/NAME.json
rec() {
  local name=$1 method=$2 path=$3 code
  shift 3
  code=$(curl -sS -o "$BODY" -w '%{http_code}' -X "$method" "$@" "$REST$path") \
    || die "curl $method $path failed"
  if ! python3 -m json.tool --indent 1 "$BODY" >"$FIX/$name.json" 2>/dev/null; then
    cp "$BODY" "$FIX/$name.json"
    log "warning: $name: body is not JSON"
  fi
  printf '%s\t%s\t%s\t%s\n' "$name" "$method" "$path" "$code" >>"$FIX/_index.tsv"
  log "$name: $method $path -> $code"
  LAST_CODE=$code
}
get() { curl -sS --max-time 10 "$REST$1"; }

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.5 s until it succeeds
  local secs=$1 what=$2 i
  shift 2
  for ((i = 0; i < secs * 2; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  die "timed out after ${secs}s waiting for $what"
}

jm_metrics_ready() { get /jobmanager/metrics | jq -e 'length > 0'; }
version_at_least() { # version_at_least MAJOR MINOR: is $VERSION >= MAJOR.MINOR?
  local ma=${VERSION%%.*} rest=${VERSION#*.}
  local mi=${rest%%.*}
  [ "$ma" -gt "$1" ] || { [ "$ma" -eq "$1" ] && [ "$mi" -ge "$2" ]; }
}
cluster_ready() { get /overview | jq -e '.taskmanagers >= 1 and ."slots-total" >= 2'; }
job_state_is() { get "/jobs/$1" | jq -e --arg s "$2" '.state == $s'; }
job_running_all() { # job state RUNNING and every vertex RUNNING
  get "/jobs/$1" | jq -e '.state == "RUNNING" and all(.vertices[]; .status == "RUNNING")'
}
completed_checkpoints_at_least() { get "/jobs/$1/checkpoints" | jq -e --argjson n "$2" '.counts.completed >= $n'; }
all_parallelism_is() { get "/jobs/$1" | jq -e --argjson p "$2" 'all(.vertices[]; .parallelism == $p) and all(.vertices[]; .status == "RUNNING")'; }
subtask_metrics_ready() {
  get "/jobs/$1/vertices/$2/subtasks/metrics?get=numRecordsInPerSecond,busyTimeMsPerSecond" | jq -e 'length >= 2'
}
has_exception_history() { get "/jobs/$1/exceptions" | jq -e '.exceptionHistory.entries | length >= 2'; }
operation_done() { # poll an async operation status until COMPLETED; leaves the body in $BODY
  get "$1" >"$BODY.op" && jq -e '.status.id == "COMPLETED"' "$BODY.op"
}

# ---- cluster --------------------------------------------------------------------------------
write_config() { # write_config DIR MAJOR
  local d=$1 major=$2 file ckey
  if [ "$major" = 1 ]; then file=flink-conf.yaml; ckey=state.checkpoints.dir; else file=config.yaml; ckey=execution.checkpointing.dir; fi
  mkdir -p "$d/conf"
  cat >"$d/conf/$file" <<EOF
jobmanager.rpc.address: localhost
jobmanager.rpc.port: $((PORT0 + 1))
jobmanager.bind-host: 127.0.0.1
taskmanager.bind-host: 127.0.0.1
taskmanager.host: 127.0.0.1
taskmanager.rpc.port: $((PORT0 + 2))
taskmanager.data.port: $((PORT0 + 3))
blob.server.port: $((PORT0 + 4))
metrics.internal.query-service.port: $((PORT0 + 5))-$((PORT0 + 8))
rest.address: 127.0.0.1
rest.bind-address: 127.0.0.1
rest.port: $PORT0
taskmanager.numberOfTaskSlots: 2
parallelism.default: 1
jobmanager.memory.process.size: 1024m
taskmanager.memory.process.size: 1536m
jobmanager.scheduler: adaptive
$ckey: file://$d/checkpoints
execution.checkpointing.interval: 1s
metrics.fetcher.update-interval: 1000
web.tmpdir: $d/web
io.tmp.dirs: $d/tmp
EOF
  cat >"$d/conf/log4j.properties" <<'EOF'
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = MainAppender
appender.main.name = MainAppender
appender.main.type = File
appender.main.fileName = ${sys:log.file}
appender.main.layout.type = PatternLayout
appender.main.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
EOF
  mkdir -p "$d/web" "$d/tmp" "$d/checkpoints" "$d/savepoints"
}

ADD_OPENS=(--add-exports=java.base/sun.net.util=ALL-UNNAMED --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.text=ALL-UNNAMED
  --add-opens=java.base/java.time=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED)

start_process() { # start_process NAME MODE CLASS: JVM sizes from BashJavaUtils MODE
  local name=$1 mode=$2 class=$3 out jvm dyn
  out=$(java -cp "$F/bin/bash-java-utils.jar:$(echo "$F"/lib/flink-dist-*.jar)" \
    org.apache.flink.runtime.util.bash.BashJavaUtils "$mode" --configDir "$WORK/conf" 2>&1) \
    || die "BashJavaUtils $mode failed: $out"
  jvm=$(grep '^BASH_JAVA_UTILS_EXEC_RESULT:' <<<"$out" | head -n1 | sed 's/^BASH_JAVA_UTILS_EXEC_RESULT://')
  dyn=$(grep '^BASH_JAVA_UTILS_EXEC_RESULT:' <<<"$out" | tail -n1 | sed 's/^BASH_JAVA_UTILS_EXEC_RESULT://')
  # shellcheck disable=SC2086 # word splitting of the JVM flags and -D pairs is intended
  java $jvm "${ADD_OPENS[@]}" -Dlog.file="$WORK/$name.log" \
    -Dlog4j.configurationFile="file:$WORK/conf/log4j.properties" \
    -cp "$F/lib/*" "$class" --configDir "$WORK/conf" $dyn >"$WORK/$name.out" 2>&1 &
  PIDS+=("$!")
  log "started $name (pid $!)"
}

build_job() { # compile the fixture job against this version's lib/
  mkdir -p "$WORK/job/classes"
  javac -nowarn --release 11 -cp "$F/lib/*" -d "$WORK/job/classes" \
    "$ROOT/scripts/fixture-job/src/flinkops/fixture/FixtureJob.java"
  jar --create --file "$WORK/job/flinkops-fixture.jar" --main-class "$ENTRY" -C "$WORK/job/classes" .
}

# ---- one version ----------------------------------------------------------------------------
record_version() {
  VERSION=$1
  F=$FLINK_DIR/$VERSION
  [ -f "$F/lib/flink-dist-$VERSION.jar" ] || die "Flink $VERSION not found in $F (flinkops flink install $VERSION)"
  local major=${VERSION%%.*}
  WORK=$(mktemp -d "/tmp/flinkops-fixtures-$VERSION.XXXXXX")
  pick_ports
  REST="http://127.0.0.1:$PORT0"
  # Record into the work dir; replace the version's fixtures only when everything succeeded.
  FIX=$WORK/fixtures
  BODY=$WORK/body
  mkdir -p "$FIX"
  printf 'name\tmethod\tpath\tstatus\n' >"$FIX/_index.tsv"
  log "work dir $WORK, REST $REST"

  write_config "$WORK" "$major"
  build_job
  start_process jobmanager GET_JM_RESOURCE_PARAMS org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint
  start_process taskmanager GET_TM_RESOURCE_PARAMS org.apache.flink.runtime.taskexecutor.TaskManagerRunner
  wait_for 90 "cluster with a TaskManager" cluster_ready

  # Cluster-level endpoints.
  wait_for 60 "JobManager metrics" jm_metrics_ready
  rec overview GET /overview
  rec config GET /config
  rec jobmanager_config GET /jobmanager/config
  rec jobmanager_metrics_list GET /jobmanager/metrics
  rec jobmanager_metrics GET '/jobmanager/metrics?get=Status.JVM.CPU.Load,Status.JVM.Memory.Heap.Used,numRegisteredTaskManagers,taskSlotsTotal,taskSlotsAvailable'
  rec taskmanagers GET /taskmanagers
  local tm
  tm=$(jq -r '.taskmanagers[0].id' "$FIX/taskmanagers.json")
  rec taskmanager_details GET "/taskmanagers/$tm"
  rec taskmanager_metrics GET "/taskmanagers/$tm/metrics?get=Status.JVM.Memory.Heap.Used,Status.JVM.CPU.Load"

  # Jars.
  rec jar_upload POST /jars/upload -H 'Expect:' -F "jarfile=@$WORK/job/flinkops-fixture.jar;type=application/x-java-archive"
  local jar
  jar=$(jq -r '.filename' "$FIX/jar_upload.json")
  jar=${jar##*/}
  rec jars GET /jars
  rec error_jar_run_failed POST "/jars/$jar/run" -H 'Content-Type: application/json' \
    -d "{\"entryClass\":\"$ENTRY\",\"programArgsList\":[\"--fail\"]}"
  rec error_jar_not_found POST "/jars/no-such-jar.jar/run" -H 'Content-Type: application/json' -d '{}'
  rec jar_run POST "/jars/$jar/run" -H 'Content-Type: application/json' \
    -d "{\"entryClass\":\"$ENTRY\",\"programArgsList\":[],\"parallelism\":1}"
  local j1
  j1=$(jq -r '.jobid' "$FIX/jar_run.json")
  [ -n "$j1" ] && [ "$j1" != null ] || die "jar run returned no job id"

  wait_for 90 "job $j1 running" job_running_all "$j1"
  wait_for 90 "2 completed checkpoints of $j1" completed_checkpoints_at_least "$j1" 2
  rec jobs_overview_running GET /jobs/overview
  rec job_running GET "/jobs/$j1"
  local src
  src=$(jq -r '.vertices[0].id' "$FIX/job_running.json")
  wait_for 60 "subtask metrics" subtask_metrics_ready "$j1" "$src"
  rec job_exceptions_running GET "/jobs/$j1/exceptions"
  rec checkpoints_running GET "/jobs/$j1/checkpoints"
  rec checkpoints_config GET "/jobs/$j1/checkpoints/config"
  local cid
  cid=$(jq -r '.latest.completed.id' "$FIX/checkpoints_running.json")
  rec checkpoint_details GET "/jobs/$j1/checkpoints/details/$cid"
  rec job_metrics GET "/jobs/$j1/metrics?get=numRestarts,numberOfCompletedCheckpoints,lastCheckpointDuration,lastCheckpointSize"
  rec job_metrics_list GET "/jobs/$j1/metrics"
  rec vertex_metrics_list GET "/jobs/$j1/vertices/$src/metrics"
  rec vertex_metrics GET "/jobs/$j1/vertices/$src/metrics?get=0.numRecordsOutPerSecond,0.busyTimeMsPerSecond"
  rec subtask_metrics_agg GET "/jobs/$j1/vertices/$src/subtasks/metrics?get=busyTimeMsPerSecond,backPressuredTimeMsPerSecond,numRecordsInPerSecond,numRecordsOutPerSecond&agg=min,max,avg,sum"
  if version_at_least 1 20; then
    rec subtask_metrics_skew GET "/jobs/$j1/vertices/$src/subtasks/metrics?get=busyTimeMsPerSecond,numRecordsInPerSecond&agg=skew"
  else
    rec error_subtask_metrics_skew GET "/jobs/$j1/vertices/$src/subtasks/metrics?get=busyTimeMsPerSecond,numRecordsInPerSecond&agg=skew"
  fi
  rec resource_requirements GET "/jobs/$j1/resource-requirements"

  # Savepoint: trigger, status (first poll and final), and one that fails (unwritable target).
  rec savepoint_trigger POST "/jobs/$j1/savepoints" -H 'Content-Type: application/json' \
    -d "{\"target-directory\":\"file://$WORK/savepoints\",\"cancel-job\":false}"
  local tid
  tid=$(jq -r '."request-id"' "$FIX/savepoint_trigger.json")
  rec savepoint_status_first GET "/jobs/$j1/savepoints/$tid"
  wait_for 60 "savepoint $tid" operation_done "/jobs/$j1/savepoints/$tid"
  rec savepoint_status_completed GET "/jobs/$j1/savepoints/$tid"
  rec savepoint_trigger_bad_target POST "/jobs/$j1/savepoints" -H 'Content-Type: application/json' \
    -d '{"target-directory":"file:///proc/flinkops-not-writable/savepoints","cancel-job":false}'
  tid=$(jq -r '."request-id"' "$FIX/savepoint_trigger_bad_target.json")
  wait_for 60 "failing savepoint $tid" operation_done "/jobs/$j1/savepoints/$tid"
  rec savepoint_status_failed GET "/jobs/$j1/savepoints/$tid"
  rec error_savepoint_unknown_trigger GET "/jobs/$j1/savepoints/00000000000000000000000000000000"
  wait_for 60 "job $j1 running again" job_running_all "$j1"

  # Stop with savepoint.
  rec stop_trigger POST "/jobs/$j1/stop" -H 'Content-Type: application/json' \
    -d "{\"targetDirectory\":\"file://$WORK/savepoints\",\"drain\":false}"
  tid=$(jq -r '."request-id"' "$FIX/stop_trigger.json")
  wait_for 90 "stop-with-savepoint $tid" operation_done "/jobs/$j1/savepoints/$tid"
  rec stop_status_completed GET "/jobs/$j1/savepoints/$tid"
  local sp
  sp=$(jq -r '.operation.location' "$FIX/stop_status_completed.json")
  [ -n "$sp" ] && [ "$sp" != null ] || die "stop-with-savepoint produced no location"
  wait_for 60 "job $j1 finished" job_state_is "$j1" FINISHED
  rec job_finished GET "/jobs/$j1"

  # Restart from the savepoint: latest.restored is populated.
  rec jar_run_from_savepoint POST "/jars/$jar/run" -H 'Content-Type: application/json' \
    -d "{\"entryClass\":\"$ENTRY\",\"programArgsList\":[],\"parallelism\":1,\"savepointPath\":\"$sp\",\"allowNonRestoredState\":false,\"restoreMode\":\"NO_CLAIM\"}"
  local j2
  j2=$(jq -r '.jobid' "$FIX/jar_run_from_savepoint.json")
  [ -n "$j2" ] && [ "$j2" != null ] || die "jar run from savepoint returned no job id"
  wait_for 90 "job $j2 running" job_running_all "$j2"
  wait_for 90 "completed checkpoints of $j2" completed_checkpoints_at_least "$j2" 1
  rec checkpoints_restored GET "/jobs/$j2/checkpoints"
  rec job_restored GET "/jobs/$j2"

  # Rescale in place (adaptive scheduler).
  rec resource_requirements_before GET "/jobs/$j2/resource-requirements"
  local req
  req=$(jq -c 'with_entries(.value.parallelism.lowerBound = 1 | .value.parallelism.upperBound = 2)' \
    "$FIX/resource_requirements_before.json")
  rec resource_requirements_put PUT "/jobs/$j2/resource-requirements" -H 'Content-Type: application/json' -d "$req"
  rec resource_requirements_after GET "/jobs/$j2/resource-requirements"
  wait_for 120 "job $j2 rescaled to 2" all_parallelism_is "$j2" 2
  local n
  n=$(get "/jobs/$j2/checkpoints" | jq '.counts.completed')
  wait_for 90 "a checkpoint after rescale" completed_checkpoints_at_least "$j2" $((n + 1))
  rec job_rescaled GET "/jobs/$j2"
  rec checkpoints_rescaled GET "/jobs/$j2/checkpoints"
  src=$(jq -r '.vertices[0].id' "$FIX/job_rescaled.json")
  wait_for 60 "subtask metrics after rescale" subtask_metrics_ready "$j2" "$src"
  rec subtask_metrics_agg_rescaled GET "/jobs/$j2/vertices/$src/subtasks/metrics?get=busyTimeMsPerSecond,backPressuredTimeMsPerSecond,numRecordsInPerSecond,numRecordsOutPerSecond&agg=min,max,avg,sum"
  rec job_exceptions_rescaled GET "/jobs/$j2/exceptions"

  # Error bodies.
  rec error_job_not_found GET /jobs/00000000000000000000000000000000
  rec error_job_bad_id GET /jobs/not-a-job-id
  rec error_checkpoint_not_found GET "/jobs/$j2/checkpoints/details/999999"
  rec error_taskmanager_not_found GET /taskmanagers/no-such-taskmanager
  # Stop of an unknown job is accepted (202); the failure shows in the operation's status.
  rec stop_trigger_unknown_job POST /jobs/00000000000000000000000000000000/stop -H 'Content-Type: application/json' \
    -d "{\"targetDirectory\":\"file://$WORK/savepoints\",\"drain\":false}"
  tid=$(jq -r '."request-id"' "$FIX/stop_trigger_unknown_job.json")
  sleep 1
  rec stop_status_unknown_job GET "/jobs/00000000000000000000000000000000/savepoints/$tid"
  rec error_jar_delete_not_found DELETE /jars/no-such-jar.jar

  # Cancel, then the terminal views.
  rec cancel PATCH "/jobs/$j2?mode=cancel"
  wait_for 60 "job $j2 canceled" job_state_is "$j2" CANCELED
  rec job_cancelled GET "/jobs/$j2"
  rec job_exceptions_cancelled GET "/jobs/$j2/exceptions"
  rec checkpoints_cancelled GET "/jobs/$j2/checkpoints"

  # A job whose tasks fail at runtime: exception history with entries, then cancel it.
  rec jar_run_failing POST "/jars/$jar/run" -H 'Content-Type: application/json' \
    -d "{\"entryClass\":\"$ENTRY\",\"programArgsList\":[\"--fail-at-runtime\"],\"parallelism\":1}"
  local j3
  j3=$(jq -r '.jobid' "$FIX/jar_run_failing.json")
  wait_for 120 "exceptions of $j3" has_exception_history "$j3"
  rec job_exceptions_failing GET "/jobs/$j3/exceptions"
  rec job_failing GET "/jobs/$j3"
  rec cancel_failing PATCH "/jobs/$j3?mode=cancel"
  wait_for 60 "job $j3 canceled" job_state_is "$j3" CANCELED
  rec jobs_overview GET /jobs/overview
  rec overview_after GET /overview
  rec jar_delete DELETE "/jars/$jar"
  rec jars_after_delete GET /jars

  cleanup
  rm -rf "${FIXTURES:?}/$VERSION"
  mkdir -p "$FIXTURES"
  cp -r "$FIX" "$FIXTURES/$VERSION"
  log "done: $(($(wc -l <"$FIX/_index.tsv") - 1)) bodies in $FIXTURES/$VERSION"
  [ -z "${KEEP_WORK:-}" ] && rm -rf "$WORK"
  WORK=""
}

versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then
  for d in "$FLINK_DIR"/*/; do
    v=$(basename "$d")
    [ -f "$d/lib/flink-dist-$v.jar" ] && versions+=("$v")
  done
fi
[ ${#versions[@]} -gt 0 ] || die "no Flink versions given or installed under $FLINK_DIR"
for v in "${versions[@]}"; do
  record_version "$v"
done
