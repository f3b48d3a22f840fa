#!/usr/bin/env bash
# standalone-cluster.sh: a Spark standalone cluster on this machine's loopback, from the jars
# semiweak already has (no Spark distribution needed): one master and N workers, each its own JVM;
# workers launch executor JVMs as on a real cluster.
#
#   standalone-cluster.sh start  [--workers N] [--cores C] [--memory M] [--port P] [--webui-port W] [--dir DIR]
#   standalone-cluster.sh status [--dir DIR]
#   standalone-cluster.sh stop   [--dir DIR]
#
# Defaults: 2 workers of 1 core and 3g each, master on 127.0.0.1:7077, web UI on 8080, state
# (SPARK_HOME of links, logs, PID files, work dirs) in $SEMIWEAK_CLUSTER_DIR or
# ${TMPDIR:-/tmp}/semiweak-standalone-$USER. `start` waits until every worker has registered and
# prints how to submit:  SPARK_HOME=DIR/spark-home bin/semiweak-submit status --run-dir ...
set -euo pipefail

script_dir=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# The distribution has scripts/ next to bin/; a source checkout has deploy/scripts next to deploy/bin.
# shellcheck source-path=SCRIPTDIR source=../bin/semiweak-env.sh
source "$script_dir/../bin/semiweak-env.sh"
semiweak_locate "$script_dir/../bin"

usage() {
  sed -n '6,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

action=${1:-}
[[ -n "$action" ]] || usage
shift
workers=2
cores=1
memory=3g
port=7077
webui_port=8080
dir=${SEMIWEAK_CLUSTER_DIR:-${TMPDIR:-/tmp}/semiweak-standalone-$(id -un)}
while [[ $# -gt 0 ]]; do
  [[ $# -ge 2 ]] || semiweak_die "option $1 needs a value"
  case "$1" in
    --workers) workers=$2 ;;
    --cores) cores=$2 ;;
    --memory) memory=$2 ;;
    --port) port=$2 ;;
    --webui-port) webui_port=$2 ;;
    --dir) dir=$2 ;;
    *) semiweak_die "unknown option $1 (known: --workers --cores --memory --port --webui-port --dir)" ;;
  esac
  shift 2
done
spark_home="$dir/spark-home"
pids="$dir/pids"
logs="$dir/logs"
master_url="spark://127.0.0.1:$port"

alive() {
  [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

# master_json FIELD: a numeric field of the master's /json/ status, or nothing.
master_json() {
  local ui
  ui=$(cat "$dir/webui-port" 2>/dev/null || echo "$webui_port")
  if command -v curl >/dev/null 2>&1; then
    curl -fsS --max-time 3 "http://127.0.0.1:$ui/json/" 2>/dev/null |
      sed -n "s/^ *\"$1\" *: *\([0-9]*\).*/\1/p" | head -1
  fi
}

registered_workers() {
  local n
  n=$(master_json aliveworkers)
  if [[ -z "$n" ]]; then # no curl: count registrations in the master's log
    n=$(grep -c 'Registering worker' "$logs/master.log" 2>/dev/null || true)
  fi
  echo "${n:-0}"
}

make_spark_home() {
  rm -rf "$spark_home"
  mkdir -p "$spark_home/jars" "$spark_home/conf"
  local jar
  while IFS= read -r jar; do
    ln -sf "$jar" "$spark_home/jars/"
  done < <(semiweak_library_jars)
  echo "semiweak standalone SPARK_HOME: links to the runtime jars of $SEMIWEAK_HOME" >"$spark_home/RELEASE"
  cat >"$spark_home/conf/spark-defaults.conf" <<CONF
# Written by standalone-cluster.sh: spark-submit with this SPARK_HOME targets the loopback cluster.
spark.master                      $master_url
spark.driver.host                 127.0.0.1
spark.driver.bindAddress          127.0.0.1
spark.executor.cores              $cores
spark.executorEnv.DJL_OFFLINE     true
CONF
  cat >"$spark_home/conf/log4j2.properties" <<'CONF'
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n%ex
logger.deploy.name = org.apache.spark.deploy
logger.deploy.level = info
logger.semiweak.name = org.semiweak
logger.semiweak.level = info
CONF
}

# launch NAME MAIN ARGS...: starts a daemon JVM in the background with its PID file and log.
launch() {
  local name=$1 main=$2
  shift 2
  nohup "$java" -Xmx512m "${SEMIWEAK_SPARK_OPENS[@]}" -Dspark.master.rest.enabled=false \
    -cp "$spark_home/conf:$spark_home/jars/*" "$main" "$@" >"$logs/$name.log" 2>&1 </dev/null &
  echo $! >"$pids/$name.pid"
}

start() {
  if alive "$pids/master.pid"; then
    semiweak_die "a cluster is already running from $dir (master PID $(cat "$pids/master.pid")); stop it first"
  fi
  if [[ "$SEMIWEAK_LAYOUT" == source ]]; then
    semiweak_build_if_stale
  fi
  java=$(semiweak_java)
  mkdir -p "$pids" "$logs" "$dir/work"
  rm -f "$pids"/*.pid
  make_spark_home
  echo "$webui_port" >"$dir/webui-port"
  echo "$master_url" >"$dir/master-url"
  export SPARK_HOME="$spark_home" SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1
  JAVA_HOME=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v "$java")")")")}
  export JAVA_HOME
  semiweak_export_runtime_env # executors inherit it from their worker

  launch master org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$port" --webui-port "$webui_port"
  local i
  for ((i = 1; i <= workers; i++)); do
    mkdir -p "$dir/work/worker-$i"
    launch "worker-$i" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --webui-port 0 \
      --cores "$cores" --memory "$memory" --work-dir "$dir/work/worker-$i" "$master_url"
  done

  semiweak_info "waiting for $workers worker(s) to register at $master_url ..."
  local deadline=$((SECONDS + ${SEMIWEAK_CLUSTER_TIMEOUT:-120})) n=0 f
  while ((SECONDS < deadline)); do
    for f in "$pids"/*.pid; do
      if ! alive "$f"; then
        local name
        name=$(basename "$f" .pid)
        tail -n 30 "$logs/$name.log" >&2 || true
        stop_all
        semiweak_die "$name exited during start-up (log above: $logs/$name.log)"
      fi
    done
    n=$(registered_workers)
    if ((n >= workers)); then
      status
      return 0
    fi
    sleep 1
  done
  stop_all
  semiweak_die "only $n of $workers workers registered within ${SEMIWEAK_CLUSTER_TIMEOUT:-120}s; see $logs/"
}

# stop_all: ends every process of the PID files, executors (children of workers) first.
stop_all() {
  local f pid child all=()
  for f in "$pids"/worker-*.pid "$pids"/master.pid; do
    [[ -f "$f" ]] || continue
    pid=$(cat "$f")
    for child in $(pgrep -P "$pid" 2>/dev/null || true); do
      all+=("$child")
    done
    all+=("$pid")
  done
  if [[ ${#all[@]} -gt 0 ]]; then
    kill "${all[@]}" 2>/dev/null || true
    local deadline=$((SECONDS + 10)) p
    while ((SECONDS < deadline)); do
      local left=0
      for p in "${all[@]}"; do
        if kill -0 "$p" 2>/dev/null; then left=1; fi
      done
      ((left)) || break
      sleep 0.5
    done
    for p in "${all[@]}"; do
      kill -9 "$p" 2>/dev/null || true
    done
  fi
  rm -f "$pids"/*.pid
}

status() {
  if ! alive "$pids/master.pid"; then
    echo "no standalone cluster running from $dir"
    return 1
  fi
  local f running=0
  for f in "$pids"/worker-*.pid; do
    if alive "$f"; then running=$((running + 1)); fi
  done
  echo "master      $(cat "$dir/master-url") (PID $(cat "$pids/master.pid"), web UI http://127.0.0.1:$(cat "$dir/webui-port"))"
  echo "workers     $running running, $(registered_workers) registered"
  echo "logs        $logs"
  echo "submit with SPARK_HOME=$spark_home $SEMIWEAK_HOME/bin/semiweak-submit <subcommand> --run-dir ..."
}

case "$action" in
  start) start ;;
  stop)
    stop_all
    echo "stopped the standalone cluster of $dir"
    ;;
  status) status ;;
  *) usage ;;
esac
