package org.semiweak.teacher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.semiweak.teacher.TeacherFixtures.raw;
import static org.semiweak.teacher.TeacherFixtures.scoreOptions;
import static org.semiweak.teacher.TeacherFixtures.teacherOptions;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.FileStatus;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.config.Options;
import org.semiweak.data.ImageSchema;
import org.semiweak.data.ParquetKeyValues;
import org.semiweak.data.SelectionSchema;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.run.RunLayout;
import org.semiweak.run.Split;
import org.semiweak.run.StageExecution;
import org.semiweak.run.StageId;
import org.semiweak.run.StageManifest;
import org.semiweak.run.result.SelectionResult;
import org.semiweak.stage.PrepInfo;
import org.semiweak.stage.SelectionInput;
import org.semiweak.testing.CommittedModels;
import org.semiweak.testing.PreparedRuns;

/**
 * Scores and selections name their classes for readers outside semiweak: every file carries the
 * vocabulary in its Parquet footer ({@code semiweak.class_names}), a selection's rows carry {@code
 * class_index} and {@code class_name}, and no column is named by a Python keyword.
 */
class ClassNamesTest {
  static final String TEACHER = "named";
  /** Python's keywords: a column named by one cannot be read as {@code row.name} or {@code df.name}. */
  static final Set<String> PYTHON_KEYWORDS = Set.of("False", "None", "True", "and", "as", "assert", "async", "await",
      "break", "class", "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if",
      "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with",
      "yield");

  @TempDir static Path tmp;
  static SparkSession spark;
  static PreparedRuns.Prepared prepared;
  static List<String> classNames;

  @BeforeAll
  static void prepare() {
    spark = TeacherFixtures.spark();
    prepared = PreparedRuns.commit(spark, tmp.resolve("run"), PreparedRuns.Spec.small());
    classNames = prepared.vocabulary().classes();
    ModelSpec spec = TrainTeacher.LABELED.modelSpec(teacherOptions("widths", "8,16"), prepared.images());
    CommittedModels.commit(prepared.run(), RunLayout.teacher(TEACHER), spec, ModelWeights.initial(spec, 3));
    StageExecution.planAndRun(prepared.run(), spark, new ScoreImages(prepared.run(),
        scoreOptions("teacher", TEACHER, "pmax", "3", "partitions", "2")));
  }

  static List<org.apache.hadoop.fs.Path> dataFiles(StageId stage) throws IOException {
    List<org.apache.hadoop.fs.Path> out = new ArrayList<>();
    for (FileStatus f : prepared.run().fs().listStatus(prepared.run().stagePath(stage))) {
      String name = f.getPath().getName();
      if (!name.startsWith("_") && !name.startsWith(".")) {
        out.add(f.getPath());
      }
    }
    return out;
  }

  static void assertFootersName(StageId stage) throws IOException {
    List<org.apache.hadoop.fs.Path> files = dataFiles(stage);
    assertThat(files).as("%s has data files", stage).isNotEmpty();
    for (org.apache.hadoop.fs.Path f : files) {
      assertThat(ParquetKeyValues.classNames(f, spark.sparkContext().hadoopConfiguration()))
          .as("%s/%s: the vocabulary's class names, in index order, in the footer", stage, f.getName())
          .isEqualTo(classNames);
    }
  }

  static void assertPythonIdentifiers(String[] columns, String what) {
    for (String c : columns) {
      assertThat(c).as("%s column '%s' is a plain identifier", what, c).matches("[a-z_][a-z0-9_]*");
      assertThat(PYTHON_KEYWORDS).as("%s column '%s' is no Python keyword", what, c).doesNotContain(c);
    }
  }

  @Test
  void everyScoresFileCarriesTheClassNamesInItsFooter() throws IOException {
    assertFootersName(RunLayout.scores(TEACHER));
    assertPythonIdentifiers(spark.read().parquet(prepared.run().stagePath(RunLayout.scores(TEACHER)).toString())
        .columns(), "scores");
  }

  @Test
  void aNewSelectionHasClassIndexAndClassNameAndTheNamesInItsFooter() throws IOException {
    Options options = Options.parse("select", SelectPseudoLabels.OPTIONS, raw("teacher", TEACHER, "k", "5", "p", "2"));
    StageManifest m = StageExecution.planAndRun(prepared.run(), spark, new SelectPseudoLabels(prepared.run(), options));
    StageId stage = m.id();
    SelectionResult result = m.result(SelectionResult.class);
    assertThat(result.schemaVersion()).as("the manifest says the layout").isEqualTo(SelectionSchema.VERSION);

    List<Row> rows = spark.read().parquet(prepared.run().stagePath(stage).toString()).collectAsList();
    assertThat(spark.read().parquet(prepared.run().stagePath(stage).toString()).columns())
        .as("the columns as written").containsExactly("image_id", "class_index", "class_name", "score", "rank");
    assertThat(rows).as("something was selected").isNotEmpty();
    Map<String, Integer> labels = new HashMap<>();
    for (Row r : PrepInfo.read(prepared.run()).read(spark, Split.UNLABELED).collectAsList()) {
      labels.put(r.getAs(ImageSchema.IMAGE_ID), r.getAs(ImageSchema.LABEL));
    }
    long correct = 0;
    for (Row r : rows) {
      int c = r.getAs(SelectionSchema.CLASS_INDEX);
      assertThat((String) r.getAs(SelectionSchema.CLASS_NAME)).as("row %s: the vocabulary's name of class %d", r, c)
          .isEqualTo(classNames.get(c));
      correct += labels.get((String) r.getAs(SelectionSchema.IMAGE_ID)) == c ? 1 : 0;
    }
    assertThat(result.precision()).as("precision compares class_index with the true label")
        .isEqualTo((double) correct / rows.size());
    assertFootersName(stage);
    assertThat(SelectionInput.require(prepared.run(), stage, RunLayout.scores(TEACHER)).read(spark).collectAsList())
        .as("the reader of later stages reads it as written").containsExactlyInAnyOrderElementsOf(rows);
  }
}
