"""Airflow DAG running the semiweak pipeline stage by stage with spark-submit.

``semiweak_pipeline``, triggered by hand (no schedule): prep -> train-teacher -> score -> select ->
pretrain -> finetune -> baseline -> evaluate.

Every stage is idempotent: a stage whose committed output matches its inputs and options is
skipped by semiweak itself, so a retried task or a re-triggered DAG only redoes what changed. A new
selection is the same DAG triggered with another K or P: prep, the teacher, the scores and the
baseline are up to date and skip themselves (a spark-submit each), select writes a new folder
(selection/<teacher>/k<K>-p<P>), and its student and a new evaluation follow; earlier selections
stay and ``evaluate`` compares them all. Being one DAG with ``max_active_runs=1`` is what keeps a
reselection from running beside a pipeline run on the same run directory: a second trigger waits
for the first to finish (a separate reselection DAG could start while the pipeline ran; semiweak's
lease would then fail one of the two tasks). One DAG run at a time also means one run directory at a
time: copy this file with another ``dag_id`` for a second, independent run directory. To redo an
up-to-date stage anyway, run it by hand with ``--force``.

A task killed without warning (an OOM-killed driver, a lost node) leaves the run directory's lease
behind; its retry takes the lease over once the lease's heartbeat is older than its timeout
(``lock-timeout``, default 2 minutes), hence ``retry_delay`` of 3 minutes.

Setup: the Spark connection ``spark_semiweak`` (Admin > Connections, type Spark) holds the master
(``yarn``, ``k8s://https://...`` or ``spark://host:7077``) and the deploy mode; the Airflow workers
need spark-submit and the semiweak distribution at ``SEMIWEAK_HOME`` (see deploy/README.md). The
environment of the driver and executors is set through Spark properties (``spark.executorEnv.*``,
``spark.yarn.appMasterEnv.*``, ``spark.kubernetes.driverEnv.*``), never through the operator's
``env_vars``, which the provider refuses for standalone cluster mode; a client-mode driver runs in
the Airflow worker and takes its environment. Requires apache-airflow-providers-apache-spark.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

try:  # Airflow 3
    from airflow.sdk import DAG, Param
except ImportError:  # Airflow 2.4+
    from airflow import DAG
    from airflow.models.param import Param
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

SEMIWEAK_HOME = os.environ.get("SEMIWEAK_HOME", "/opt/semiweak")
APP_JAR = os.environ.get("SEMIWEAK_APP_JAR", f"{SEMIWEAK_HOME}/app/semiweak-app.jar")
MAIN_CLASS = "org.semiweak.driver.SemiweakCli"
SPARK_CONN_ID = os.environ.get("SEMIWEAK_SPARK_CONN_ID", "spark_semiweak")

# spark-submit --properties-file of the CPU stages and of score: a template of conf/, edited for the
# cluster (spark-defaults.yarn.conf; on Kubernetes spark-defaults.k8s-gpu.conf for score). The conf
# below is passed as --conf and wins over the file.
PROPERTIES_FILE = os.environ.get("SEMIWEAK_PROPERTIES_FILE", f"{SEMIWEAK_HOME}/conf/spark-defaults.yarn.conf")
GPU_PROPERTIES_FILE = os.environ.get("SEMIWEAK_GPU_PROPERTIES_FILE", PROPERTIES_FILE)

# The pipeline's stages in order, as CLI subcommands.
STAGES = ["prep", "train-teacher", "score", "select", "pretrain", "finetune", "baseline", "evaluate"]

# How long a stage may run before Airflow fails it (a hung job must not hold the run directory for
# ever); sized for a billion images on the clusters of deploy/README.md. Edit for yours.
EXECUTION_TIMEOUT = {
    "prep": timedelta(hours=12),
    "train-teacher": timedelta(hours=48),
    "score": timedelta(hours=24),
    "select": timedelta(hours=6),
    "pretrain": timedelta(hours=48),
    "finetune": timedelta(hours=24),
    "baseline": timedelta(hours=24),
    "evaluate": timedelta(hours=6),
}
# Longer than the lease timeout (2 minutes by default): a retry after a kill takes the lease over.
RETRY_DELAY = timedelta(minutes=3)

SELECTION_NAME = "k{{ params.K }}-p{{ params.P }}"

# Options each stage takes from the DAG's parameters; everything else comes from the run config.
STAGE_ARGS = {
    "prep": [],
    "train-teacher": ["--recipe", "{{ params.teacher }}"],
    "score": ["--teacher", "{{ params.teacher }}", "--pmax", "{{ params.pmax }}"],
    "select": [
        "--teacher", "{{ params.teacher }}",
        "--k", "{{ params.K }}",
        "--p", "{{ params.P }}",
        "--name", SELECTION_NAME,
    ],
    "pretrain": ["--teacher", "{{ params.teacher }}", "--selection", SELECTION_NAME],
    "finetune": ["--teacher", "{{ params.teacher }}", "--selection", SELECTION_NAME],
    "baseline": [],
    "evaluate": [],
}

# The environment of every JVM that runs libtorch: executors, and the driver in cluster mode (the
# YARN application master, the Kubernetes driver pod).
RUNTIME_ENV = {
    "MALLOC_MMAP_THRESHOLD_": "33554432",
    "MALLOC_TRIM_THRESHOLD_": "1073741824",
    "MALLOC_TOP_PAD_": "268435456",
    "MALLOC_MMAP_MAX_": "0",
    "OMP_WAIT_POLICY": "PASSIVE",
    "DJL_OFFLINE": "true",
}

# Settings every stage's JVMs need (deploy/README.md, "Settings for a billion images").
COMMON_CONF = {
    "spark.task.maxFailures": "4",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.files.maxPartitionBytes": "256m",
    "spark.executor.extraJavaOptions": "-Dai.djl.offline=true -Dai.djl.pytorch.num_threads=1 "
    "-Dai.djl.pytorch.num_interop_threads=1",
    "spark.driver.extraJavaOptions": "-Dai.djl.offline=true",
    "spark.executorEnv.DJL_CACHE_DIR": "/var/cache/semiweak/djl",
    **{f"spark.executorEnv.{k}": v for k, v in RUNTIME_ENV.items()},
    **{f"spark.yarn.appMasterEnv.{k}": v for k, v in RUNTIME_ENV.items()},
    **{f"spark.kubernetes.driverEnv.{k}": v for k, v in RUNTIME_ENV.items()},
}

# Scoring runs on GPUs: one GPU per executor and per task; its cores feed that one task.
GPU_CONF = {
    "spark.executor.resource.gpu.amount": "1",
    "spark.task.resource.gpu.amount": "1",
    "spark.executor.resource.gpu.discoveryScript": f"{SEMIWEAK_HOME}/scripts/getGpusResources.sh",
    "spark.executor.resource.gpu.vendor": "nvidia.com",
    "spark.executor.cores": "8",
    "spark.task.cpus": "8",
    "spark.executor.memory": "24g",
    "spark.executor.memoryOverhead": "16g",
    "spark.executor.extraJavaOptions": "-Dai.djl.offline=true -Dai.djl.pytorch.num_threads=4 "
    "-Dai.djl.pytorch.num_interop_threads=1",
}

CPU_CONF = {
    "spark.executor.cores": "4",
    "spark.executor.memory": "12g",
    "spark.executor.memoryOverhead": "6g",
}

PARAMS = {
    "run_dir": Param("hdfs:///semiweak/runs/main", type="string",
                     description="Run directory (any Hadoop file system URI) shared by all stages."),
    "config": Param(f"{SEMIWEAK_HOME}/conf/run.yaml", type="string",
                    description="Run config (YAML) on the submitting host; CLI flags below override it."),
    "teacher": Param("semi-weak", type="string",
                     description="Teacher recipe to train and score with (semi-weak or semi-supervised)."),
    "K": Param(16000, type="integer", minimum=1, description="Images selected per class (top K by score)."),
    "P": Param(10, type="integer", minimum=1,
               description="An image is a candidate for each of its top-P classes; P <= pmax."),
    "pmax": Param(10, type="integer", minimum=1, description="Classes kept per image when scoring."),
}


def stage_task(stage: str) -> SparkSubmitOperator:
    """The spark-submit task of one stage, inside the DAG being defined."""
    gpu = stage == "score"
    conf = {**COMMON_CONF, **(GPU_CONF if gpu else CPU_CONF)}
    return SparkSubmitOperator(
        task_id=stage.replace("-", "_"),
        conn_id=SPARK_CONN_ID,
        application=APP_JAR,
        java_class=MAIN_CLASS,
        name=f"semiweak-{stage}",
        properties_file=GPU_PROPERTIES_FILE if gpu else PROPERTIES_FILE,
        conf=conf,
        application_args=[
            stage,
            "--run-dir", "{{ params.run_dir }}",
            "--config", "{{ params.config }}",
            *STAGE_ARGS[stage],
        ],
        execution_timeout=EXECUTION_TIMEOUT[stage],
        retries=1,
        retry_delay=RETRY_DELAY,
        verbose=False,
    )


def build_dag(dag_id: str, stages: list[str], description: str) -> DAG:
    """A DAG running ``stages`` one after the other."""
    with DAG(
        dag_id=dag_id,
        description=description,
        schedule=None,
        start_date=datetime(2025, 1, 1),
        catchup=False,
        # One run at a time: a reselection (new K/P) waits for a running pipeline on the run directory.
        max_active_runs=1,
        params=PARAMS,
        tags=["semiweak"],
    ) as dag:
        tasks = [stage_task(s) for s in stages]
        for upstream, downstream in zip(tasks, tasks[1:]):
            upstream >> downstream
    return dag


semiweak_pipeline = build_dag(
    "semiweak_pipeline", STAGES,
    "semiweak: prep, teacher, scoring, selection, student pretraining and fine-tuning, baseline, evaluation;"
    " trigger again with another K/P for a new selection")
