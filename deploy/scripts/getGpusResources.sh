#!/usr/bin/env bash
# getGpusResources.sh: Spark's resource discovery script for NVIDIA GPUs.
# Spark runs it when an executor starts (spark.executor.resource.gpu.discoveryScript) and reads one
# JSON object from stdout: the GPUs this executor may hand to its tasks, e.g.
#   {"name": "gpu", "addresses": ["0", "1"]}
# It lists what nvidia-smi sees; inside a Kubernetes pod or a YARN container that is only the
# GPUs allocated to it. SEMIWEAK_GPU_LIST="0,1" overrides (tests, machines without nvidia-smi).
set -euo pipefail

if [[ -n "${SEMIWEAK_GPU_LIST:-}" ]]; then
  indexes=${SEMIWEAK_GPU_LIST//,/ }
elif command -v nvidia-smi >/dev/null 2>&1; then
  indexes=$(nvidia-smi --query-gpu=index --format=csv,noheader)
else
  echo "getGpusResources.sh: nvidia-smi not found: this executor has no visible NVIDIA GPU" \
    "(check the node's driver and the container toolkit, or run this stage without GPU resources)" >&2
  exit 1
fi

addresses=""
for i in $indexes; do
  [[ "$i" =~ ^[0-9]+$ ]] || {
    echo "getGpusResources.sh: unexpected GPU index '$i' from nvidia-smi" >&2
    exit 1
  }
  addresses+="${addresses:+, }\"$i\""
done
if [[ -z "$addresses" ]]; then
  echo "getGpusResources.sh: nvidia-smi lists no GPU" >&2
  exit 1
fi
echo "{\"name\": \"gpu\", \"addresses\": [$addresses]}"
