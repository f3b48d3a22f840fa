package org.semiweak.driver;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.testing.IdxSubset;

/**
 * A mistake between stages fails the whole pipeline before its first Spark job, on a fresh run
 * directory: every stage is planned against what the stages before it will publish (Spark ML's
 * transformSchema, for a pipeline of training stages), so nothing is prepared or trained in vain.
 */
class PipelineValidationTest {
  @TempDir static Path tmp;
  static Path data;

  @BeforeAll
  static void smallRealDataset() throws Exception {
    data = IdxSubset.write(tmp.resolve("fmnist"), 200, 50);
  }

  /** Runs {@code semiweak run} on a fresh run directory with the given config sections; returns exit code, stdout, stderr. */
  private static String[] runFresh(String name, String... sections) throws Exception {
    Path config = tmp.resolve(name + ".yaml");
    List<String> lines = new ArrayList<>(List.of(
        "run-dir: " + tmp.resolve(name).toUri(),
        "spark-master: local[1]",
        "prep: {source: idx, input: " + data + ", labeled-per-class: 5}"));
    lines.addAll(List.of(sections));
    Files.writeString(config, String.join("\n", lines) + "\n");
    return PipelineTest.cli("run", config.toString());
  }

  private static void assertRefusedBeforeAnyWork(String name, String[] r, long startedNanos) {
    double seconds = (System.nanoTime() - startedNanos) / 1e9;
    assertThat(r[0]).as("exit code 2 (configuration); stdout: %s", r[1]).isEqualTo("2");
    assertThat(r[2]).as("one message naming the pipeline as invalid").contains("the pipeline is not valid; nothing was run");
    assertThat(r[1]).as("no stage started").doesNotContain("running");
    RunDir run = RunDir.open(tmp.resolve(name).toUri().toString(), new Configuration());
    assertThat(run.listCommitted()).as("nothing committed").isEmpty();
    assertThat(Files.exists(tmp.resolve(name).resolve(RunLayout.TMP))).as("no temporary output").isFalse();
    assertThat(seconds).as("refused at validation, long before a teacher trains").isLessThan(60);
  }

  @Test
  void aSelectionWithPAbovePmaxFailsBeforePrep() throws Exception {
    long t0 = System.nanoTime();
    String[] r = runFresh("p-above-pmax", "score: {pmax: 3}", "select: {k: 10, p: 4}");
    assertRefusedBeforeAnyWork("p-above-pmax", r, t0);
    assertThat(r[2]).contains("[selection/semi-weak/k10-p4] select.p = 4 but scores/semi-weak keeps only the top 3"
        + " classes per image (score.pmax)");
  }

  @Test
  void aSelectionWithPAboveTheClassesOfThePreparedDataFailsBeforePrep() throws Exception {
    long t0 = System.nanoTime();
    String[] r = runFresh("p-above-classes", "score: {pmax: 20}", "select: {k: 10, p: 11}");
    assertRefusedBeforeAnyWork("p-above-classes", r, t0);
    assertThat(r[2]).contains("[selection/semi-weak/k10-p11]").contains("11").contains("10");
  }

  @Test
  void aDistillationFromScoresThatKeepNoLogitsFailsBeforePrep() throws Exception {
    long t0 = System.nanoTime();
    String[] r = runFresh("distill-without-logits", "score: {pmax: 3, logits: none}", "distill: {temperature: 2}");
    assertRefusedBeforeAnyWork("distill-without-logits", r, t0);
    assertThat(r[2]).contains("[student/semi-weak/distill-t2/distill] student/semi-weak/distill-t2/distill trains on"
        + " the teacher's logits, but scores/semi-weak kept only the top 3 probabilities of each image")
        .contains("logits: all");
  }

  @Test
  void anEvaluatedModelThatNoStageProducesFails() throws Exception {
    long t0 = System.nanoTime();
    String[] r = runFresh("unknown-model", "evaluate: {models: 'teacher/semi-weak,student/semi-weak/k1-p1/finetune'}");
    assertRefusedBeforeAnyWork("unknown-model", r, t0);
    assertThat(r[2]).contains("[evaluate] evaluate needs the output of stage 'student/semi-weak/k1-p1/finetune',"
        + " which is neither committed");
  }

  @Test
  void anEvaluatedStageThatIsNoModelFails() throws Exception {
    long t0 = System.nanoTime();
    String[] r = runFresh("not-a-model", "evaluate: {models: 'scores/semi-weak'}");
    assertRefusedBeforeAnyWork("not-a-model", r, t0);
    assertThat(r[2]).contains("evaluate.models: scores/semi-weak is a score stage, not a model");
  }

  @Test
  void aStudentWhoseSelectionDoesNotExistFailsOnAFreshRunDirectory() throws Exception {
    Path fresh = tmp.resolve("no-selection");
    long t0 = System.nanoTime();
    String[] r = PipelineTest.cli(Stream.of("pretrain", "--run-dir", fresh.toUri().toString(), "--spark-master",
        "local[1]", "--teacher", "semi-weak", "--selection", "k9-p1").toArray(String[]::new));
    assertThat(r[0]).as("exit code; stderr: %s", r[2]).isEqualTo("2");
    assertThat(r[2]).contains("student/semi-weak/k9-p1/pretrain needs the output of stage 'selection/semi-weak/k9-p1', which is neither"
        + " committed in").contains("nor planned before it");
    assertThat(RunDir.open(fresh.toUri().toString(), new Configuration()).listCommitted()).isEmpty();
    assertThat((System.nanoTime() - t0) / 1e9).isLessThan(60);
  }

  @Test
  void everyProblemIsListedAtOnce() throws Exception {
    long t0 = System.nanoTime();
    String[] r = runFresh("two-problems", "score: {pmax: 2}", "select: {k: 10, p: 3}",
        "evaluate: {models: 'baseline,teacher/nope'}");
    assertRefusedBeforeAnyWork("two-problems", r, t0);
    assertThat(r[2]).contains("[selection/semi-weak/k10-p3]").contains("[evaluate]");
  }

  @Test
  void aTrainingScheduleThatCannotRunFailsBeforeTheStagesBeforeIt() throws Exception {
    long t0 = System.nanoTime();
    String[] r = runFresh("bad-schedules", "train-teacher: {finetune-learning-rate: 0}",
        "baseline: {batch-size: 1}");
    assertRefusedBeforeAnyWork("bad-schedules", r, t0);
    assertThat(r[2]).contains("[teacher/semi-weak] train-teacher: invalid training options")
        .contains("[baseline] baseline: invalid training options");
  }

  /** The plan of the baseline in the pipeline of a config (planning only: no Spark, nothing written). */
  private static org.semiweak.run.StagePlan baselinePlan(String name, String... sections) {
    RunDir run = RunDir.open(tmp.resolve(name).toUri().toString(), new Configuration());
    List<String> lines = new ArrayList<>(List.of("prep: {source: idx, input: " + data + ", labeled-per-class: 5}"));
    lines.addAll(List.of(sections));
    RunConfig config = RunConfig.parse(String.join("\n", lines) + "\n", name, StageCatalog.commands());
    List<org.semiweak.run.StagePlan> plans = new PipelineRunner(run, () -> {
      throw new AssertionError("planning starts no Spark session");
    }, System.out).check(Pipeline.build(config, run));
    return plans.stream().filter(p -> p.id().equals(RunLayout.baseline())).findFirst().orElseThrow();
  }

  @Test
  void theBaselineFollowsTheStudentsArchitectureUnlessItsOwnSectionSetsOne() {
    assertThat(baselinePlan("arch-student", "pretrain: {widths: [16, 32], blocks: [2]}").options())
        .as("only the student is configured: the baseline is the student's architecture, not the teacher's")
        .containsEntry("widths", List.of(16, 32)).containsEntry("blocks", List.of(2));
    assertThat(baselinePlan("arch-own", "pretrain: {widths: [16, 32], blocks: [2]}", "baseline: {widths: [32, 64]}")
        .options())
        .as("the baseline's own section wins for what it sets")
        .containsEntry("widths", List.of(32, 64)).containsEntry("blocks", List.of(2));
  }

  @Test
  void eachGenerationIsTaughtByThePreviousOnesFinalStudentAndPlannedAfterIt() {
    RunDir run = RunDir.open(tmp.resolve("generations").toUri().toString(), new Configuration());
    RunConfig config = RunConfig.parse(String.join("\n", "generations: 3", "teachers: [semi-weak]",
        "prep: {source: idx, input: " + data + ", labeled-per-class: 5}", "select: {k: 10, p: 2}", "distill: {}")
        + "\n", "generations", StageCatalog.commands());
    List<org.semiweak.run.Stage> stages = Pipeline.build(config, run);
    List<org.semiweak.run.StagePlan> plans = new PipelineRunner(run, () -> {
      throw new AssertionError("planning starts no Spark session");
    }, System.out).check(stages);
    List<String> order = stages.stream().map(s -> s.id().path()).toList();
    assertThat(order).as("every stage once; each after the stages it reads (check plans them in this order)")
        .doesNotHaveDuplicates().startsWith("prep", "teacher/semi-weak").endsWith("evaluate")
        .contains("scores/semi-weak-gen2", "scores/semi-weak-gen3", "student/semi-weak-gen3/distill-t2/finetune");
    for (String[] taught : new String[][] {
        {"scores/semi-weak", null},
        {"scores/semi-weak-gen2", "student/semi-weak/distill-t2/finetune"},
        {"scores/semi-weak-gen3", "student/semi-weak-gen2/distill-t2/finetune"}}) {
      org.semiweak.run.StagePlan plan = plans.get(order.indexOf(taught[0]));
      assertThat(plan.options().get("model")).as("the model that scores %s", taught[0]).isEqualTo(taught[1]);
      if (taught[1] != null) {
        assertThat(order.indexOf(taught[0])).as("%s after its teacher", taught[0]).isGreaterThan(order.indexOf(taught[1]));
      }
    }
    assertThat(plans.get(order.indexOf("evaluate")).options().get("models").toString().split(","))
        .as("every generation's students are evaluated")
        .contains("student/semi-weak-gen3/k10-p2/finetune", "student/semi-weak-gen3/distill-t2/finetune");
  }

  @Test
  void aJointlyTrainedDistilledStudentTeachesTheNextGenerationItselfNotItsFinetune() {
    RunDir run = RunDir.open(tmp.resolve("generations-joint").toUri().toString(), new Configuration());
    RunConfig config = RunConfig.parse(String.join("\n", "generations: 2", "teachers: [semi-weak]",
        "prep: {source: idx, input: " + data + ", labeled-per-class: 5}", "select: {k: 10, p: 2}",
        "distill: {labeled-per-batch: 8}") + "\n", "generations", StageCatalog.commands());
    List<org.semiweak.run.Stage> stages = Pipeline.build(config, run);
    List<org.semiweak.run.StagePlan> plans = new PipelineRunner(run, () -> {
      throw new AssertionError("planning starts no Spark session");
    }, System.out).check(stages);
    List<String> order = stages.stream().map(s -> s.id().path()).toList();
    assertThat(plans.get(order.indexOf("scores/semi-weak-gen2")).options().get("model"))
        .as("the model that scores for the second generation").isEqualTo("student/semi-weak/distill-t2/distill");
    assertThat(order).as("its finetune is still run and evaluated")
        .contains("student/semi-weak/distill-t2/finetune", "student/semi-weak-gen2/distill-t2/finetune");
    assertThat(plans.get(order.indexOf("evaluate")).options().get("models").toString().split(","))
        .contains("student/semi-weak/distill-t2/distill", "student/semi-weak/distill-t2/finetune");
  }

  @Test
  void helpPrepShowsTheInputFormatsByExample() throws Exception {
    String[] r = PipelineTest.cli("help", "prep");
    assertThat(r[0]).isEqualTo("0");
    assertThat(r[1]).as("the inputs option and the formats").contains("--inputs").contains("Inputs and formats")
        .contains("  tag,class_name\n  #coat,Coat").contains("eval_label");
  }
}
