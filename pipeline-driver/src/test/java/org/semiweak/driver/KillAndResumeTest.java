package org.semiweak.driver;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.result.ModelResult;
import org.semiweak.run.result.TrainingPhase;
import org.semiweak.model.StageModel;
import org.semiweak.run.RunDir;
import org.semiweak.run.StageFile;
import org.semiweak.run.StageKind;
import org.semiweak.run.result.EvaluationResult;
import org.semiweak.run.StageManifest;
import org.semiweak.util.Json;
import org.semiweak.testing.IdxSubset;

/**
 * Kills a real {@code semiweak run} process (SIGKILL) in the middle of a training stage and starts
 * the pipeline again: the rerun takes over the lease the killed process left, committed stages are
 * not redone, the training resumes from its last round checkpoint, and every output equals an
 * undisturbed run's.
 */
class KillAndResumeTest {
  @TempDir Path tmp;

  @Test
  void aKilledRunsLeaseIsTakenOverAndTheRerunResumesFromItsCheckpointToTheOutputsOfAnUndisturbedRun() throws Exception {
    Path data = IdxSubset.write(tmp.resolve("fmnist"), 2000, 500);
    String runDir = tmp.resolve("run").toUri().toString();
    Path config = tmp.resolve("run.yaml");
    Files.writeString(config, String.join("\n",
        "run-dir: " + runDir,
        "spark-master: local[2]",
        "lock-timeout: 5s",
        "teachers: [semi-supervised]",
        "prep: {source: idx, input: " + data + ", labeled-per-class: 30}",
        "train-teacher: {widths: [8, 16], epochs: 40, local-steps: 2}",
        "select: {k: 20, p: 2}",
        "pretrain: {widths: [8, 16], epochs: 1, local-steps: 5}",
        "finetune: {epochs: 1, local-steps: 5}",
        "baseline: {widths: [8, 16], epochs: 1, local-steps: 5}",
        ""));

    Process p = startCli("run", config.toString());
    Path checkpoints = tmp.resolve("run/_work/teacher+semi-supervised/checkpoints-labeled");
    try {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
      while (countRounds(checkpoints) < 2) {
        assertThat(p.isAlive()).as("the run is still working when we kill it (see %s)", tmp.resolve("cli.log")).isTrue();
        assertThat(System.nanoTime()).as("a checkpoint appears within 5 minutes").isLessThan(deadline);
        Thread.sleep(200);
      }
    } finally {
      p.destroyForcibly(); // SIGKILL: no shutdown hooks, no cleanup
      p.waitFor(30, TimeUnit.SECONDS);
    }
    RunDir run = RunDir.open(runDir, new Configuration());
    assertThat(run.committed(RunLayout.prep())).as("prep was committed before the kill").isPresent();
    assertThat(run.committed(RunLayout.teacher("semi-supervised"))).as("the teacher was killed mid-training").isEmpty();
    String prepFingerprint = run.committed(RunLayout.prep()).orElseThrow().fingerprint();
    String prepFinishedAt = run.committed(RunLayout.prep()).orElseThrow().finishedAt();

    // The killed process left its lease behind, no longer renewed: once it is older than the lease's
    // timeout (5 s, from the config), the rerun takes it over by itself and says so.
    waitUntilTheLeaseIsStale(tmp.resolve("run/_LOCK"));
    String[] r = PipelineTest.cli("run", config.toString());
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("0");
    assertThat(r[1]).as("the takeover is reported").contains("semiweak: took over the stale lease of ")
        .contains("(semiweak prep .. evaluate)");
    assertThat(r[1]).contains("[1/8 prep] up to date");
    StageManifest prep = run.committed(RunLayout.prep()).orElseThrow();
    assertThat(prep.finishedAt()).as("prep was not redone").isEqualTo(prepFinishedAt);
    assertThat(prep.fingerprint()).isEqualTo(prepFingerprint);
    TrainingPhase training = run.committed(RunLayout.teacher("semi-supervised")).orElseThrow()
        .result(ModelResult.class).phase("labeled");
    assertThat(training.roundsResumed()).as("training resumed from a checkpoint").isGreaterThanOrEqualTo(2);
    assertThat(run.committed(RunLayout.evaluate())).as("the pipeline finished").isPresent();
    assertThat(Files.exists(tmp.resolve("run/_work/teacher+semi-supervised"))).as("work folder removed after commit").isFalse();
    assertThat(Files.exists(tmp.resolve("run/_LOCK"))).as("the lease was released").isFalse();
    assertThat(Files.readString(tmp.resolve("run/SUMMARY.md"))).as("the results table is in the run directory")
        .contains("model (test set)").contains("baseline").contains("evaluate");

    // The same pipeline, undisturbed, in another run directory: every stage has the same plan, the same
    // counts and the same files (row counts; checksums of the files that are not Parquet), every model
    // the same weights, bit for bit, and the evaluation the same accuracies.
    String undisturbed = tmp.resolve("undisturbed").toUri().toString();
    String[] u = PipelineTest.cli("run", config.toString(), "--run-dir", undisturbed);
    assertThat(u[0]).as("undisturbed run; stderr: %s", u[2]).isEqualTo("0");
    RunDir reference = RunDir.open(undisturbed, new Configuration());
    List<StageManifest> resumed = run.listCommitted();
    assertThat(resumed).extracting(StageManifest::stage)
        .containsExactlyElementsOf(reference.listCommitted().stream().map(StageManifest::stage).toList());
    for (StageManifest m : resumed) {
      StageManifest ref = reference.committed(m.id()).orElseThrow();
      assertThat(m.fingerprint()).as("%s: same planned inputs and options", m.stage()).isEqualTo(ref.fingerprint());
      assertThat(m.counts()).as("%s: same counts", m.stage()).isEqualTo(ref.counts());
      if (m.id().kind() != StageKind.REPORT) { // the page names its run directory and wall times
        assertThat(contents(m)).as("%s: same files", m.stage()).isEqualTo(contents(ref));
      }
      if (m.id().kind() == StageKind.EVALUATE) {
        assertThat(m.result(EvaluationResult.class).models()).as("the same accuracy of every model")
            .isEqualTo(ref.result(EvaluationResult.class).models());
      }
      if (m.id().kind().producesModel()) {
        assertThat(StageModel.read(run, m.id()).fingerprint()).as("%s: same weights", m.stage())
            .isEqualTo(StageModel.read(reference, m.id()).fingerprint());
      }
    }
  }

  /**
   * A stage's files by name (random ids left out): Parquet files with their row counts (the order of
   * rows inside a file, hence its bytes, may differ between runs; the rows themselves are compared by
   * DeterminismAndInputDamageTest), other files (weights, model and vocabulary files) with their
   * checksums; not {@code _PLAN.json}, which names the run directory's paths (plans are compared by
   * fingerprint).
   */
  private static Map<String, String> contents(StageManifest m) {
    Map<String, String> out = new TreeMap<>();
    for (StageFile f : m.files()) {
      if (f.path().equals(RunLayout.PLAN_FILE)) {
        continue;
      }
      out.merge(f.path().replaceAll("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "*"),
          f.rows() != null ? f.rows() + " rows" : f.checksum(), (a, b) -> a + " | " + b);
    }
    return out;
  }

  /** Sleeps until the lease's last heartbeat is older than its timeout, as it says in the file. */
  private static void waitUntilTheLeaseIsStale(Path lock) throws Exception {
    assertThat(lock).as("the killed run left its lease").exists();
    Map<?, ?> lease = Json.MAPPER.readValue(Files.readString(lock), Map.class);
    long staleAt = ((Number) lease.get("heartbeatMillis")).longValue()
        + Math.round(((Number) lease.get("timeoutSeconds")).doubleValue() * 1000);
    Thread.sleep(Math.max(0, staleAt - System.currentTimeMillis()) + 500);
  }

  private static long countRounds(Path checkpoints) throws Exception {
    if (!Files.isDirectory(checkpoints)) {
      return 0;
    }
    try (Stream<Path> s = Files.list(checkpoints)) {
      return s.filter(x -> x.getFileName().toString().startsWith("round-")).count();
    }
  }

  private Process startCli(String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
    cmd.add("-Xmx2g");
    for (String opt : System.getProperty("semiweak.test.jvmOpens", "").split(" ")) {
      if (!opt.isBlank()) {
        cmd.add(opt);
      }
    }
    cmd.add("-Dai.djl.offline=true");
    cmd.add("-Dai.djl.pytorch.num_threads=1");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(SemiweakCli.class.getName());
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("cli.log").toFile()).start();
  }
}
