package org.semiweak.teacher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.semiweak.teacher.TeacherFixtures.scoreOptions;
import static org.semiweak.teacher.TeacherFixtures.teacherOptions;

import ai.djl.Device;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.config.ConfigException;
import org.semiweak.data.ImageSchema;
import org.semiweak.data.ScoreSchema;
import org.semiweak.model.Classifier;
import org.semiweak.model.ImageTensors;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.model.StageModel;
import org.semiweak.run.RunLayout;
import org.semiweak.run.Split;
import org.semiweak.run.StageExecution;
import org.semiweak.run.StageManifest;
import org.semiweak.run.Upstream;
import org.semiweak.run.result.ScoreResult;
import org.semiweak.stage.PrepInfo;
import org.semiweak.testing.CommittedModels;
import org.semiweak.testing.PreparedRuns;

/**
 * score with a committed (untrained, tiny) teacher: every image of the split scored exactly once,
 * with the teacher's top-Pmax classes in descending probability, and a teacher that does not fit
 * the prepared images refused when the stage is planned.
 */
class ScoreImagesTest {
  @TempDir static Path tmp;
  static SparkSession spark;
  static PreparedRuns.Prepared prepared;
  static ModelSpec tinySpec;

  @BeforeAll
  static void prepare() {
    spark = TeacherFixtures.spark();
    prepared = PreparedRuns.commit(spark, tmp.resolve("run"), PreparedRuns.Spec.small());
    tinySpec = TrainTeacher.LABELED.modelSpec(teacherOptions("widths", "8,16"), prepared.images());
  }

  /** Commits an untrained model of {@code spec} as {@code teacher/<name>}; returns its fingerprint. */
  static String commitTeacher(String name, ModelSpec spec, long seed) {
    StageManifest m = CommittedModels.commit(prepared.run(), RunLayout.teacher(name), spec,
        ModelWeights.initial(spec, seed));
    return m.result(org.semiweak.run.result.ModelResult.class).model().fingerprint();
  }

  static Map<String, Row> imagesById(Split split) {
    Map<String, Row> out = new HashMap<>();
    for (Row r : PrepInfo.read(prepared.run()).read(spark, split).collectAsList()) {
      out.put(r.getAs(ImageSchema.IMAGE_ID), r);
    }
    return out;
  }

  static List<Row> scores(String teacher) {
    return spark.read().schema(ScoreSchema.SCHEMA).parquet(prepared.run().stagePath(RunLayout.scores(teacher))
        .toString()).collectAsList();
  }

  /** Each row: {@code n} distinct classes of the teacher, by probability descending (ties by class), summing to at most 1. */
  static void assertTopClasses(Row r, int n) {
    String id = r.getAs(ScoreSchema.IMAGE_ID);
    List<Integer> classes = r.getList(r.fieldIndex(ScoreSchema.CLASSES));
    List<Float> probs = r.getList(r.fieldIndex(ScoreSchema.PROBS));
    assertThat(classes).as("%s: %d classes", id, n).hasSize(n).doesNotHaveDuplicates()
        .allSatisfy(c -> assertThat(c).isBetween(0, 9));
    assertThat(probs).as("%s: one probability per class", id).hasSize(n)
        .allSatisfy(p -> assertThat(p).isBetween(0f, 1f));
    for (int j = 1; j < n; j++) {
      assertThat(probs.get(j)).as("%s: probabilities in descending order (%s)", id, probs)
          .isLessThanOrEqualTo(probs.get(j - 1));
      if (probs.get(j).equals(probs.get(j - 1))) {
        assertThat(classes.get(j)).as("%s: equal probabilities by class ascending", id).isGreaterThan(classes.get(j - 1));
      }
    }
    double sum = probs.stream().mapToDouble(Float::doubleValue).sum();
    assertThat(sum).as("%s: the top classes' probabilities sum to at most 1", id).isLessThanOrEqualTo(1.0 + 1e-5);
  }

  @Test
  void byDefaultEachFileOfTheSplitIsOneTaskSoThatTasksAreEqual() {
    // Five files of 60 images: Spark alone packs them into 2 tasks of 3 files and 2 on 2 cores.
    PreparedRuns.Prepared fiveFiles = PreparedRuns.commit(spark, tmp.resolve("five-files"),
        PreparedRuns.Spec.small().withUnlabeledFiles(5));
    CommittedModels.commit(fiveFiles.run(), RunLayout.teacher("untrained"), tinySpec, ModelWeights.initial(tinySpec, 1));

    StageManifest m = StageExecution.planAndRun(fiveFiles.run(), spark, new ScoreImages(fiveFiles.run(),
        scoreOptions("teacher", "untrained")));

    assertThat(m.result(ScoreResult.class).partitions()).as("one task per file").isEqualTo(5);
    assertThat(m.count("scored")).as("every image").isEqualTo(fiveFiles.count(Split.UNLABELED));
    assertThat(spark.conf().contains("spark.sql.files.minPartitionNum"))
        .as("the session's file packing is put back after the stage").isFalse();
  }

  @Test
  void everyUnlabeledImageIsScoredOnceWithItsTopPmaxClasses() throws Exception {
    String fingerprint = commitTeacher("untrained", tinySpec, 1);
    // Three partitions of 100 images in batches of 16: batches that end mid-partition, and a short last one.
    StageManifest m = StageExecution.planAndRun(prepared.run(), spark, new ScoreImages(prepared.run(),
        scoreOptions("teacher", "untrained", "pmax", "3", "batch-size", "16", "partitions", "3")));

    assertThat(m.stage()).isEqualTo("scores/untrained");
    long unlabeled = prepared.count(Split.UNLABELED);
    assertThat(m.count("in")).as("in: every unlabeled image").isEqualTo(unlabeled);
    assertThat(m.count("in")).as("in = scored + rejected").isEqualTo(m.count("scored") + m.count("rejected"));
    assertThat(m.count("rejected")).as("no image of prep is rejected").isZero();

    ScoreResult r = m.result(ScoreResult.class);
    assertThat(r.split()).isEqualTo("unlabeled");
    assertThat(r.pmax()).as("pmax kept").isEqualTo(3);
    assertThat(r.classes()).as("classes of the teacher").isEqualTo(10);
    assertThat(r.model().fingerprint()).as("scored with the committed teacher").isEqualTo(fingerprint);
    assertThat(r.partitions()).as("scored in the partitions asked for").isEqualTo(3);
    assertThat(r.modelLoads()).as("a teacher new to this JVM is loaded once for all 3 tasks of its one executor").isEqualTo(1L);
    assertThat(r.rejectedExamples()).isEmpty();

    Map<String, Row> images = imagesById(Split.UNLABELED);
    List<Row> rows = scores("untrained");
    Set<String> ids = new HashSet<>();
    for (Row s : rows) {
      String id = s.getAs(ScoreSchema.IMAGE_ID);
      assertThat(ids.add(id)).as("%s is scored once", id).isTrue();
      Row image = images.get(id);
      assertThat(image).as("%s is an image of the split", id).isNotNull();
      assertTopClasses(s, 3);
      assertThat(s.getList(s.fieldIndex(ScoreSchema.TAG_CLASSES)))
          .as("%s: tag classes copied from the image", id)
          .isEqualTo(image.getList(image.fieldIndex(ImageSchema.TAG_CLASSES)));
      assertThat((Integer) s.getAs(ScoreSchema.LABEL)).as("%s: label copied from the image", id)
          .isEqualTo(image.getAs(ImageSchema.LABEL));
      assertThat((String) s.getAs(ScoreSchema.MODEL_FINGERPRINT)).as("%s: the teacher's fingerprint", id)
          .isEqualTo(fingerprint);
    }
    assertThat(ids).as("every image of the split has a score row").isEqualTo(images.keySet());
    assertThat(rows).as("as many rows as scored").hasSize((int) m.count("scored"));

    // The scores are the teacher's own probabilities, whichever partition and batch an image fell in.
    StageModel teacher = StageModel.read(prepared.run(), RunLayout.teacher("untrained"));
    List<Row> sample = rows.subList(0, 7);
    float[] pixels = new float[sample.size() * tinySpec.imageValues()];
    for (int i = 0; i < sample.size(); i++) {
      String id = sample.get(i).getAs(ScoreSchema.IMAGE_ID);
      float[] one = ImageTensors.decode(images.get(id).getAs(ImageSchema.IMAGE), tinySpec, id);
      System.arraycopy(one, 0, pixels, i * one.length, one.length);
    }
    try (Classifier c = teacher.open(Device.cpu(), sample.size())) {
      float[][] expected = c.probabilities(pixels, sample.size());
      for (int i = 0; i < sample.size(); i++) {
        Row s = sample.get(i);
        List<Integer> classes = s.getList(s.fieldIndex(ScoreSchema.CLASSES));
        List<Float> probs = s.getList(s.fieldIndex(ScoreSchema.PROBS));
        for (int j = 0; j < classes.size(); j++) {
          assertThat(probs.get(j)).as("%s: probability of class %d", (Object) s.getAs(ScoreSchema.IMAGE_ID),
              classes.get(j)).isCloseTo(expected[i][classes.get(j)], within(1e-4f));
        }
        float kept = probs.get(probs.size() - 1);
        for (int cls = 0; cls < 10; cls++) {
          if (!classes.contains(cls)) {
            assertThat(expected[i][cls]).as("a class left out is not more probable than the last kept")
                .isLessThanOrEqualTo(kept + 1e-4f);
          }
        }
      }
    }
  }

  @Test
  void withLogitsEveryImageKeepsItsFullLogitVectorWhoseSoftmaxIsItsProbabilities() {
    commitTeacher("untrained-logits", tinySpec, 3);
    StageManifest m = StageExecution.planAndRun(prepared.run(), spark, new ScoreImages(prepared.run(),
        scoreOptions("teacher", "untrained-logits", "pmax", "2")));
    assertThat(m.result(ScoreResult.class).hasLogits()).as("auto: 10 classes keep their logits").isTrue();
    assertThat(m.options()).containsEntry("logits", "all");
    List<Row> rows = spark.read().schema(ScoreSchema.WITH_LOGITS)
        .parquet(prepared.run().stagePath(RunLayout.scores("untrained-logits")).toString()).collectAsList();
    assertThat(rows).hasSize((int) m.count("scored"));
    for (Row s : rows) {
      List<Float> z = s.getList(s.fieldIndex(ScoreSchema.LOGITS));
      assertThat(z).as("one logit per class").hasSize(10);
      float[] logits = new float[10];
      for (int c = 0; c < 10; c++) {
        logits[c] = z.get(c);
      }
      float[] p = org.semiweak.train.SoftTargets.soften(logits, 1);
      List<Integer> classes = s.getList(s.fieldIndex(ScoreSchema.CLASSES));
      List<Float> probs = s.getList(s.fieldIndex(ScoreSchema.PROBS));
      for (int j = 0; j < classes.size(); j++) {
        assertThat(probs.get(j)).as("softmax of the logits is the kept probability").isCloseTo(p[classes.get(j)],
            within(1e-5f));
      }
    }

    commitTeacher("untrained-no-logits", tinySpec, 3);
    StageManifest none = StageExecution.planAndRun(prepared.run(), spark, new ScoreImages(prepared.run(),
        scoreOptions("teacher", "untrained-no-logits", "pmax", "2", "logits", "none")));
    assertThat(none.result(ScoreResult.class).hasLogits()).isFalse();
    assertThat(none.options()).as("without logits, the options of scores written before the option existed")
        .doesNotContainKey("logits");
    assertThat(spark.read().parquet(prepared.run().stagePath(RunLayout.scores("untrained-no-logits")).toString())
        .schema().fieldNames()).as("the six columns of the schema before logits").containsExactly(
            ScoreSchema.SCHEMA.fieldNames());
  }

  @Test
  void aPmaxAboveTheClassCountKeepsEveryClass() {
    commitTeacher("untrained-all-classes", tinySpec, 2);
    StageManifest m = StageExecution.planAndRun(prepared.run(), spark, new ScoreImages(prepared.run(),
        scoreOptions("teacher", "untrained-all-classes", "pmax", "25", "split", "test")));

    ScoreResult r = m.result(ScoreResult.class);
    assertThat(r.pmax()).as("pmax = min(pmax, classes)").isEqualTo(10);
    assertThat(r.split()).as("the split asked for").isEqualTo("test");
    assertThat(m.count("in")).as("every test image").isEqualTo(prepared.count(Split.TEST))
        .isEqualTo(m.count("scored") + m.count("rejected"));
    List<Row> rows = scores("untrained-all-classes");
    assertThat(rows).hasSize((int) prepared.count(Split.TEST));
    for (Row s : rows) {
      assertTopClasses(s, 10);
      double sum = s.getList(s.fieldIndex(ScoreSchema.PROBS)).stream().mapToDouble(p -> ((Float) p).doubleValue()).sum();
      assertThat(sum).as("all classes: the probabilities sum to 1").isCloseTo(1.0, within(1e-4));
      assertThat(s.isNullAt(s.fieldIndex(ScoreSchema.LABEL))).as("test images keep their label").isFalse();
    }
  }

  @Test
  void aTeacherThatDoesNotFitThePreparedImagesIsRefusedAtPlanTime() {
    commitTeacher("seven-classes", tinySpec.withNumClasses(7), 3);
    ScoreImages seven = new ScoreImages(prepared.run(), scoreOptions("teacher", "seven-classes"));
    assertThatThrownBy(() -> seven.plan(new Upstream(prepared.run())))
        .as("a teacher of 7 classes for a vocabulary of 10")
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("teacher/seven-classes predicts 7 classes")
        .hasMessageContaining("the vocabulary of prep has 10");

    ModelSpec bigger = new ModelSpec(tinySpec.stem(), tinySpec.stageBlocks(), tinySpec.stageWidths(), 1, 32, 10,
        new float[] {0.5f}, new float[] {0.5f});
    commitTeacher("size-32", bigger, 4);
    assertThatThrownBy(() -> new ScoreImages(prepared.run(), scoreOptions("teacher", "size-32"))
        .plan(new Upstream(prepared.run())))
        .as("a teacher of 32 px images for 28 px images")
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("teacher/size-32 expects 1x32x32 images but prep writes 1x28x28");

    assertThatThrownBy(() -> new ScoreImages(prepared.run(), scoreOptions("teacher", "absent"))
        .plan(new Upstream(prepared.run())))
        .as("a teacher that was never committed")
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("teacher/absent");
    assertThat(prepared.run().committed(RunLayout.scores("seven-classes"))).as("nothing committed").isEmpty();
  }

  @Test
  void scoresDoNotDependOnPerformanceKnobs() {
    commitTeacher("knobs", tinySpec, 5);
    Upstream upstream = new Upstream(prepared.run());
    String plain = new ScoreImages(prepared.run(), scoreOptions("teacher", "knobs", "pmax", "3"))
        .plan(upstream).fingerprint();
    assertThat(new ScoreImages(prepared.run(), scoreOptions("teacher", "knobs", "pmax", "3", "batch-size", "7",
        "partitions", "5")).plan(upstream).fingerprint())
        .as("batch size and partitions do not change the scores")
        .isEqualTo(plain);
    assertThat(new ScoreImages(prepared.run(), scoreOptions("teacher", "knobs", "pmax", "4")).plan(upstream)
        .fingerprint())
        .as("pmax does")
        .isNotEqualTo(plain);
  }
}
