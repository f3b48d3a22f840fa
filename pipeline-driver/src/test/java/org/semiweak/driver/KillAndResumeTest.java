package org.semiweak.driver;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
import org.semiweak.run.StageManifest;
import org.semiweak.testing.IdxSubset;

/**
 * Kills a real {@code semiweak run} process (SIGKILL) in the middle of a training stage and starts
 * the pipeline again: committed stages are not redone, the training resumes from its last round
 * checkpoint and ends with the weights of an undisturbed run.
 */
class KillAndResumeTest {
  @TempDir Path tmp;

  @Test
  void aKilledRunResumesAtTheFirstUncommittedStageFromItsCheckpoint() throws Exception {
    Path data = IdxSubset.write(tmp.resolve("fmnist"), 2000, 500);
    String runDir = tmp.resolve("run").toUri().toString();
    Path config = tmp.resolve("run.yaml");
    Files.writeString(config, String.join("\n",
        "run-dir: " + runDir,
        "spark-master: local[2]",
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

    // The killed process left its lock behind: a rerun must say so; the user removes a stale lock.
    String[] refused = PipelineTest.cli("run", config.toString());
    assertThat(refused[0]).as("a held lock refuses the second process").isEqualTo("3");
    assertThat(refused[2]).contains("is in use by another semiweak process").contains("_LOCK");
    Files.delete(tmp.resolve("run/_LOCK"));

    String[] r = PipelineTest.cli("run", config.toString());
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("0");
    assertThat(r[1]).contains("[1/8 prep] up to date");
    StageManifest prep = run.committed(RunLayout.prep()).orElseThrow();
    assertThat(prep.finishedAt()).as("prep was not redone").isEqualTo(prepFinishedAt);
    assertThat(prep.fingerprint()).isEqualTo(prepFingerprint);
    TrainingPhase training = run.committed(RunLayout.teacher("semi-supervised")).orElseThrow()
        .result(ModelResult.class).phase("labeled");
    assertThat(training.roundsResumed()).as("training resumed from a checkpoint").isGreaterThanOrEqualTo(2);
    assertThat(run.committed(RunLayout.evaluate())).as("the pipeline finished").isPresent();
    assertThat(Files.exists(tmp.resolve("run/_work/teacher+semi-supervised"))).as("work folder removed after commit").isFalse();

    // The killed stage, resumed, ends where an undisturbed run ends: the same teacher weights, bit
    // for bit. Every later stage is a deterministic function of the teacher and the prepared data
    // (DeterminismAndInputDamageTest), so the final outputs equal an undisturbed run's.
    String undisturbed = tmp.resolve("undisturbed").toUri().toString();
    for (String[] stage : List.of(new String[] {"prep"}, new String[] {"train-teacher", "--recipe", "semi-supervised"})) {
      List<String> args = new ArrayList<>(List.of(stage[0], "--config", config.toString(), "--run-dir", undisturbed));
      args.addAll(List.of(stage).subList(1, stage.length));
      String[] u = PipelineTest.cli(args.toArray(String[]::new));
      assertThat(u[0]).as("undisturbed %s; stderr: %s", stage[0], u[2]).isEqualTo("0");
    }
    RunDir reference = RunDir.open(undisturbed, new Configuration());
    assertThat(run.committed(RunLayout.teacher("semi-supervised")).orElseThrow().fingerprint())
        .as("same planned inputs and options").isEqualTo(reference.committed(RunLayout.teacher("semi-supervised")).orElseThrow().fingerprint());
    assertThat(StageModel.read(run, RunLayout.teacher("semi-supervised")).fingerprint())
        .as("the resumed teacher has the weights of an undisturbed one")
        .isEqualTo(StageModel.read(reference, RunLayout.teacher("semi-supervised")).fingerprint());
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
