package org.semiweak.teacher.select;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.StageInfo;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.semiweak.config.ConfigException;
import org.semiweak.data.ScoreSchema;
import org.semiweak.data.SelectionSchema;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SelectTopKTest {
  static final int CLASSES = 12;
  static final int LENGTH = 6;
  static SparkSession spark;
  static List<ScoreRecord> records;
  static Dataset<Row> scores;

  @BeforeAll
  static void start() {
    spark = LocalSpark.get();
    records = SyntheticScores.generate(42, 700, CLASSES, LENGTH, 0.05);
    scores = frame(records).repartition(3);
  }

  static Dataset<Row> frame(List<ScoreRecord> rows) {
    return spark.createDataFrame(rows.stream().map(ScoreRecord::toRow).toList(), ScoreSchema.SCHEMA);
  }

  /** The class names of a synthetic run: {@code c0, c1, ...}. */
  static List<String> names(int classes) {
    return java.util.stream.IntStream.range(0, classes).mapToObj(c -> "c" + c).toList();
  }

  static List<String> keys(Dataset<Row> selection) {
    List<String> out = new ArrayList<>();
    for (Row r : selection.collectAsList()) {
      int c = r.getInt(r.fieldIndex(SelectionSchema.CLASS_INDEX));
      assertThat(r.getString(r.fieldIndex(SelectionSchema.CLASS_NAME))).as("class_name of class_index %d", c)
          .isEqualTo("c" + c);
      out.add(BruteForceSelection.key(c, r.getInt(r.fieldIndex(SelectionSchema.RANK)),
          r.getString(r.fieldIndex(SelectionSchema.IMAGE_ID)), r.getFloat(r.fieldIndex(SelectionSchema.SCORE))));
    }
    Collections.sort(out);
    return out;
  }

  static Stream<Arguments> optionCases() {
    TopKOptions d = TopKOptions.defaults();
    return Stream.of(
        Arguments.of("k=5 p=3", d.withK(5).withP(3)),
        Arguments.of("k=1 p=1", d.withK(1).withP(1)),
        Arguments.of("k=25 p=6 min-score=0.5", d.withK(25).withP(6).withMinScore(0.5)),
        Arguments.of("k=10 p=5 tag-consistent", d.withK(10).withP(5).withTagConsistent(true)),
        Arguments.of("k=8 p=6 max-classes-per-image=2 min-score=0.2 tag-consistent",
            d.withK(8).withP(6).withMaxClassesPerImage(2).withMinScore(0.2).withTagConsistent(true)),
        Arguments.of("k=1000 p=4: k above every class's candidates", d.withK(1000).withP(4)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("optionCases")
  void selectsExactlyWhatBruteForceAndTheWindowBaselineSelect(String name, TopKOptions options) {
    BruteForceSelection expected = new BruteForceSelection(records, options, CLASSES);
    try (TopKResult result = SelectTopK.withOptions(options).execute(scores, names(CLASSES))) {
      assertThat(result.selection().schema()).as("output schema").isEqualTo(SelectionSchema.SCHEMA);
      List<String> selected = keys(result.selection());
      assertThat(selected).as("SelectTopK rows equal the brute-force reference (%s)", name)
          .isEqualTo(expected.rows);
      assertThat(keys(WindowTopK.withOptions(options).select(scores, names(CLASSES))))
          .as("WindowTopK rows equal the brute-force reference (%s)", name).isEqualTo(expected.rows);

      for (ClassStats s : result.classStats()) {
        int c = s.classIndex();
        assertThat(s.candidates()).as("class %d candidates", c).isEqualTo(expected.candidates[c]);
        assertThat(s.selected()).as("class %d selected", c).isEqualTo(expected.selected[c]);
        assertThat(s.fewerThanK()).as("class %d fewer than k", c).isEqualTo(expected.candidates[c] < options.k());
        assertThat(s.nanRejected()).as("class %d NaN rejected", c).isEqualTo(expected.nanRejected[c]);
        assertThat(s.belowMinScore()).as("class %d below min-score", c).isEqualTo(expected.belowMinScore[c]);
        assertThat(s.notInTags()).as("class %d not in tags", c).isEqualTo(expected.notInTags[c]);
        assertThat(s.minSelectedScore()).as("class %d min score", c).isEqualTo(expected.minSelected[c]);
        if (s.candidates() == 0) {
          assertThat(s.scoreThreshold()).as("class %d: no candidate, no threshold", c).isNaN();
        } else {
          assertThat(s.scoreThreshold()).as("class %d threshold at or below the last selected score", c)
              .isLessThanOrEqualTo(expected.minSelected[c]);
          assertThat(s.survivors()).as("class %d survivors = the candidates at or above the threshold", c)
              .isEqualTo(expected.candidatesAtOrAbove(c, s.scoreThreshold()));
        }
        assertThat(s.maxSelectedScore()).as("class %d max score", c).isEqualTo(expected.maxSelected[c]);
        if (s.selected() > 0) {
          assertThat(s.meanSelectedScore()).as("class %d mean score", c).isCloseTo(expected.meanSelected[c], within(1e-9));
        }
        assertThat(s.selectedScoreHistogram()).as("class %d histogram of selected scores", c)
            .containsExactlyElementsOf(java.util.Arrays.stream(expected.histogram[c]).boxed().toList());
        assertThat(s.survivors()).as("class %d survivors of the threshold cover the selection", c)
            .isBetween(s.selected(), s.candidates());
      }
      assertThat(result.images()).as("every score row counted").isEqualTo(records.size());
      assertThat(result.considered()).as("in = candidates + rejected, for every (image, top class) pair")
          .isEqualTo((long) records.size() * options.classesPerImage());
      assertThat(result.selected()).as("rows written = selected in the stats").isEqualTo(selected.size());
    }
  }

  @Test
  void outputIsIdenticalWhateverTheInputPartitioning() {
    TopKOptions options = TopKOptions.defaults().withK(7).withP(4).withMinScore(0.1);
    List<String> first = null;
    List<ClassStats> firstStats = null;
    for (int partitions : new int[] {1, 3, 7}) {
      Dataset<Row> input = frame(records).repartition(partitions);
      assertThat(input.rdd().getNumPartitions()).isEqualTo(partitions);
      try (TopKResult result = SelectTopK.withOptions(options).execute(input, names(CLASSES))) {
        List<String> rows = keys(result.selection());
        if (first == null) {
          first = rows;
          firstStats = result.classStats();
        } else {
          assertThat(rows).as("rows with %d input partitions", partitions).isEqualTo(first);
          assertThat(result.classStats()).as("stats with %d input partitions", partitions).isEqualTo(firstStats);
        }
      }
    }
    assertThat(first).as("something was selected").isNotEmpty();
  }

  @Test
  void nanProbabilitiesAreNeverSelectedAndAreCounted() {
    List<ScoreRecord> rows = List.of(
        new ScoreRecord("a", new int[] {0, 1}, new float[] {Float.NaN, 0.2f}, new int[0]),
        new ScoreRecord("b", new int[] {0, 1}, new float[] {0.9f, 0.1f}, new int[0]),
        new ScoreRecord("c", new int[] {1, 0}, new float[] {0.6f, Float.NaN}, new int[0]));
    try (TopKResult r = SelectTopK.withOptions(TopKOptions.defaults().withK(5).withP(2))
        .execute(frame(rows), names(2))) {
      assertThat(keys(r.selection())).as("NaN candidates a/0 and c/0 are not selected").containsExactly(
          BruteForceSelection.key(0, 1, "b", 0.9f),
          BruteForceSelection.key(1, 1, "c", 0.6f),
          BruteForceSelection.key(1, 2, "a", 0.2f),
          BruteForceSelection.key(1, 3, "b", 0.1f));
      assertThat(r.classStats().get(0).nanRejected()).as("class 0 NaN count").isEqualTo(2);
      assertThat(r.classStats().get(0).candidates()).as("class 0 candidates").isEqualTo(1);
      assertThat(r.nanRejected()).as("total NaN count").isEqualTo(2);
      assertThat(r.totals()).as("totals account for every pair").containsEntry("considered", 6L)
          .containsEntry("candidates", 4L).containsEntry("nan_rejected", 2L).containsEntry("selected", 4L);
    }
  }

  @Test
  void minScoreAndTagConsistencyDropCandidatesAndCountThem() {
    List<ScoreRecord> rows = List.of(
        new ScoreRecord("x", new int[] {2, 0}, new float[] {0.7f, 0.3f}, new int[] {0, 2}),
        new ScoreRecord("y", new int[] {2, 1}, new float[] {0.8f, 0.05f}, new int[] {1}),
        new ScoreRecord("z", new int[] {0, 2}, new float[] {0.5f, 0.5f}, new int[] {0, 2}));
    TopKOptions o = TopKOptions.defaults().withK(10).withP(2).withMinScore(0.1).withTagConsistent(true);
    try (TopKResult r = SelectTopK.withOptions(o).execute(frame(rows), names(3))) {
      assertThat(keys(r.selection())).as("y/2 is not tagged 2, y/1 is below min-score").containsExactly(
          BruteForceSelection.key(0, 1, "z", 0.5f),
          BruteForceSelection.key(0, 2, "x", 0.3f),
          BruteForceSelection.key(2, 1, "x", 0.7f),
          BruteForceSelection.key(2, 2, "z", 0.5f));
      assertThat(r.classStats().get(2).notInTags()).as("class 2 not in tags").isEqualTo(1);
      assertThat(r.classStats().get(1).belowMinScore()).as("class 1 below min-score").isEqualTo(1);
      assertThat(r.classStats().get(1).fewerThanK()).as("class 1 has no candidate").isTrue();
      assertThat(r.classStats().get(1).scoreThreshold()).as("no threshold without selection").isNaN();
    }
  }

  @Test
  void theThresholdIsTheCutOfTheSecondPassNotTheLastSelectedScore() {
    // Class 0: k=1 of two adjacent floats, which share a histogram bin: pass 2 ranks both, so the
    // cut is the lower edge of that bin, below the one selected score. Class 1: fewer than k
    // candidates, all kept: no cut. Class 2: no candidate.
    ScoreBins bins = ScoreBins.forClasses(3);
    float low = 0;
    float high = 0;
    for (float s = 0.9f; s > 0.01f && !(high > low); s /= 2) { // a bin holding more than one float
      int bin = bins.binOf(s);
      low = bins.lowerEdge(bin);
      high = Math.nextDown(bins.lowerEdge(bin + 1));
    }
    assertThat(high).as("two scores of one bin").isGreaterThan(low);
    assertThat(bins.binOf(high)).as("two scores of one bin").isEqualTo(bins.binOf(low));
    List<ScoreRecord> rows = List.of(
        new ScoreRecord("a", new int[] {0, 1}, new float[] {high, 0.3f}, new int[0]),
        new ScoreRecord("b", new int[] {0, 1}, new float[] {low, 0.2f}, new int[0]));
    try (TopKResult r = SelectTopK.withOptions(TopKOptions.defaults().withK(1).withP(2)).execute(frame(rows), names(3))) {
      ClassStats c0 = r.classStats().get(0);
      assertThat(c0.minSelectedScore()).as("class 0 selected score").isEqualTo(high);
      assertThat(c0.survivors()).as("class 0: both candidates ranked by pass 2").isEqualTo(2);
      assertThat(c0.scoreThreshold()).as("class 0 cut: the lower edge of the bin of both candidates")
          .isEqualTo(low).isLessThan(c0.minSelectedScore());
      ClassStats c1 = r.classStats().get(1);
      assertThat(c1.selected()).as("class 1 keeps its best candidate").isEqualTo(1);
      assertThat(c1.scoreThreshold()).as("class 1: cut of the k-th candidate's bin").isLessThanOrEqualTo(0.3f);
      assertThat(r.classStats().get(2).scoreThreshold()).as("class 2 has no candidate").isNaN();
    }
    try (TopKResult r = SelectTopK.withOptions(TopKOptions.defaults().withK(5).withP(2)).execute(frame(rows), names(3))) {
      assertThat(r.classStats().get(0).scoreThreshold()).as("at most k candidates: no cut, all ranked").isZero();
      assertThat(r.classStats().get(0).survivors()).isEqualTo(2);
    }
  }

  @Test
  void readsTheScoresTwice(@TempDir java.nio.file.Path dir) throws Exception {
    // Scores from Parquet, so that reading them shows in the tasks' input metrics; reads of the
    // persisted selection come from the block manager after the pass that computed it.
    String path = dir.resolve("scores").toString();
    scores.write().parquet(path);
    Dataset<Row> fromFiles = spark.read().schema(ScoreSchema.SCHEMA).parquet(path);
    // Rows read by each stage that scans the Parquet files (a FileScanRDD in its lineage).
    List<Long> scans = Collections.synchronizedList(new ArrayList<>());
    SparkListener listener = new SparkListener() {
      @Override
      public void onStageCompleted(SparkListenerStageCompleted completed) {
        StageInfo stage = completed.stageInfo();
        boolean scansFiles = scala.jdk.javaapi.CollectionConverters.asJava(stage.rddInfos()).stream()
            .anyMatch(rdd -> rdd.name().contains("FileScanRDD"));
        if (scansFiles && stage.taskMetrics() != null) {
          scans.add(stage.taskMetrics().inputMetrics().recordsRead());
        }
      }
    };
    spark.sparkContext().listenerBus().waitUntilEmpty();
    spark.sparkContext().addSparkListener(listener);
    try (TopKResult r = SelectTopK.withOptions(TopKOptions.defaults().withK(3).withP(2)).execute(fromFiles, names(CLASSES))) {
      spark.sparkContext().listenerBus().waitUntilEmpty();
      assertThat(r.images()).isEqualTo(records.size());
      assertThat(scans).as("rows read by each scan of the scores: two passes of %d rows", records.size())
          .containsExactly((long) records.size(), (long) records.size());
    } finally {
      spark.sparkContext().removeSparkListener(listener);
    }
  }

  @Test
  void emptyScoresSelectNothingAndCountNothing() {
    try (TopKResult r = SelectTopK.withOptions(TopKOptions.defaults().withK(3).withP(2))
        .execute(frame(List.of()), names(CLASSES))) {
      assertThat(r.images()).as("images").isZero();
      assertThat(r.selected()).as("selected").isZero();
      assertThat(r.selection().count()).as("rows").isZero();
      assertThat(r.classStats()).as("a statistics row per class, all empty").hasSize(CLASSES)
          .allSatisfy(s -> assertThat(s.candidates()).isZero());
    }
  }

  @Test
  void tiesAreBrokenByImageIdInUtf8ByteOrder() {
    // UTF-16 (String.compareTo) puts the emoji before U+FFFD; UTF-8 bytes put it after.
    String emoji = "\uD83D\uDE00";
    String replacement = "\uFFFD";
    List<ScoreRecord> rows = List.of(
        new ScoreRecord(emoji, new int[] {0}, new float[] {0.5f}, new int[0]),
        new ScoreRecord(replacement, new int[] {0}, new float[] {0.5f}, new int[0]),
        new ScoreRecord("b", new int[] {0}, new float[] {0.5f}, new int[0]));
    TopKOptions o = TopKOptions.defaults().withK(2).withP(1);
    try (TopKResult r = SelectTopK.withOptions(o).execute(frame(rows), names(1))) {
      assertThat(keys(r.selection())).as("k=2 of three tied scores: the two smallest ids in byte order")
          .containsExactly(BruteForceSelection.key(0, 1, "b", 0.5f), BruteForceSelection.key(0, 2, replacement, 0.5f));
    }
  }

  @Test
  void scoresTooCloseForTheSortPrefixAreStillRankedByScoreNotByImageId() {
    // 4 * class - score, the double pass 2 sorts by first, is 4.0 for the three scores near 0 (a
    // double holds 4 - 2^-126 as 4): the exact score must decide their order, not the image id.
    float tiny = Float.MIN_NORMAL;
    float justAbove = Math.nextUp(0.75f);
    List<ScoreRecord> rows = List.of(
        new ScoreRecord("a", new int[] {1}, new float[] {tiny}, new int[0]),
        new ScoreRecord("b", new int[] {1}, new float[] {2 * tiny}, new int[0]),
        new ScoreRecord("c", new int[] {1}, new float[] {0f}, new int[0]),
        new ScoreRecord("d", new int[] {1}, new float[] {0.75f}, new int[0]),
        new ScoreRecord("e", new int[] {1}, new float[] {justAbove}, new int[0]));
    TopKOptions o = TopKOptions.defaults().withK(4).withP(1);
    try (TopKResult r = SelectTopK.withOptions(o).execute(frame(rows), names(2))) {
      assertThat(keys(r.selection())).as("class 1: score descending; the id only breaks exact ties")
          .containsExactlyElementsOf(new BruteForceSelection(rows, o, 2).rows)
          .contains(BruteForceSelection.key(1, 1, "e", justAbove), BruteForceSelection.key(1, 2, "d", 0.75f),
              BruteForceSelection.key(1, 3, "b", 2 * tiny), BruteForceSelection.key(1, 4, "a", tiny));
    }
  }

  @Test
  void optionsAreValidatedWithMessagesNamingTheKey() {
    TopKOptions d = TopKOptions.defaults();
    assertThatThrownBy(() -> d.withK(0)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("select.k: expected an integer >= 1").hasMessageContaining("found 0");
    assertThatThrownBy(() -> d.withP(0)).hasMessageContaining("select.p: expected an integer >= 1");
    assertThatThrownBy(() -> d.withMinScore(1.5)).hasMessageContaining("select.min-score: expected a number in [0, 1]");
    assertThatThrownBy(() -> d.withMinScore(-0.1)).hasMessageContaining("found -0.1");
    assertThatThrownBy(() -> d.withMinScore(Double.NaN)).hasMessageContaining("found NaN");
    assertThatThrownBy(() -> d.withMaxClassesPerImage(0)).hasMessageContaining("select.max-classes-per-image");
    assertThatThrownBy(() -> TopKOptions.parse(Map.of("kk", "3")))
        .hasMessageContaining("unknown option 'kk' (did you mean 'k'?)");
    assertThat(TopKOptions.parse(Map.of("k", "3", "tag-consistent", "true")))
        .as("parsed options fill defaults").isEqualTo(d.withK(3).withTagConsistent(true));
    assertThatThrownBy(() -> SelectTopK.withOptions(d.withP(13)).execute(scores, names(CLASSES)))
        .hasMessageContaining("select.p: 13 exceeds the number of classes (12)");
    assertThatThrownBy(() -> SelectTopK.withOptions(d).execute(scores.drop(ScoreSchema.PROBS), names(CLASSES)))
        .hasMessageContaining("column 'probs' is missing (expected array<float>)");
    assertThatThrownBy(() -> SelectTopK.withOptions(d).execute(
        scores.withColumn(ScoreSchema.PROBS, functions.col(ScoreSchema.PROBS).cast("array<double>")), names(CLASSES)))
        .hasMessageContaining("column 'probs' has type array<double>, expected array<float>");
  }

  @Test
  void pLargerThanTheClassesKeptPerImageFailsNamingAnImage() {
    // The scorer kept the top-6 classes; p=7 asks for more than the scores hold.
    assertThatThrownBy(() -> SelectTopK.withOptions(TopKOptions.defaults().withP(7)).execute(scores, names(CLASSES)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("700 rows: fewer than p=7 classes per image")
        .hasMessageContaining("(classes has 6 entries, probs 6")
        .hasMessageContaining("Examples:\n  image '")
        .hasMessageContaining("nothing was selected");
  }

  @Test
  void malformedRowsFailTheSelectionWithCountsAndExamples() {
    List<ScoreRecord> rows = new ArrayList<>(records.subList(0, 20));
    rows.add(new ScoreRecord("short-probs", new int[] {1, 2, 3, 4, 5, 6}, new float[] {0.5f, 0.4f}, new int[0]));
    rows.add(new ScoreRecord("bad-class", new int[] {1, 99, 3, 4, 5, 6}, new float[] {.5f, .4f, .3f, .2f, .1f, 0f},
        new int[0]));
    rows.add(new ScoreRecord("bad-prob", new int[] {1, 2, 3, 4, 5, 6}, new float[] {1.5f, .4f, .3f, .2f, .1f, 0f},
        new int[0]));
    rows.add(new ScoreRecord("twice", new int[] {1, 1, 3, 4, 5, 6}, new float[] {.5f, .4f, .3f, .2f, .1f, 0f},
        new int[0]));
    assertThatThrownBy(() -> SelectTopK.withOptions(TopKOptions.defaults().withP(4)).execute(frame(rows), names(CLASSES)))
        .hasMessageContaining("1 rows: 'classes' and 'probs' have different lengths")
        .hasMessageContaining("1 rows: a class appears twice among the first 4 entries")
        .hasMessageContaining("1 candidates: a class index is null or outside [0, 11]")
        .hasMessageContaining("1 candidates: a probability is null or outside [0, 1]")
        .hasMessageContaining("image 'short-probs'")
        .hasMessageContaining("image 'bad-class'");
  }

  @Test
  void sparkJobsAreNamed() throws Exception {
    List<String> descriptions = Collections.synchronizedList(new ArrayList<>());
    SparkListener listener = new SparkListener() {
      @Override
      public void onJobStart(SparkListenerJobStart start) {
        descriptions.add(String.valueOf(start.properties().getProperty(SelectTopK.JOB_DESCRIPTION)));
      }
    };
    spark.sparkContext().addSparkListener(listener);
    try (TopKResult r = SelectTopK.withOptions(TopKOptions.defaults().withK(3).withP(2))
        .execute(scores, names(CLASSES))) {
      assertThat(r.selected()).isPositive();
    } finally {
      spark.sparkContext().listenerBus().waitUntilEmpty();
      spark.sparkContext().removeSparkListener(listener);
    }
    assertThat(descriptions.stream().collect(Collectors.joining("\n")))
        .as("job descriptions").contains("select top-3 pass 1/2").contains("select top-3 pass 2/2");
    assertThat(descriptions).as("every job has a description").doesNotContain("null");
  }
}
