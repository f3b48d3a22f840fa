"""Airflow DAGs running the semiweak pipeline stage by stage with spark-submit.

Two DAGs, both triggered by hand (no schedule) with the same parameters:

* ``semiweak_pipeline``: prep -> train-teacher -> score -> select -> pretrain -> finetune -> evaluate.
* ``semiweak_reselect``: select -> pretrain -> finetune -> evaluate, for a new selection (other K
  or P) from the scores already in the run directory.

Every stage is idempotent: a stage whose committed output matches its inputs and options is
skipped by semiweak itself, so a retried task or a re-triggered DAG only redoes what changed. A new
K or P makes a new selection folder (selection/<teacher>/k<K>-p<P>) and a new student; the earlier
ones stay and ``evaluate`` compares them all. To redo an up-to-date stage anyway, run it by hand
with ``--force`` (bin/semiweak-submit ... -- <stage> --run-dir ... --force).

Setup: the Spark connection ``spark_semiweak`` (Admin > Connections, type Spark) holds the master
(``yarn``, ``k8s://https://...`` or ``spark://host:7077``) and the deploy mode; the Airflow workers
need spark-submit and the semiweak distribution at ``SEMIWEAK_HOME`` (see deploy/README.md).
Requires apache-airflow-providers-apache-spark.
"""

from __future__ import annotations

import os
from datetime import datetime

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

# The pipeline's stages in order, as CLI subcommands.
STAGES = ["prep", "train-teacher", "score", "select", "pretrain", "finetune", "evaluate"]
RESELECT_STAGES = ["select", "pretrain", "finetune", "evaluate"]

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
    "evaluate": [],
}

# Settings every stage's JVMs need (deploy/README.md, "Settings for a billion images").
COMMON_CONF = {
    "spark.task.maxFailures": "4",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.files.maxPartitionBytes": "256m",
    "spark.executor.extraJavaOptions": "-Dai.djl.offline=true -Dai.djl.pytorch.num_threads=1 "
    "-Dai.djl.pytorch.num_interop_threads=1",
    "spark.driver.extraJavaOptions": "-Dai.djl.offline=true",
    "spark.executorEnv.DJL_OFFLINE": "true",
    "spark.executorEnv.DJL_CACHE_DIR": "/var/cache/semiweak/djl",
    "spark.executorEnv.MALLOC_MMAP_THRESHOLD_": "33554432",
    "spark.executorEnv.MALLOC_TRIM_THRESHOLD_": "1073741824",
    "spark.executorEnv.MALLOC_TOP_PAD_": "268435456",
    "spark.executorEnv.OMP_WAIT_POLICY": "PASSIVE",
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
    conf = {**COMMON_CONF, **(GPU_CONF if stage == "score" else CPU_CONF)}
    return SparkSubmitOperator(
        task_id=stage.replace("-", "_"),
        conn_id=SPARK_CONN_ID,
        application=APP_JAR,
        java_class=MAIN_CLASS,
        name=f"semiweak-{stage}",
        conf=conf,
        application_args=[
            stage,
            "--run-dir", "{{ params.run_dir }}",
            "--config", "{{ params.config }}",
            *STAGE_ARGS[stage],
        ],
        env_vars={
            "MALLOC_MMAP_THRESHOLD_": "33554432",
            "MALLOC_TRIM_THRESHOLD_": "1073741824",
            "MALLOC_TOP_PAD_": "268435456",
            "OMP_WAIT_POLICY": "PASSIVE",
            "DJL_OFFLINE": "true",
        },
        retries=1,
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
        max_active_runs=1,  # one semiweak process per run directory (it holds a lock)
        params=PARAMS,
        tags=["semiweak"],
    ) as dag:
        tasks = [stage_task(s) for s in stages]
        for upstream, downstream in zip(tasks, tasks[1:]):
            upstream >> downstream
    return dag


semiweak_pipeline = build_dag(
    "semiweak_pipeline", STAGES,
    "semiweak: prep, teacher, scoring, selection, student pretraining and fine-tuning, evaluation")
semiweak_reselect = build_dag(
    "semiweak_reselect", RESELECT_STAGES,
    "semiweak: a new selection (K, P) from existing scores, its student, evaluation")
