# shellcheck shell=bash
# Shared setup of bin/semiweak, bin/semiweak-submit and scripts/standalone-cluster.sh.
# Sourced, not run. Works from a source checkout (deploy/bin/ next to the reactor's pom.xml) and
# from the distribution (bin/ next to lib/).
#
# Environment it honours (all optional):
#   JAVA_HOME              the JDK 17 to run (default: java on PATH)
#   SEMIWEAK_NO_BUILD=1    never run Maven from a source checkout; fail if the build is missing
#   SEMIWEAK_MAVEN_ARGS    extra Maven arguments for that build, e.g. "-o" (offline)
#   SEMIWEAK_CONF_DIR      where log4j2.properties is looked for (default: conf/ or deploy/conf/)
#   MALLOC_*, OMP_WAIT_POLICY, DJL_OFFLINE, DJL_CACHE_DIR   see semiweak_export_runtime_env

# shellcheck disable=SC2034  # used by the scripts that source this file
SEMIWEAK_MAIN_CLASS_DEFAULT=org.semiweak.driver.SemiweakCli
# The reactor modules whose classes make up the application (bench is not part of it).
SEMIWEAK_APP_MODULES=(core data-prep teacher student pipeline-driver)

# Spark 4 on Java 17: the --add-opens list of Spark's launcher. Keep equal to the spark.jvm.opens
# property of the parent pom.xml; scripts/check.sh compares them.
# shellcheck disable=SC2034  # used by the scripts that source this file
SEMIWEAK_SPARK_OPENS=(
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/sun.nio.cs=ALL-UNNAMED
  --add-opens=java.base/sun.security.action=ALL-UNNAMED
  --add-opens=java.base/sun.util.calendar=ALL-UNNAMED
  -Djdk.reflect.useDirectMethodHandle=false
  -Dio.netty.tryReflectionSetAccessible=true
)

semiweak_die() {
  echo "semiweak: error: $*" >&2
  exit 1
}

semiweak_info() {
  echo "semiweak: $*" >&2
}

# semiweak_locate BIN_DIR
# Sets SEMIWEAK_LAYOUT (source|dist), SEMIWEAK_HOME (deploy/ or the distribution's top folder),
# SEMIWEAK_ROOT (the reactor root, source only) and SEMIWEAK_CONF_DIR.
semiweak_locate() {
  local top
  top=$(cd "$1/.." && pwd -P)
  if [[ -d "$top/lib" ]]; then
    SEMIWEAK_LAYOUT=dist
    SEMIWEAK_HOME=$top
    SEMIWEAK_ROOT=""
  elif [[ -f "$top/pom.xml" && -f "$top/../pom.xml" && -d "$top/../core" ]]; then
    SEMIWEAK_LAYOUT=source
    SEMIWEAK_HOME=$top
    SEMIWEAK_ROOT=$(cd "$top/.." && pwd -P)
  else
    semiweak_die "cannot tell where semiweak is installed: $top has no lib/ (distribution) and is not the" \
      "deploy/ folder of a source checkout; run bin/semiweak from an unpacked semiweak-*.tar.gz or a git checkout"
  fi
  SEMIWEAK_CONF_DIR=${SEMIWEAK_CONF_DIR:-$SEMIWEAK_HOME/conf}
}

# semiweak_java: prints the java executable to use.
semiweak_java() {
  local java=java
  if [[ -n "${JAVA_HOME:-}" ]]; then
    java="$JAVA_HOME/bin/java"
  fi
  command -v "$java" >/dev/null 2>&1 ||
    semiweak_die "no java found ($java); install JDK 17 or set JAVA_HOME"
  echo "$java"
}

# semiweak_newer_sources FILE: prints the first application source (or pom.xml) newer than FILE.
semiweak_newer_sources() {
  local ref=$1 dirs=() m
  for m in "${SEMIWEAK_APP_MODULES[@]}" deploy; do
    dirs+=("$SEMIWEAK_ROOT/$m")
  done
  find "$SEMIWEAK_ROOT/pom.xml" "${dirs[@]}" -name target -prune -o -type f \
    \( -name pom.xml -o -path '*/src/main/*' \) -newer "$ref" -print -quit 2>/dev/null
}

# semiweak_maven REASON GOALS...: runs Maven in the reactor root, saying why on stderr.
semiweak_maven() {
  local reason=$1 extra=()
  shift
  if [[ "${SEMIWEAK_NO_BUILD:-0}" == 1 ]]; then
    semiweak_die "$reason, and SEMIWEAK_NO_BUILD=1 forbids building; run: (cd $SEMIWEAK_ROOT && mvn -B -DskipTests $*)"
  fi
  command -v mvn >/dev/null 2>&1 || semiweak_die "$reason, and Maven (mvn) is not on PATH to build it"
  read -r -a extra <<<"${SEMIWEAK_MAVEN_ARGS:-}"
  semiweak_info "$reason: building with Maven (mvn -q -B -DskipTests ${extra[*]} $*), this takes a minute..."
  (cd "$SEMIWEAK_ROOT" && mvn -q -B -DskipTests ${extra[@]+"${extra[@]}"} "$@") >&2 ||
    semiweak_die "the Maven build failed (see above); fix it, or run against an existing build with SEMIWEAK_NO_BUILD=1"
}

# semiweak_build_if_stale: source checkout only; (re)builds when target/classpath.txt is missing or
# older than any application source or pom.xml.
semiweak_build_if_stale() {
  local cp_file="$SEMIWEAK_ROOT/deploy/target/classpath.txt" reason="" newer m
  if [[ ! -f "$cp_file" ]]; then
    reason="no build yet ($cp_file is missing)"
  else
    for m in "${SEMIWEAK_APP_MODULES[@]}"; do
      [[ -d "$SEMIWEAK_ROOT/$m/target/classes" ]] || reason="module $m is not compiled"
    done
    if [[ -z "$reason" ]]; then
      newer=$(semiweak_newer_sources "$cp_file")
      [[ -z "$newer" ]] || reason="the build is older than ${newer#"$SEMIWEAK_ROOT"/}"
    fi
  fi
  if [[ -n "$reason" && -f "$cp_file" && "${SEMIWEAK_NO_BUILD:-0}" == 1 ]]; then
    semiweak_info "warning: $reason; running the existing build as SEMIWEAK_NO_BUILD=1 asks"
  elif [[ -n "$reason" ]]; then
    semiweak_maven "$reason" -Dsemiweak.skipAppJar=true -pl deploy -am package
    touch "$cp_file"
  fi
}

# semiweak_classpath: prints the local-mode runtime classpath (our classes, Spark, Hadoop, DJL ...).
semiweak_classpath() {
  if [[ "$SEMIWEAK_LAYOUT" == dist ]]; then
    echo "$SEMIWEAK_HOME/lib/*"
    return
  fi
  local cp="" entry m entries=()
  # Our modules from their target/classes: always the latest compile, wherever Maven resolved them.
  for m in "${SEMIWEAK_APP_MODULES[@]}"; do
    cp+="$SEMIWEAK_ROOT/$m/target/classes:"
  done
  # No trailing newline in the file: read reports EOF, having filled the array.
  IFS=: read -r -a entries <"$SEMIWEAK_ROOT/deploy/target/classpath.txt" || true
  for entry in "${entries[@]}"; do
    case "$entry" in
      */org/semiweak/* | "$SEMIWEAK_ROOT"/*) ;; # our modules, added above
      *) cp+="$entry:" ;;
    esac
  done
  echo "${cp%:}"
}

# semiweak_library_jars: prints, one a line, the jars of the runtime classpath that are not ours
# (what a cluster's SPARK_HOME/jars holds; the application jar brings our classes).
semiweak_library_jars() {
  local entry entries=()
  if [[ "$SEMIWEAK_LAYOUT" == dist ]]; then
    for entry in "$SEMIWEAK_HOME"/lib/*.jar; do
      case "${entry##*/}" in
        semiweak-*) ;;
        *) echo "$entry" ;;
      esac
    done
    return
  fi
  # No trailing newline in the file: read reports EOF, having filled the array.
  IFS=: read -r -a entries <"$SEMIWEAK_ROOT/deploy/target/classpath.txt" || true
  for entry in "${entries[@]}"; do
    case "$entry" in
      */org/semiweak/* | "$SEMIWEAK_ROOT"/*) ;;
      *.jar) echo "$entry" ;;
    esac
  done
}

# semiweak_export_runtime_env: the environment every JVM that runs libtorch (and every Spark worker,
# whose executors inherit it) should have; values already set win.
semiweak_export_runtime_env() {
  # glibc malloc returning libtorch's per-batch buffers to the OS costs 5-10x in speed (measured on the build machine).
  export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-33554432}"
  export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-1073741824}"
  export MALLOC_TOP_PAD_="${MALLOC_TOP_PAD_:-268435456}"
  # Tensors above glibc's largest mmap threshold (32 MB) come from the heap too: BYOL 2.1x faster.
  export MALLOC_MMAP_MAX_="${MALLOC_MMAP_MAX_:-0}"
  # Idle OpenMP threads sleep instead of spinning on shared cores.
  export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
  # DJL must never download: a missing native library fails at once.
  export DJL_OFFLINE="${DJL_OFFLINE:-true}"
  # Where DJL extracts libtorch from the native jar (~430 MB, once).
  export DJL_CACHE_DIR="${DJL_CACHE_DIR:-$HOME/.djl.ai}"
}

# semiweak_log4j_opts: prints -Dlog4j2.configurationFile=... when the conf dir has a log4j2.properties.
semiweak_log4j_opts() {
  if [[ -f "$SEMIWEAK_CONF_DIR/log4j2.properties" ]]; then
    echo "-Dlog4j2.configurationFile=$SEMIWEAK_CONF_DIR/log4j2.properties"
  fi
}
