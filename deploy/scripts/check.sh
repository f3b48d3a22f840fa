#!/usr/bin/env bash
# check.sh: static and dry-run checks of semiweak's deploy scripts and templates.
#
#   deploy/scripts/check.sh            shellcheck, YAML, Airflow DAG, spark-defaults, launcher dry runs (~10 s)
#   deploy/scripts/check.sh --smoke    also runs bin/semiweak for real and starts/stops standalone-cluster.sh
#                                      (needs a build: mvn -B -DskipTests -pl deploy -am package; ~1-2 min)
#
# Prints one line per check (ok / FAIL / skipped, with the reason) and exits 1 if any check failed.
# .ci/run calls it after `mvn verify`, which leaves deploy/target/classpath.txt for the dry runs.
set -uo pipefail

deploy=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd -P)
root=$(cd "$deploy/.." && pwd -P)
smoke=0
[[ "${1:-}" == --smoke ]] && smoke=1
failures=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { echo "ok       $*"; }
fail() {
  echo "FAIL     $*"
  failures=$((failures + 1))
}
skipped() { echo "skipped  $*"; }

# --- shell scripts -------------------------------------------------------------------------------
scripts=("$deploy/bin/semiweak" "$deploy/bin/semiweak-submit" "$deploy/bin/semiweak-env.sh"
  "$deploy"/scripts/*.sh)
if command -v shellcheck >/dev/null 2>&1; then
  if (cd "$deploy" && shellcheck -x "${scripts[@]}") >"$tmp/shellcheck.txt" 2>&1; then
    ok "shellcheck: ${#scripts[@]} scripts clean"
  else
    cat "$tmp/shellcheck.txt"
    fail "shellcheck (findings above)"
  fi
else
  fail "shellcheck not installed (apt-get install shellcheck)"
fi
for s in "$deploy/bin/semiweak" "$deploy/bin/semiweak-submit" "$deploy"/scripts/standalone-cluster.sh \
  "$deploy"/scripts/getGpusResources.sh "$deploy"/scripts/check.sh; do
  [[ -x "$s" ]] || fail "${s#"$root"/} is not executable"
done

# --- YAML (Kubernetes manifests) -----------------------------------------------------------------
yaml_files=("$deploy"/k8s/*.yaml)
yaml_python=""
for py in python3 /usr/bin/python3; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import yaml' 2>/dev/null; then
    yaml_python=$py
    break
  fi
done
if [[ -n "$yaml_python" ]]; then
  if "$yaml_python" - "${yaml_files[@]}" >"$tmp/yaml.txt" 2>&1 <<'PY'; then
import os, sys, yaml
for path in sys.argv[1:]:
    docs = [d for d in yaml.safe_load_all(open(path)) if d is not None]
    assert docs, f"{path}: no YAML document"
    for d in docs:
        assert isinstance(d, dict) and "apiVersion" in d and "kind" in d, f"{path}: not a Kubernetes object: {d!r:.80}"
        if d["kind"] == "SparkApplication":
            s = d["spec"]
            assert s["mainClass"] == "org.semiweak.driver.SemiweakCli", f"{path}: mainClass {s['mainClass']}"
            assert s["mainApplicationFile"].startswith("local:///opt/semiweak/app/"), path
            assert "--run-dir" in s["arguments"] and "--config" in s["arguments"], f"{path}: arguments"
            conf = s["sparkConf"]
            assert conf["spark.executorEnv.MALLOC_MMAP_THRESHOLD_"] == "33554432", f"{path}: malloc env"
            assert "-Dai.djl.offline=true" in conf["spark.executor.extraJavaOptions"], f"{path}: DJL offline"
            gpu = "spark.executor.resource.gpu.amount" in conf
            assert gpu == (s["arguments"][0] == "score"), f"{path}: GPU resources only for score"
            if gpu:
                assert s["executor"]["gpu"]["name"] == "nvidia.com/gpu", path
            # The operator runs spark-submit in its own pod: a podTemplateFile path of the image is not
            # there. Pod templates go inline (spec.driver/executor.template), equal to the k8s/ files.
            assert not any(k.endswith("podTemplateFile") for k in conf), f"{path}: podTemplateFile in sparkConf"
            here = os.path.dirname(path)
            for role, file in (("driver", "pod-template-driver.yaml"),
                               ("executor", "pod-template-gpu.yaml" if gpu else "pod-template-cpu.yaml")):
                template = s[role].get("template")
                assert template, f"{path}: spec.{role}.template missing"
                expected = yaml.safe_load(open(os.path.join(here, file)))
                assert template["spec"] == expected["spec"], f"{path}: spec.{role}.template differs from {file}"
                assert template["metadata"] == expected["metadata"], f"{path}: {role} labels differ from {file}"
        specs = []
        if d["kind"] == "Pod":
            specs = [d["spec"]]
        elif d["kind"] == "SparkApplication":
            specs = [d["spec"][role]["template"]["spec"] for role in ("driver", "executor")]
        for spec in specs:
            # DJL extracts libtorch into DJL_CACHE_DIR: it must be writable by the image's user.
            for v in spec.get("volumes", []):
                if v["name"] == "djl-cache":
                    assert "emptyDir" in v, f"{path}: the DJL cache must be an emptyDir (a kubelet hostPath is root's)"
    print(f"{path}: {len(docs)} document(s): {', '.join(d['kind'] for d in docs)}")
PY
    ok "YAML: ${#yaml_files[@]} Kubernetes manifests parse ($yaml_python with PyYAML)"
  else
    cat "$tmp/yaml.txt"
    fail "YAML (errors above)"
  fi
elif [[ -f "$deploy/target/classpath.txt" ]] && command -v java >/dev/null 2>&1; then
  if java -cp "$(cat "$deploy/target/classpath.txt")" "$deploy/scripts/CheckYaml.java" "${yaml_files[@]}" \
    >"$tmp/yaml.txt" 2>&1; then
    ok "YAML: ${#yaml_files[@]} Kubernetes manifests parse (jackson-dataformat-yaml)"
  else
    cat "$tmp/yaml.txt"
    fail "YAML (errors above)"
  fi
else
  fail "YAML: neither python3 with PyYAML nor a build (deploy/target/classpath.txt) to parse with"
fi

# --- spark-defaults templates --------------------------------------------------------------------
for conf in "$deploy"/conf/spark-defaults.*.conf; do
  bad=$(grep -nvE '^[[:space:]]*(#.*)?$|^spark\.[A-Za-z0-9_.-]+[[:space:]]+[^[:space:]]' "$conf" || true)
  missing=""
  for key in spark.executorEnv.MALLOC_MMAP_THRESHOLD_ spark.executorEnv.MALLOC_TRIM_THRESHOLD_ \
    spark.executorEnv.MALLOC_TOP_PAD_ spark.executorEnv.MALLOC_MMAP_MAX_ spark.executorEnv.DJL_OFFLINE \
    spark.executor.extraJavaOptions; do
    grep -qE "^${key}[[:space:]]" "$conf" || missing+=" $key"
  done
  dups=$(grep -oE '^spark\.[^[:space:]]+' "$conf" | sort | uniq -d)
  if [[ -z "$bad" && -z "$missing" && -z "$dups" ]]; then
    ok "${conf#"$root"/}: key value lines, malloc env and DJL settings present"
  else
    fail "${conf#"$root"/}: ${bad:+malformed lines: $bad }${missing:+missing:$missing }${dups:+duplicate keys: $dups}"
  fi
done
if grep -qE '^spark\.executor\.resource\.gpu\.discoveryScript[[:space:]]+\S*getGpusResources\.sh' \
  "$deploy/conf/spark-defaults.k8s-gpu.conf" &&
  grep -qE '^spark\.task\.resource\.gpu\.amount[[:space:]]' "$deploy/conf/spark-defaults.k8s-gpu.conf"; then
  ok "conf/spark-defaults.k8s-gpu.conf: GPU scheduling (executor/task amounts, discovery script)"
else
  fail "conf/spark-defaults.k8s-gpu.conf: GPU scheduling settings missing"
fi

# --- Airflow DAG ---------------------------------------------------------------------------------
dag="$deploy/airflow/semiweak_dag.py"
if command -v python3 >/dev/null 2>&1; then
  if python3 -c 'import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)' \
    "$dag" "$tmp/dag.pyc" 2>"$tmp/dag.txt"; then
    ok "airflow/semiweak_dag.py compiles (Airflow itself is not installed)"
  else
    cat "$tmp/dag.txt"
    fail "airflow/semiweak_dag.py does not compile"
  fi
  if python3 -B "$deploy/scripts/check_dag.py" "$dag" >"$tmp/dag.txt" 2>&1; then
    ok "$(cat "$tmp/dag.txt")"
  else
    cat "$tmp/dag.txt"
    fail "airflow/semiweak_dag.py structure (see above)"
  fi
else
  fail "python3 not installed: cannot check the Airflow DAG"
fi

# --- Dockerfile ----------------------------------------------------------------------------------
if command -v hadolint >/dev/null 2>&1; then
  if hadolint "$deploy/docker/Dockerfile" >"$tmp/hadolint.txt" 2>&1; then
    ok "hadolint docker/Dockerfile"
  else
    cat "$tmp/hadolint.txt"
    fail "hadolint docker/Dockerfile"
  fi
else
  skipped "hadolint not installed (not packaged for Debian): docker/Dockerfile is not linted"
fi
# The build context is the unpacked distribution; every COPY source must be something it ships.
while read -r f; do
  case "$f" in
    app/ | conf/ | scripts/getGpusResources.sh | k8s/pod-template-\*.yaml) ;;
    *) fail "docker/Dockerfile copies $f, which the distribution (src/assembly/dist.xml) may not have" ;;
  esac
done < <(sed -nE 's/^COPY +([^ ]+) .*/\1/p' "$deploy/docker/Dockerfile")

# --- distribution contents (when one was built with -Pdist) -----------------------------------------
for dist in "$deploy"/target/semiweak-*.tar.gz; do
  [[ -f "$dist" ]] || continue
  # Test fixtures must never ship: scope "compile" of src/assembly/dist.xml leaves them out.
  leaked=$(tar tzf "$dist" | grep -E '/lib/(junit|junit-jupiter|junit-platform|opentest4j|apiguardian|assertj|hamcrest|mockito|hadoop-client-minicluster|semiweak-test-support)[^/]*\.jar$' || true)
  outside=$(tar tzf "$dist" | grep -vE '^semiweak-[^/]+/' || true)
  if [[ -z "$leaked" && -z "$outside" ]]; then
    ok "${dist#"$root"/}: no test libraries in lib/, every entry under semiweak-VERSION/"
  else
    fail "${dist#"$root"/}: ${leaked:+test libraries: $leaked }${outside:+entries outside semiweak-VERSION/: $outside}"
  fi
done

# --- launcher consistency and dry runs -----------------------------------------------------------
pom_opens=$(sed -n 's:.*<spark.jvm.opens>\(.*\)</spark.jvm.opens>.*:\1:p' "$root/pom.xml" | tr -s ' ' '\n')
# shellcheck source-path=SCRIPTDIR source=../bin/semiweak-env.sh
env_opens=$(source "$deploy/bin/semiweak-env.sh" && printf '%s\n' "${SEMIWEAK_SPARK_OPENS[@]}")
if [[ -n "$pom_opens" && "$pom_opens" == "$env_opens" ]]; then
  ok "bin/semiweak-env.sh --add-opens list equals spark.jvm.opens of pom.xml"
else
  diff <(echo "$pom_opens") <(echo "$env_opens")
  fail "bin/semiweak-env.sh SEMIWEAK_SPARK_OPENS differs from spark.jvm.opens in pom.xml (diff above)"
fi

gpu_json=$(SEMIWEAK_GPU_LIST=0,3 "$deploy/scripts/getGpusResources.sh")
if [[ "$gpu_json" == '{"name": "gpu", "addresses": ["0", "3"]}' ]]; then
  ok "scripts/getGpusResources.sh prints Spark's resource JSON"
else
  fail "scripts/getGpusResources.sh printed: $gpu_json"
fi

if [[ -f "$deploy/target/classpath.txt" ]]; then
  out=$(SEMIWEAK_NO_BUILD=1 SEMIWEAK_DRY_RUN=1 SEMIWEAK_HEAP=3g "$deploy/bin/semiweak" status /tmp/run 2>"$tmp/err.txt")
  if [[ "$out" == *" -Xmx3g "* && "$out" == *"--add-opens=java.base/sun.nio.ch=ALL-UNNAMED"* &&
    "$out" == *"spark-core_2.13-"*".jar"* && "$out" == *"/core/target/classes"* &&
    "$out" == *" org.semiweak.driver.SemiweakCli status /tmp/run "* ]]; then
    ok "bin/semiweak dry run: heap, --add-opens, classpath (our classes + Spark), main class, arguments"
  else
    cat "$tmp/err.txt"
    fail "bin/semiweak dry run printed: ${out:0:300}..."
  fi
else
  skipped "bin/semiweak dry run: no build (deploy/target/classpath.txt); run mvn package first"
fi

touch "$tmp/semiweak-app-test.jar"
out=$(SPARK_SUBMIT=/opt/spark/bin/spark-submit SEMIWEAK_APP_JAR="$tmp/semiweak-app-test.jar" SEMIWEAK_DRY_RUN=1 \
  "$deploy/bin/semiweak-submit" --master yarn --conf spark.executor.cores=4 select --run-dir hdfs:///r --k 10 2>&1)
expected="/opt/spark/bin/spark-submit --class org.semiweak.driver.SemiweakCli --master yarn --conf spark.executor.cores=4 $tmp/semiweak-app-test.jar select --run-dir hdfs:///r --k 10 "
if [[ "$out" == "$expected" ]]; then
  ok "bin/semiweak-submit dry run: spark-submit options before the jar, CLI arguments after"
else
  fail "bin/semiweak-submit dry run printed '$out', expected '$expected'"
fi
out=$(SPARK_SUBMIT=spark-submit SEMIWEAK_APP_JAR=local:///opt/semiweak/app/semiweak-app.jar SEMIWEAK_DRY_RUN=1 \
  "$deploy/bin/semiweak-submit" --master k8s://https://k8s:6443 --deploy-mode cluster score --run-dir s3a://b/r 2>&1)
if [[ "$out" == "spark-submit --class org.semiweak.driver.SemiweakCli --master k8s://https://k8s:6443 --deploy-mode cluster local:///opt/semiweak/app/semiweak-app.jar score --run-dir s3a://b/r " ]]; then
  ok "bin/semiweak-submit dry run: a local:// application jar (inside the image) is passed as it is"
else
  fail "bin/semiweak-submit with SEMIWEAK_APP_JAR=local://... printed '$out'"
fi
out=$(SPARK_SUBMIT=spark-submit SEMIWEAK_APP_JAR="$tmp/semiweak-app-test.jar" SEMIWEAK_DRY_RUN=1 \
  "$deploy/bin/semiweak-submit" --name run -- run /conf/run.yaml 2>&1)
if [[ "$out" == "spark-submit --class org.semiweak.driver.SemiweakCli --name run $tmp/semiweak-app-test.jar run /conf/run.yaml " ]]; then
  ok "bin/semiweak-submit dry run: '--' separates the CLI arguments"
else
  fail "bin/semiweak-submit with '--' printed '$out'"
fi
# A distribution's app/ holds the full jar and the -slim one (natives staged on the cluster): the
# full one is the default, as the slim one fails on a cluster that has not staged them.
mkdir -p "$tmp/dist/bin" "$tmp/dist/app" "$tmp/dist/lib"
cp "$deploy/bin/semiweak-submit" "$deploy/bin/semiweak-env.sh" "$tmp/dist/bin/"
touch "$tmp/dist/app/semiweak-app-1.0.jar" "$tmp/dist/app/semiweak-app-1.0-slim.jar"
out=$(SPARK_SUBMIT=spark-submit SEMIWEAK_DRY_RUN=1 "$tmp/dist/bin/semiweak-submit" --master yarn status --run-dir hdfs:///r 2>&1)
if [[ "$out" == "spark-submit --class org.semiweak.driver.SemiweakCli --master yarn $tmp/dist/app/semiweak-app-1.0.jar status --run-dir hdfs:///r " ]]; then
  ok "bin/semiweak-submit in a distribution takes app/semiweak-app-VERSION.jar, not the -slim.jar beside it"
else
  fail "bin/semiweak-submit in a distribution with both jars printed '$out'"
fi
if SPARK_SUBMIT=spark-submit SEMIWEAK_APP_JAR="$tmp/semiweak-app-test.jar" SEMIWEAK_DRY_RUN=1 \
  "$deploy/bin/semiweak-submit" --master yarn >/dev/null 2>"$tmp/err.txt"; then
  fail "bin/semiweak-submit without a subcommand should fail"
elif grep -q 'no subcommand given' "$tmp/err.txt"; then
  ok "bin/semiweak-submit without a subcommand fails with a usage message"
else
  fail "bin/semiweak-submit without a subcommand: unexpected message $(cat "$tmp/err.txt")"
fi

# --- smoke: real runs (opt-in) -------------------------------------------------------------------
if ((smoke)); then
  if [[ ! -f "$deploy/target/classpath.txt" ]]; then
    fail "--smoke needs a build: mvn -B -DskipTests -pl deploy -am package"
  else
    if out=$(SEMIWEAK_NO_BUILD=1 SEMIWEAK_HEAP=1g SEMIWEAK_MAIN_CLASS=org.apache.spark.deploy.SparkSubmit \
      "$deploy/bin/semiweak" --version 2>&1) && [[ "$out" == *"version 4.2.0"* ]]; then
      ok "bin/semiweak runs a JVM with the local classpath (SparkSubmit --version: Spark 4.2.0)"
    else
      echo "$out" | tail -20
      fail "bin/semiweak could not run SparkSubmit --version"
    fi
    port=$((20000 + RANDOM % 20000))
    cluster=(env SEMIWEAK_NO_BUILD=1 "$deploy/scripts/standalone-cluster.sh")
    if "${cluster[@]}" start --workers 1 --memory 1g --port "$port" --webui-port $((port + 1)) --dir "$tmp/cluster" \
      >"$tmp/cluster.txt" 2>&1; then
      pids=$(cat "$tmp/cluster/pids/"*.pid)
      "${cluster[@]}" stop --dir "$tmp/cluster" >>"$tmp/cluster.txt" 2>&1
      left=""
      for p in $pids; do
        if kill -0 "$p" 2>/dev/null; then left+=" $p"; fi
      done
      if [[ -z "$left" ]]; then
        ok "scripts/standalone-cluster.sh start (1 worker registered), stop (no process left)"
      else
        fail "scripts/standalone-cluster.sh stop left processes:$left"
      fi
    else
      cat "$tmp/cluster.txt"
      "${cluster[@]}" stop --dir "$tmp/cluster" >/dev/null 2>&1
      fail "scripts/standalone-cluster.sh start"
    fi
  fi
fi

if ((failures)); then
  echo "check.sh: $failures check(s) failed"
  exit 1
fi
echo "check.sh: all checks passed"
