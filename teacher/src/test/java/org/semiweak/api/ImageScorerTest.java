package org.semiweak.api;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.config.Options;
import org.semiweak.data.ImageSchema;
import org.semiweak.data.ScoreSchema;
import org.semiweak.data.SelectionSchema;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.run.RunLayout;
import org.semiweak.run.SparkSessions;
import org.semiweak.run.Split;
import org.semiweak.run.StageExecution;
import org.semiweak.run.StageManifest;
import org.semiweak.stage.PrepInfo;
import org.semiweak.stage.SelectionInput;
import org.semiweak.teacher.ImageScoring;
import org.semiweak.teacher.ScoreImages;
import org.semiweak.teacher.SelectPseudoLabels;
import org.semiweak.teacher.TrainTeacher;
import org.semiweak.testing.CommittedModels;
import org.semiweak.testing.PreparedRuns;

/**
 * The library API against the stages it stands for: {@link ImageScorer} gives, for the images of a
 * prepared run, the classes and probabilities the {@code score} stage committed, alone or inside a
 * Spark ML Pipeline; a wrong input fails at {@code transformSchema}, before any job; bad image bytes
 * keep their row and say why they have no scores, as NaN scores do with the reason the stage
 * records; and {@link Selections} selects exactly what the
 * {@code select} stage commits from the same scores.
 */
class ImageScorerTest {
  static final String TEACHER = "tiny";
  static final int PMAX = 3;

  @TempDir static Path tmp;
  static SparkSession spark;
  static PreparedRuns.Prepared prepared;
  static String modelPath;
  static ModelSpec tinySpec;
  static Dataset<Row> unlabeled;
  /** The score stage's committed rows, by image id. */
  static Map<String, Row> stageScores;

  @BeforeAll
  static void scoreWithTheStage() {
    spark = SparkSessions.getOrCreate("semiweak-teacher-test", "local[2]");
    prepared = PreparedRuns.commit(spark, tmp.resolve("run"), PreparedRuns.Spec.small());
    tinySpec = TrainTeacher.LABELED.modelSpec(
        Options.parse("train-teacher", TrainTeacher.OPTIONS, Map.of("widths", "8,16")), prepared.images());
    // An untrained model is a real one for scoring: random weights give images distinct probabilities.
    CommittedModels.commit(prepared.run(), RunLayout.teacher(TEACHER), tinySpec, ModelWeights.initial(tinySpec, 11));
    modelPath = prepared.run().stagePath(RunLayout.teacher(TEACHER)).toString();
    StageExecution.planAndRun(prepared.run(), spark, new ScoreImages(prepared.run(), Options.parse("score",
        ScoreImages.OPTIONS, Map.of("teacher", TEACHER, "pmax", String.valueOf(PMAX), "batch-size", "16",
            "partitions", "3"))));
    unlabeled = PrepInfo.read(prepared.run()).read(spark, Split.UNLABELED);
    stageScores = byId(spark.read().schema(ScoreSchema.SCHEMA)
        .parquet(prepared.run().stagePath(RunLayout.scores(TEACHER)).toString()).collectAsList());
  }

  static Map<String, Row> byId(List<Row> rows) {
    Map<String, Row> out = new HashMap<>();
    for (Row r : rows) {
      assertThat(out.put(r.getAs(ImageSchema.IMAGE_ID), r)).as("one row per image").isNull();
    }
    return out;
  }

  /** Each image's classes as the stage committed them (the first {@code p}), and probabilities within 1e-5. */
  static void assertSameScoresAsTheStage(List<Row> rows, int p) {
    assertThat(rows).as("a row per unlabeled image").hasSize(stageScores.size());
    for (Row r : rows) {
      String id = r.getAs(ImageSchema.IMAGE_ID);
      Row expected = stageScores.get(id);
      assertThat(expected).as("%s was scored by the stage", id).isNotNull();
      List<Integer> classes = r.getList(r.fieldIndex(ScoreSchema.CLASSES));
      List<Float> probs = r.getList(r.fieldIndex(ScoreSchema.PROBS));
      List<Integer> stageClasses = expected.getList(expected.fieldIndex(ScoreSchema.CLASSES));
      List<Float> stageProbs = expected.getList(expected.fieldIndex(ScoreSchema.PROBS));
      assertThat(classes).as("%s: the stage's top-%d classes, in its order", id, p)
          .isEqualTo(stageClasses.subList(0, p));
      assertThat(probs).as("%s: one probability per class", id).hasSize(p);
      for (int j = 0; j < p; j++) {
        assertThat(probs.get(j)).as("%s: probability of class %d", id, classes.get(j))
            .isCloseTo(stageProbs.get(j), within(1e-5f));
      }
    }
  }

  @Test
  void scoresEveryImageAsTheScoreStageDid() {
    // Another batch size and partitioning than the stage's: the scores do not depend on them.
    ImageScorer scorer = new ImageScorer().setModelPath(modelPath).setTopP(PMAX).setBatchSize(7);
    Dataset<Row> scored = scorer.transform(unlabeled.repartition(2));

    assertThat(scored.schema().fieldNames()).as("the input columns, then classes, probs and rejection")
        .containsExactly(concat(unlabeled.schema().fieldNames(), "classes", "probs", "rejection"));
    assertThat(scored.schema()).as("transform's schema is transformSchema's")
        .isEqualTo(scorer.transformSchema(unlabeled.schema()));
    List<Row> rows = scored.collectAsList();
    assertSameScoresAsTheStage(rows, PMAX);
    for (Row r : rows) {
      assertThat((String) r.getAs("rejection")).as("%s: a prepared image is scored", (Object) r.getAs("image_id"))
          .isNull();
      assertThat((byte[]) r.getAs(ImageSchema.IMAGE)).as("the input columns are kept").isNotEmpty();
    }
  }

  @Test
  void theModelIsLoadedIntoTheExecutorJvmOnceAndSharedByItsTasks() {
    ModelWeights weights = ModelWeights.initial(tinySpec, 12);
    CommittedModels.commit(prepared.run(), RunLayout.teacher("once"), tinySpec, weights);
    java.util.function.Supplier<org.semiweak.model.StageModel> noLoad = () -> {
      throw new IllegalStateException("the model is not in this JVM's cache");
    };
    assertThatThrownBy(() -> ImageScoring.openForTask(weights.fingerprint(), noLoad, 1).close())
        .as("before scoring, this (executor) JVM does not hold the model")
        .hasMessageContaining("not in this JVM's cache");

    List<Row> rows = new ImageScorer().setModelPath(prepared.run().stagePath(RunLayout.teacher("once")).toString())
        .transform(unlabeled.repartition(4)).collectAsList();
    assertThat(rows).as("four tasks scored every image").hasSize(stageScores.size());
    try (ImageScoring cached = ImageScoring.openForTask(weights.fingerprint(), noLoad, 1)) {
      assertThat(cached.loadedModelNow()).as("the tasks left the model in the JVM's cache, for the next ones")
          .isFalse();
    }
  }

  @Test
  void worksAsAStageOfASparkMlPipelineSavedAndLoadedAndCopiesWithItsParams() throws Exception {
    ImageScorer scorer = new ImageScorer().setModelPath(modelPath).setTopP(PMAX);
    SQLTransformer keepScored = new SQLTransformer().setStatement(
        "SELECT image_id, classes, probs FROM __THIS__ WHERE rejection IS NULL");
    Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {scorer, keepScored});

    StructType planned = pipeline.transformSchema(unlabeled.schema());
    assertThat(planned.fieldNames()).as("the pipeline's schema, checked before anything runs")
        .containsExactly("image_id", "classes", "probs");
    PipelineModel model = pipeline.fit(unlabeled);
    assertSameScoresAsTheStage(model.transform(unlabeled).collectAsList(), PMAX);
    String saved = tmp.resolve("pipeline-model").toString();
    model.write().save(saved);
    PipelineModel loaded = PipelineModel.load(saved);
    assertThat(((ImageScorer) loaded.stages()[0]).getModelPath()).as("a saved pipeline keeps the scorer's params")
        .isEqualTo(modelPath);
    assertSameScoresAsTheStage(loaded.transform(unlabeled).collectAsList(), PMAX);

    ImageScorer top2 = scorer.copy(ParamMap.empty().put(scorer.topP().w(2)));
    assertThat(top2.getTopP()).as("the copy has the extra param").isEqualTo(2);
    assertThat(top2.getModelPath()).as("and the original's other params").isEqualTo(modelPath);
    assertThat(top2.uid()).as("and its uid").isEqualTo(scorer.uid());
    assertThat(scorer.getTopP()).as("the original is unchanged").isEqualTo(PMAX);
    assertSameScoresAsTheStage(top2.transform(unlabeled).collectAsList(), 2);

    SQLTransformer idsOnly = new SQLTransformer().setStatement("SELECT image_id, label FROM __THIS__");
    assertThatThrownBy(() -> new Pipeline().setStages(new PipelineStage[] {idsOnly, scorer, keepScored})
        .transformSchema(unlabeled.schema()))
        .as("a pipeline whose scorer comes after the image column is dropped fails when planned")
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("input column 'image' (the encoded images (PNG or JPEG bytes), binary) is missing");
  }

  @Test
  void aWrongInputFailsAtTransformSchemaNamingTheColumnAndWhatWasExpected() {
    ImageScorer scorer = new ImageScorer().setModelPath(modelPath);
    StructType noImage = new StructType().add("image_id", DataTypes.StringType).add("pixels", DataTypes.BinaryType);
    assertThatThrownBy(() -> scorer.transformSchema(noImage))
        .as("no image column")
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("input column 'image' (the encoded images (PNG or JPEG bytes), binary) is missing")
        .hasMessageContaining("Input schema: struct<image_id:string,pixels:binary>");
    assertThat(scorer.copy(ParamMap.empty()).setInputCol("pixels").transformSchema(noImage).fieldNames())
        .as("the image column named by inputCol").contains("pixels", "classes", "probs", "rejection");

    StructType stringImage = new StructType().add("image_id", DataTypes.StringType).add("image", DataTypes.StringType);
    assertThatThrownBy(() -> scorer.transformSchema(stringImage))
        .as("an image column of strings")
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("input column 'image' (the encoded images (PNG or JPEG bytes)) has type string, "
            + "expected binary");

    StructType intIds = new StructType().add("image_id", DataTypes.IntegerType).add("image", DataTypes.BinaryType);
    assertThatThrownBy(() -> scorer.transformSchema(intIds))
        .as("ids that are not strings")
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("input column 'image_id' (the image ids) has type int, expected string");

    StructType alreadyScored = unlabeled.schema().add("probs", DataTypes.StringType);
    assertThatThrownBy(() -> scorer.transformSchema(alreadyScored))
        .as("an output column that exists")
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("output column 'probs' already exists");

    assertThatThrownBy(() -> new ImageScorer().transformSchema(unlabeled.schema()))
        .as("no model")
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("modelPath is not set");
    assertThatThrownBy(() -> new ImageScorer().setModelPath(tmp.resolve("no-such-model").toString())
        .transform(unlabeled))
        .as("a model folder that does not exist, at transform, before any job")
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ImageScorer.modelPath: " + tmp.resolve("no-such-model") + " does not exist");
  }

  @Test
  void badImageBytesKeepTheirRowWithNullScoresAndTheReasonNamingTheImage() {
    Row good = unlabeled.first();
    StructType schema = new StructType().add("image_id", DataTypes.StringType).add("image", DataTypes.BinaryType);
    List<Row> input = List.of(
        RowFactory.create("good", good.getAs(ImageSchema.IMAGE)),
        RowFactory.create("not-a-png", new byte[] {1, 2, 3, 4}),
        RowFactory.create("no-bytes", null));
    List<Row> rows = new ImageScorer().setModelPath(modelPath).setTopP(2)
        .transform(spark.createDataFrame(input, schema)).collectAsList();

    Map<String, Row> out = byId(rows);
    assertThat(out).as("no row is dropped").containsOnlyKeys("good", "not-a-png", "no-bytes");
    assertThat((String) out.get("good").getAs("rejection")).as("the good image is scored").isNull();
    assertThat(out.get("good").getList(out.get("good").fieldIndex("classes")))
        .as("the good image's classes are the stage's for it")
        .isEqualTo(stageScores.get(good.<String>getAs(ImageSchema.IMAGE_ID)).getList(1).subList(0, 2));
    for (String bad : List.of("not-a-png", "no-bytes")) {
      Row r = out.get(bad);
      assertThat(r.isNullAt(r.fieldIndex("classes"))).as("%s: no classes", bad).isTrue();
      assertThat(r.isNullAt(r.fieldIndex("probs"))).as("%s: no probabilities", bad).isTrue();
    }
    assertThat((String) out.get("not-a-png").getAs("rejection")).as("the reason names the image and the problem")
        .startsWith("not-a-png: ").contains("4 bytes are not a PNG or JPEG image");
    assertThat((String) out.get("no-bytes").getAs("rejection")).as("a null image")
        .startsWith("no-bytes: ").contains("no image bytes");

    // Without an id column an image is named by where it is.
    List<Row> anonymous = new ImageScorer().setModelPath(modelPath)
        .transform(spark.createDataFrame(List.of(RowFactory.create((Object) new byte[] {9})),
            new StructType().add("image", DataTypes.BinaryType)).coalesce(1)).collectAsList();
    assertThat((String) anonymous.get(0).getAs("rejection")).as("named by partition and position")
        .startsWith("row 0 of partition 0: ");
  }

  @Test
  void aModelThatGivesNaNKeepsEveryRowWithTheReasonTheScoreStageRecords() {
    // The untrained teacher with its last tensor NaN: every probability it gives is NaN.
    ModelWeights good = ModelWeights.initial(tinySpec, 11);
    ModelWeights.Builder nan = ModelWeights.builder();
    String last = good.names().get(good.names().size() - 1);
    for (String name : good.names()) {
      float[] values = good.values(name);
      if (name.equals(last)) {
        java.util.Arrays.fill(values, Float.NaN);
      }
      nan.add(name, good.shape(name), values);
    }
    CommittedModels.commit(prepared.run(), RunLayout.teacher("nan"), tinySpec, nan.build());
    StageManifest m = StageExecution.planAndRun(prepared.run(), spark, new ScoreImages(prepared.run(),
        Options.parse("score", ScoreImages.OPTIONS, Map.of("teacher", "nan", "max-non-finite", "1"))));
    assertThat(m.count("rejected.non-finite")).as("the stage leaves every image out as non-finite")
        .isEqualTo(stageScores.size());
    List<String> stageReasons = m.result(org.semiweak.run.result.ScoreResult.class).rejectedExamples();
    assertThat(stageReasons).as("the stage records reasons").isNotEmpty();

    List<Row> rows = new ImageScorer().setModelPath(prepared.run().stagePath(RunLayout.teacher("nan")).toString())
        .transform(unlabeled).collectAsList();
    assertThat(rows).as("the scorer keeps every row").hasSize(stageScores.size());
    List<String> reasons = new ArrayList<>();
    for (Row r : rows) {
      String id = r.getAs(ImageSchema.IMAGE_ID);
      assertThat(r.isNullAt(r.fieldIndex("classes"))).as("%s: no classes", id).isTrue();
      assertThat((String) r.getAs("rejection")).as("%s: the reason names the image", id)
          .isEqualTo(id + ImageScoring.NON_FINITE);
      reasons.add(r.getAs("rejection"));
    }
    assertThat(reasons).as("the stage's reasons, word for word").containsAll(stageReasons);
  }

  @Test
  void classNamesAreAddedForTheTopClassesWhenGiven() {
    List<String> names = prepared.vocabulary().classes();
    Dataset<Row> scored = new ImageScorer().setModelPath(modelPath).setTopP(PMAX).setClassNames(names)
        .transform(unlabeled);
    assertThat(scored.schema().fieldNames()).endsWith("classes", "probs", "class_names", "rejection");
    for (Row r : scored.limit(20).collectAsList()) {
      List<Integer> classes = r.getList(r.fieldIndex("classes"));
      assertThat(r.<String>getList(r.fieldIndex("class_names"))).as("the name of each class, in the same order")
          .isEqualTo(classes.stream().map(names::get).collect(Collectors.toList()));
    }
    assertThatThrownBy(() -> new ImageScorer().setModelPath(modelPath).setClassNames(names.subList(0, 7))
        .transform(unlabeled))
        .as("names that do not fit the model")
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("classNames has 7 names but the model " + modelPath + " predicts 10 classes");
  }

  @Test
  void selectionOverAnyScoresIsTheSelectStagesSelection() {
    int k = 20;
    int p = 2;
    StageManifest m = StageExecution.planAndRun(prepared.run(), spark, new SelectPseudoLabels(prepared.run(),
        Options.parse("select", SelectPseudoLabels.OPTIONS,
            Map.of("teacher", TEACHER, "name", "api-check", "k", String.valueOf(k), "p", String.valueOf(p)))));
    List<Row> committed = SelectionInput.require(prepared.run(), RunLayout.selection(TEACHER, "api-check"),
        RunLayout.prep()).read(spark).collectAsList();
    assertThat(committed).as("the stage selected %d images per class", k).hasSize((int) m.count("selected"))
        .hasSizeGreaterThan(k);

    List<String> names = prepared.vocabulary().classes();
    Dataset<Row> stageScores = spark.read().parquet(prepared.run().stagePath(RunLayout.scores(TEACHER)).toString());
    Dataset<Row> picks = Selections.topKPerClass(stageScores, names, k, p);
    try {
      assertThat(picks.schema()).as("the selection schema").isEqualTo(SelectionSchema.SCHEMA);
      assertThat(picks.collectAsList()).as("the same rows as the committed selection, ranks and scores included")
          .containsExactlyInAnyOrderElementsOf(committed);
    } finally {
      picks.unpersist();
    }

    // Scores made by the Transformer select the same images with the same ranks.
    Dataset<Row> scored = new ImageScorer().setModelPath(modelPath).setTopP(PMAX).transform(unlabeled)
        .filter(col("rejection").isNull());
    Dataset<Row> fromScorer = Selections.topKPerClass(scored, names, k, p);
    try {
      Map<String, Row> byPick = new LinkedHashMap<>();
      for (Row r : committed) {
        byPick.put(r.getAs(SelectionSchema.IMAGE_ID) + "/" + r.getAs(SelectionSchema.CLASS_INDEX), r);
      }
      List<Row> rows = fromScorer.collectAsList();
      assertThat(rows).as("as many picks").hasSameSizeAs(committed);
      List<String> missing = new ArrayList<>();
      for (Row r : rows) {
        Row c = byPick.get(r.getAs(SelectionSchema.IMAGE_ID) + "/" + r.getAs(SelectionSchema.CLASS_INDEX));
        if (c == null) {
          missing.add(r.toString());
          continue;
        }
        assertThat((Integer) r.getAs(SelectionSchema.RANK)).as("rank of %s", r).isEqualTo(c.getAs(SelectionSchema.RANK));
        assertThat((Float) r.getAs(SelectionSchema.SCORE)).as("score of %s", r)
            .isCloseTo(c.getAs(SelectionSchema.SCORE), within(1e-5f));
      }
      assertThat(missing).as("picks the stage did not make").isEmpty();
    } finally {
      fromScorer.unpersist();
    }
  }

  static String[] concat(String[] first, String... rest) {
    List<String> all = new ArrayList<>(List.of(first));
    all.addAll(List.of(rest));
    return all.toArray(String[]::new);
  }
}
