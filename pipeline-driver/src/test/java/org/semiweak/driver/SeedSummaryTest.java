package org.semiweak.driver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.config.ConfigException;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.StageManifest;
import org.semiweak.run.result.EvaluationResult;
import org.semiweak.testing.IdxSubset;

/** {@code semiweak run CONFIG --seeds N}: one run per seed, then mean ± std of every row. */
class SeedSummaryTest {
  @TempDir Path tmp;

  @Test
  void meanAndSampleStandardDeviation() {
    SeedSummary.Row row = new SeedSummary.Row("baseline", "baseline", List.of(80.0, 82.0, 84.0));
    assertThat(row.mean()).isCloseTo(82.0, within(1e-9));
    assertThat(row.std()).as("sample std (n - 1)").isCloseTo(2.0, within(1e-9));
    assertThat(new SeedSummary.Row("x", "x", List.of(1.0)).std()).as("undefined for one seed").isNaN();
  }

  @Test
  void seedsAreACountOrAList() {
    assertThat(SemiweakCli.parseSeeds("3")).containsExactly(1L, 2L, 3L);
    assertThat(SemiweakCli.parseSeeds("7, 8")).containsExactly(7L, 8L);
    assertThatThrownBy(() -> SemiweakCli.parseSeeds("0")).isInstanceOf(ConfigException.class);
    assertThatThrownBy(() -> SemiweakCli.parseSeeds("a,b")).isInstanceOf(ConfigException.class)
        .hasMessageContaining("--seeds: expected a count such as 3 or a list such as 1,2,3, found 'a,b'");
  }

  @Test
  void aRunPerSeedThenTheSummaryOfEveryModel() throws Exception {
    Path data = IdxSubset.write(tmp.resolve("fmnist"), 1500, 300);
    Path config = tmp.resolve("run.yaml");
    Path root = tmp.resolve("runs");
    Files.writeString(config, String.join("\n",
        "run-dir: " + root.toUri(),
        "spark-master: local[2]",
        "teachers: [semi-supervised]",
        "prep: {source: idx, input: " + data + ", labeled-per-class: 10, validation-per-class: 5}",
        "train-teacher: {widths: [16, 32], epochs: 2, local-steps: 5}",
        "score: {pmax: 2}",
        "select: {k: 20, p: 2}",
        "pretrain: {widths: [16, 32], epochs: 1, local-steps: 5}",
        "finetune: {epochs: 1, local-steps: 5}",
        "baseline: {epochs: 2, local-steps: 5}",
        ""));

    String[] r = PipelineTest.cli("run", config.toString(), "--seeds", "2");

    assertThat(r[0]).as("exit code; stderr: %s", r[2]).isEqualTo("0");
    assertThat(r[1]).contains("model (test set, top-1 %)").contains("± std").contains("2 seeds");
    for (long seed : List.of(1L, 2L)) {
      RunDir run = RunDir.open(root.resolve("seed-" + seed).toUri().toString(), new Configuration());
      StageManifest baseline = run.committed(RunLayout.baseline()).orElseThrow();
      assertThat(baseline.options().get("seed")).as("seed-%d's baseline trained with seed %d", seed, seed)
          .isEqualTo((int) seed);
      StageManifest evaluate = run.committed(RunLayout.evaluate()).orElseThrow();
      List<EvaluationResult.ModelEvaluation> models = evaluate.result(EvaluationResult.class).models();
      double top1 = models.stream().filter(m -> m.model().equals("baseline")).findFirst().orElseThrow().top1();
      assertThat(r[1]).as("the summary lists seed %d's baseline top-1", seed)
          .contains(String.format(java.util.Locale.ROOT, "%7.2f", 100 * top1));
      assertThat(models).as("seed %d: every model is also evaluated on the 50 validation images", seed)
          .allSatisfy(m -> {
            assertThat(m.validation()).isNotNull();
            assertThat(m.validation().images()).isEqualTo(50);
            assertThat(m.validation().top1()).isBetween(0.0, 1.0);
            assertThat(m.validation().top5()).isBetween(m.validation().top1(), 1.0);
          });
      assertThat(evaluate.count("validation-images")).isEqualTo(50);
      double validationTop1 = models.stream().filter(m -> m.model().equals("baseline")).findFirst().orElseThrow()
          .validation().top1();
      assertThat(r[1]).as("the summary lists seed %d's baseline validation top-1", seed)
          .contains(String.format(java.util.Locale.ROOT, "%7.2f", 100 * validationTop1));
      assertThat(Files.readString(root.resolve("seed-" + seed).resolve("SUMMARY.md"))).as("SUMMARY.md's val %% column")
          .contains("val %");
    }
    assertThat(r[1]).contains("model (validation set, top-1 %)");
    String summary = Files.readString(root.resolve("seeds-summary.txt"));
    assertThat(summary).as("written beside the runs").contains("teacher/semi-supervised")
        .contains("student/semi-supervised/k20-p2/finetune").contains("baseline")
        .contains("selection/semi-supervised/k20-p2");

    String[] dry = PipelineTest.cli("run", config.toString(), "--seeds", "3", "--dry-run");
    assertThat(dry[0]).as("exit code; stderr: %s", dry[2]).isEqualTo("0");
    assertThat(dry[1]).as("seeds 1 and 2 are planned with their own seeds: nothing of theirs is stale")
        .contains("semiweak: seed 1 of [1, 2, 3]").contains("semiweak: seed 2 of [1, 2, 3]")
        .doesNotContain("inputs or options changed");
    String seed3 = dry[1].substring(dry[1].indexOf("semiweak: seed 3 of"));
    assertThat(dry[1].substring(0, dry[1].indexOf("semiweak: seed 3 of")))
        .containsPattern("0 of \\d+ stages would run");
    assertThat(seed3).contains("the run directory does not exist yet").doesNotContain("0 of ");
    assertThat(Files.exists(root.resolve("seed-3"))).as("a dry run creates nothing").isFalse();
  }

  @Test
  void aSingleStageRefusesPipelineOptions() {
    String[] r = PipelineTest.cli("baseline", "--run-dir", tmp.resolve("x").toUri().toString(), "--seeds", "3");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("--seeds applies to 'semiweak run' and 'semiweak demo', not to a single stage");
  }
}
