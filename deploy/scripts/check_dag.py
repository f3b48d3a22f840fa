"""Loads deploy/airflow/semiweak_dag.py against a stand-in for Airflow and checks its structure.

Airflow is not installed where semiweak is built, so this replaces the three Airflow names the DAG
file uses (DAG, Param, SparkSubmitOperator) by recorders and then checks what the file built: the
DAG, its stage order, each task's spark-submit arguments, properties file, timeout and retry delay,
the environment set through Spark properties (no env_vars), and the GPU settings of `score`.
Usage: python3 check_dag.py path/to/semiweak_dag.py
"""

import importlib.util
import sys
import types
from datetime import timedelta

CLI_STAGES = ["prep", "train-teacher", "score", "select", "pretrain", "finetune", "baseline", "evaluate"]
ENV = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "1073741824", "MALLOC_TOP_PAD_": "268435456",
       "MALLOC_MMAP_MAX_": "0",
       "OMP_WAIT_POLICY": "PASSIVE", "DJL_OFFLINE": "true"}


class Param:
    def __init__(self, default=None, **schema):
        self.default = default
        self.schema = schema


class DAG:
    current = None

    def __init__(self, dag_id, **kwargs):
        self.dag_id = dag_id
        self.kwargs = kwargs
        self.tasks = []

    def __enter__(self):
        DAG.current = self
        return self

    def __exit__(self, *exc):
        DAG.current = None
        return False


class SparkSubmitOperator:
    def __init__(self, task_id, **kwargs):
        if DAG.current is None:
            raise AssertionError(f"task {task_id} created outside a DAG")
        self.task_id = task_id
        self.kwargs = kwargs
        self.downstream = []
        DAG.current.tasks.append(self)

    def __rshift__(self, other):
        self.downstream.append(other)
        return other


def install_stubs():
    airflow = types.ModuleType("airflow")
    airflow.DAG = DAG
    modules = {
        "airflow": airflow,
        "airflow.models": types.ModuleType("airflow.models"),
        "airflow.models.param": types.ModuleType("airflow.models.param"),
        "airflow.providers": types.ModuleType("airflow.providers"),
        "airflow.providers.apache": types.ModuleType("airflow.providers.apache"),
        "airflow.providers.apache.spark": types.ModuleType("airflow.providers.apache.spark"),
        "airflow.providers.apache.spark.operators": types.ModuleType("airflow.providers.apache.spark.operators"),
        "airflow.providers.apache.spark.operators.spark_submit":
            types.ModuleType("airflow.providers.apache.spark.operators.spark_submit"),
    }
    modules["airflow.models.param"].Param = Param
    modules["airflow.providers.apache.spark.operators.spark_submit"].SparkSubmitOperator = SparkSubmitOperator
    sys.modules.update(modules)  # no airflow.sdk: the file must fall back to the Airflow 2 imports


def chain_of(dag):
    """The tasks' stage names in dependency order, checking that they form one straight chain."""
    heads = [t for t in dag.tasks if not any(t in u.downstream for u in dag.tasks)]
    assert len(heads) == 1, f"{dag.dag_id}: expected one first task, found {[t.task_id for t in heads]}"
    order, task = [], heads[0]
    while True:
        order.append(task.kwargs["application_args"][0])
        assert len(task.downstream) <= 1, f"{dag.dag_id}: {task.task_id} fans out"
        if not task.downstream:
            break
        task = task.downstream[0]
    assert len(order) == len(dag.tasks), f"{dag.dag_id}: tasks not all chained: {order}"
    return order


def main(path):
    install_stubs()
    spec = importlib.util.spec_from_file_location("semiweak_dag", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dags = {v.dag_id: v for v in vars(module).values() if isinstance(v, DAG)}
    # One DAG: a second one on the same run directory (a reselection) could run beside it.
    assert set(dags) == {"semiweak_pipeline"}, f"DAGs found: {sorted(dags)}"

    assert chain_of(dags["semiweak_pipeline"]) == CLI_STAGES
    for dag in dags.values():
        params = dag.kwargs["params"]
        for name in ("K", "P", "run_dir", "config", "teacher"):
            assert name in params, f"{dag.dag_id}: parameter {name} missing"
        assert params["K"].schema.get("type") == "integer" and params["P"].schema.get("type") == "integer"
        assert dag.kwargs.get("schedule") is None, f"{dag.dag_id} must only run when triggered"
        assert dag.kwargs.get("max_active_runs") == 1, f"{dag.dag_id}: one run at a time per run directory"
        for task in dag.tasks:
            args = task.kwargs["application_args"]
            assert args[0] in CLI_STAGES, f"{task.task_id}: unknown subcommand {args[0]}"
            assert args[1:5] == ["--run-dir", "{{ params.run_dir }}", "--config", "{{ params.config }}"], \
                f"{task.task_id}: arguments {args}"
            assert all(a for a in args), f"{task.task_id}: empty argument in {args}"
            assert task.kwargs["java_class"] == "org.semiweak.driver.SemiweakCli"
            # The provider refuses env_vars in standalone cluster mode: the environment goes through conf.
            assert not task.kwargs.get("env_vars"), f"{task.task_id}: env_vars"
            assert str(task.kwargs.get("properties_file", "")).endswith(".conf"), f"{task.task_id}: properties_file"
            timeout = task.kwargs.get("execution_timeout")
            assert isinstance(timeout, timedelta) and timeout > timedelta(0), f"{task.task_id}: execution_timeout"
            assert task.kwargs.get("retry_delay", timedelta(0)) > timedelta(minutes=2), \
                f"{task.task_id}: retry_delay must exceed the lease timeout (2 min)"
            conf = task.kwargs["conf"]
            for prefix in ("spark.executorEnv.", "spark.yarn.appMasterEnv.", "spark.kubernetes.driverEnv."):
                for key, value in ENV.items():
                    assert conf.get(prefix + key) == value, f"{task.task_id}: {prefix}{key}"
            assert "-Dai.djl.offline=true" in conf["spark.executor.extraJavaOptions"]
            gpu = conf.get("spark.executor.resource.gpu.amount")
            assert (gpu == "1") == (args[0] == "score"), f"{task.task_id}: GPU only for score, got {gpu}"
            if args[0] == "score":
                assert conf["spark.task.resource.gpu.amount"] == "1"
                assert conf["spark.executor.resource.gpu.discoveryScript"].endswith("getGpusResources.sh")
            if args[0] == "select":
                joined = " ".join(args)
                assert "--k {{ params.K }}" in joined and "--p {{ params.P }}" in joined, joined
    print(f"{path}: DAG {sorted(dags)} loads; stages {CLI_STAGES} chained in order; K/P parameters;"
          " properties file, timeouts, retry delay; env through conf; GPU only for score")


if __name__ == "__main__":
    main(sys.argv[1])
