#!/usr/bin/env bash
# Builds the bench module (offline) and runs one benchmark class with the JVM flags Spark needs,
# or, with "all", every benchmark with the flags of the tables in docs/BENCHMARKS.md.
# usage: bench/bench.sh ScoreBenchmark|TrainBenchmark|SelectBenchmark|AccuracyBenchmark [flags...]   (from the repository root)
#        bench/bench.sh all      (well over an hour on a 2-core machine; Markdown tables on stdout)
# JAVA_OPTS adds JVM flags (default -Xmx4g); SKIP_BUILD=1 reuses the last build.
set -euo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$0")/.."
main="${1:?usage: bench/bench.sh ScoreBenchmark|TrainBenchmark|SelectBenchmark|AccuracyBenchmark [flags...] | all}"; shift
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  mvn -o -q -B -pl bench -am package -DskipTests dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
fi
if [[ "$main" == all ]]; then
  run() { echo "## bench/bench.sh $*"; SKIP_BUILD=1 "$self" "$@"; echo; }
  run SelectBenchmark --images 1000000 --classes 1000,100 --k 1000,16000 --verify
  # 10^8 candidates, the paper's regime (a small surviving fraction); about 1 GB of data, 10 minutes.
  run SelectBenchmark --images 10000000 --classes 1000 --k 16000 --verify --repeat 1
  for n in 250000 1000000 2000000; do
    run SelectBenchmark --images "$n" --classes 1000 --k 1000 --methods scan,select
  done
  run ScoreBenchmark --images 10000,20000,40000 --repeat 3
  run ScoreBenchmark --images 40000 --repeat 3 --methods score,forward --score-partitions 8
  run ScoreBenchmark --images 40000 --repeat 3 --methods score,forward --score-partitions 0
  # 224 px RGB JPEG files through prep, scored by ResNet-18; the bare forward pass holds 600 KB of
  # floats per image (2.4 GB at 4,000), hence the larger heap. About 15 minutes.
  JAVA_OPTS="${JAVA_OPTS:--Xmx8g}" run ScoreBenchmark --image-size 224 --images 1000,2000,4000 --repeat 2 \
    --methods prep,score,forward
  run TrainBenchmark --steps 100 --repeat 3 --threads 1
  run TrainBenchmark --steps 100 --repeat 3 --threads 2
  # Rounds against the same steps in process, then on a standalone cluster of two 1-core workers.
  run TrainBenchmark --distributed --steps 200 --local-steps 10 --repeat 2
  run TrainBenchmark --distributed --master standalone --steps 200 --local-steps 10 --repeat 2
  run TrainBenchmark --methods semiweak,simclr,byol,swav,swav-multicrop --widths 32,64,128 --batch-size 256 \
    --steps 20 --warmup-steps 2 --repeat 2 --threads 1
  run AccuracyBenchmark --seeds 1,2,3
  exit 0
fi
opens=$(sed -n 's:.*<spark.jvm.opens>\(.*\)</spark.jvm.opens>.*:\1:p' pom.xml)
# The environment the launchers give every JVM that runs libtorch (malloc settings worth several
# times in speed, OMP_WAIT_POLICY, DJL offline), so benchmarks measure what the pipeline runs with;
# values already set win (e.g. MALLOC_MMAP_MAX_=65536 for glibc's default).
# shellcheck source-path=SCRIPTDIR source=../deploy/bin/semiweak-env.sh
source deploy/bin/semiweak-env.sh
semiweak_export_runtime_env
echo "# environment: $(env | grep -E '^(MALLOC_|OMP_|ATEN_|DJL_OFFLINE)' | sort | tr '\n' ' ')" >&2
echo "# uptime at start: $(uptime)" >&2
# shellcheck disable=SC2086
SPARK_LOCAL_IP=${SPARK_LOCAL_IP:-127.0.0.1} java ${JAVA_OPTS:--Xmx4g} $opens \
  -cp "bench/target/semiweak-bench-0.1.0-SNAPSHOT.jar:$(cat bench/target/classpath.txt)" \
  "org.semiweak.bench.$main" "$@"
echo "# uptime at end: $(uptime)" >&2
