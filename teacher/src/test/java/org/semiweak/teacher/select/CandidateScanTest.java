package org.semiweak.teacher.select;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.semiweak.data.ScoreSchema;

/**
 * The candidate scan that SelectTopK runs on gives every candidate the outcome the SQL definition
 * ({@link ClassCandidates}) gives it, including on what only files written by other tools hold:
 * null entries inside the arrays.
 */
class CandidateScanTest {
  static final int CLASSES = 5;

  /** ScoreSchema's columns, everything nullable: Parquet files written by other tools. */
  static final StructType NULLABLE_SCORES = new StructType()
      .add(ScoreSchema.IMAGE_ID, DataTypes.StringType, true)
      .add(ScoreSchema.CLASSES, DataTypes.createArrayType(DataTypes.IntegerType, true), true)
      .add(ScoreSchema.PROBS, DataTypes.createArrayType(DataTypes.FloatType, true), true)
      .add(ScoreSchema.TAG_CLASSES, DataTypes.createArrayType(DataTypes.IntegerType, true), true);

  static SparkSession spark;
  static Dataset<Row> scores;

  @BeforeAll
  static void start() {
    spark = LocalSpark.get();
    List<Row> rows = List.of(
        row("ok", List.of(0, 1, 2), List.of(0.6f, 0.3f, 0.1f), List.of(0, 2)),
        row("negative-zero", List.of(3, 4, 0), List.of(1f, -0.0f, 0f), List.of(3)),
        row("nan", List.of(1, 0, 2), List.of(Float.NaN, 0.2f, 0.05f), List.of(1)),
        row("null-class", Arrays.asList(2, null, 4), List.of(0.5f, 0.3f, 0.2f), List.of(2, 4)),
        row("two-null-classes", Arrays.asList(null, 1, null), List.of(0.5f, 0.3f, 0.2f), List.of(1)),
        row("null-prob", List.of(4, 3, 1), Arrays.asList(0.5f, null, 0.2f), List.of(4)),
        row("class-out-of-range", List.of(4, 7, -1), List.of(0.5f, 0.3f, 0.2f), List.of(4)),
        row("prob-out-of-range", List.of(0, 1, 2), List.of(1.5f, 0.3f, -0.2f), List.of(0)),
        row("null-in-tags", List.of(0, 1, 2), List.of(0.5f, 0.3f, 0.2f), Arrays.asList(null, 1)),
        row("null-tags", List.of(0, 1, 2), List.of(0.5f, 0.3f, 0.2f), null),
        row("null-classes", null, List.of(0.5f), List.of(0)),
        row("null-probs", List.of(0, 1, 2), null, List.of(0)),
        row("length-mismatch", List.of(0, 1, 2), List.of(0.5f, 0.3f), List.of(0)),
        row("too-few", List.of(0), List.of(0.9f), List.of(0)),
        row("duplicate", List.of(3, 3, 1), List.of(0.5f, 0.3f, 0.2f), List.of(3)),
        row("duplicate-past-p", List.of(1, 2, 4, 1), List.of(0.4f, 0.3f, 0.2f, 0.1f), List.of(1)),
        row(null, List.of(2, 1, 0), List.of(0.8f, 0.1f, 0.1f), List.of(2)));
    scores = spark.createDataFrame(rows, NULLABLE_SCORES).repartition(3);
  }

  static Row row(String id, List<Integer> classes, List<Float> probs, List<Integer> tags) {
    return RowFactory.create(id, classes, probs, tags);
  }

  static List<TopKOptions> options() {
    TopKOptions d = TopKOptions.defaults();
    return List.of(
        d.withK(2).withP(3),
        d.withK(2).withP(2).withMinScore(0.25),
        d.withK(2).withP(3).withTagConsistent(true),
        d.withK(2).withP(3).withMaxClassesPerImage(2).withTagConsistent(true).withMinScore(0.1));
  }

  @ParameterizedTest
  @MethodSource("options")
  void everyCandidateGetsTheOutcomeOfTheSqlDefinition(TopKOptions options) {
    ScoreBins bins = ScoreBins.forClasses(CLASSES);
    CandidateScan scan = CandidateScan.of(options, CLASSES, false);
    JavaRDD<CandidateScan.Counts> partitions = scan.rows(scores).toJavaRDD()
        .mapPartitions(p -> List.of(scan.count(p, bins)).iterator());
    // Through Java serialization, as task results travel: the sparse form must round-trip.
    CandidateScan.Counts counts = partitions.treeReduce(CandidateScan.Counts::merge, 2);

    Map<String, Long> fromScan = new TreeMap<>();
    for (int c = 0; c < CLASSES; c++) {
      long selectable = 0;
      for (int b = 0; b < bins.count(); b++) {
        selectable += counts.histogram(c, b);
      }
      put(fromScan, "selectable class " + c, selectable);
      put(fromScan, "NaN class " + c, counts.rejected(ClassCandidates.NAN_PROB, c));
      put(fromScan, "below min-score class " + c, counts.rejected(ClassCandidates.BELOW_MIN_SCORE, c));
      put(fromScan, "not in tags class " + c, counts.rejected(ClassCandidates.NOT_IN_TAGS, c));
    }
    for (int o = ClassCandidates.FIRST_INVALID; o <= CandidateScan.LAST_INVALID; o++) {
      put(fromScan, "invalid " + o, counts.invalid(o));
    }

    Map<String, Long> fromSql = new TreeMap<>();
    long images = 0;
    for (Row r : ClassCandidates.explode(scores, options, CLASSES, true, List.of()).collectAsList()) {
      int outcome = r.getInt(r.fieldIndex(ClassCandidates.OUTCOME));
      Object cls = r.get(r.fieldIndex(ClassCandidates.CLASS));
      String key = switch (outcome) {
        case ClassCandidates.SELECTABLE -> "selectable class " + cls;
        case ClassCandidates.NAN_PROB -> "NaN class " + cls;
        case ClassCandidates.BELOW_MIN_SCORE -> "below min-score class " + cls;
        case ClassCandidates.NOT_IN_TAGS -> "not in tags class " + cls;
        default -> "invalid " + outcome;
      };
      fromSql.merge(key, 1L, Long::sum);
      images += r.getBoolean(r.fieldIndex(ClassCandidates.FIRST)) ? 1 : 0;
    }
    assertThat(fromScan).as("outcome counts of the scan against the SQL definition, %s", options)
        .isEqualTo(fromSql);
    assertThat(counts.images).as("every row counted once").isEqualTo(images).isEqualTo(scores.count());
    assertThat(fromScan.keySet()).as("the rows above exercise every invalid outcome")
        .contains("invalid 10", "invalid 11", "invalid 12", "invalid 14", "invalid 15", "invalid 16");
  }

  @ParameterizedTest
  @MethodSource("options")
  void survivorsAreTheSelectableCandidatesAtOrAboveTheirClassThreshold(TopKOptions options) {
    float[] thresholds = {0.5f, 0.25f, 0f, 0.3f, 0.5f};
    TopKOptions valid = options.withMaxClassesPerImage(options.classesPerImage());
    Dataset<Row> validRows = scores.filter(col(ScoreSchema.IMAGE_ID).isin("ok", "negative-zero", "nan", "null-in-tags"));
    CandidateScan scan = CandidateScan.of(valid, CLASSES, true);
    List<String> survivors = new ArrayList<>();
    for (Row r : scan.rows(validRows).toJavaRDD().mapPartitions(p -> scan.survivors(p, thresholds)).collect()) {
      survivors.add(r.getString(0) + "/" + r.getInt(1) + "=" + r.getFloat(2));
    }
    List<String> expected = new ArrayList<>();
    for (Row r : ClassCandidates.explode(validRows, valid, CLASSES, false, List.of(ScoreSchema.IMAGE_ID))
        .filter(col(ClassCandidates.OUTCOME).equalTo(ClassCandidates.SELECTABLE)).collectAsList()) {
      int c = r.getInt(r.fieldIndex(ClassCandidates.CLASS));
      float score = r.getFloat(r.fieldIndex(ClassCandidates.SCORE));
      if (score >= thresholds[c]) {
        expected.add(r.getString(0) + "/" + c + "=" + score);
      }
    }
    assertThat(survivors).as("survivors (%s)", options).containsExactlyInAnyOrderElementsOf(expected);
    assertThat(survivors).as("-0.0 is emitted as 0.0").doesNotContain("negative-zero/4=-0.0");
  }

  @org.junit.jupiter.api.Test
  void countsSurviveBothOfSparksSerializersAndMerge() {
    // Spark copies an aggregation's zero value with spark.serializer (Kryo in the cluster
    // templates) and returns task results with Java serialization: both must keep every count.
    CandidateScan.Counts counts = new CandidateScan.Counts(CLASSES, 7);
    counts.images = 3;
    counts.histogram[4 * 7 + 6] = 11;
    counts.rejected[2 * CLASSES + 1] = 5;
    counts.invalid[2] = 2;
    org.apache.spark.SparkConf conf = new org.apache.spark.SparkConf();
    for (org.apache.spark.serializer.Serializer serializer : List.of(
        new org.apache.spark.serializer.KryoSerializer(conf), new org.apache.spark.serializer.JavaSerializer(conf))) {
      org.apache.spark.serializer.SerializerInstance instance = serializer.newInstance();
      scala.reflect.ClassTag<CandidateScan.Counts> tag = scala.reflect.ClassTag$.MODULE$.apply(CandidateScan.Counts.class);
      CandidateScan.Counts copy = instance.deserialize(instance.serialize(counts, tag), tag);
      CandidateScan.Counts merged = copy.merge(counts);
      String name = serializer.getClass().getSimpleName();
      assertThat(merged.images).as("images after %s", name).isEqualTo(6);
      assertThat(merged.histogram(4, 6)).as("histogram cell after %s", name).isEqualTo(22);
      assertThat(merged.rejected(ClassCandidates.NOT_IN_TAGS, 1)).as("rejections after %s", name).isEqualTo(10);
      assertThat(merged.invalid(ClassCandidates.FIRST_INVALID + 2)).as("invalid after %s", name).isEqualTo(4);
    }
  }

  private static void put(Map<String, Long> map, String key, long n) {
    if (n > 0) {
      map.put(key, n);
    }
  }
}
