package org.semiweak.stage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.data.SelectionSchema;

/**
 * The check of a stage's Parquet input: every file's footer and columns, before any Spark job, with
 * messages that name the folder, the file, the column and the stage to rerun.
 */
class ParquetInputTest {
  @TempDir static Path tmp;
  static SparkSession spark;

  @BeforeAll
  static void start() {
    spark = SparkSession.builder().master("local[1]").appName("ParquetInputTest")
        .config("spark.ui.enabled", "false").getOrCreate();
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  static Dataset<Row> selection() {
    List<Row> rows = List.of(RowFactory.create("a", 0, "Coat", 0.9f, 1), RowFactory.create("b", 1, "Bag", 0.8f, 1),
        RowFactory.create("c", 1, "Bag", 0.7f, 2));
    return spark.createDataFrame(rows, SelectionSchema.SCHEMA);
  }

  static ParquetInput input(Path dir) {
    return new ParquetInput(new org.apache.hadoop.fs.Path(dir.toString()), SelectionSchema.SCHEMA, "SelectionSchema",
        org.semiweak.run.RunLayout.selection("semi-weak", "k2-p1"));
  }

  static Path write(String name, Dataset<Row> rows, int files) {
    Path dir = tmp.resolve(name);
    rows.repartition(files).write().parquet(dir.toUri().toString());
    return dir;
  }

  static List<Path> parts(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().toList();
    }
  }

  @Test
  void aWholeDatasetPassesAndIsReadWithItsSchema() {
    Path dir = write("good", selection().withColumn("extra", functions.lit("allowed")), 2);
    assertThat(input(dir).check(spark.sparkContext().hadoopConfiguration())).as("data files checked").isEqualTo(2);
    Dataset<Row> read = input(dir).read(spark);
    assertThat(read.schema().fieldNames()).as("read with the schema's columns")
        .containsExactly(SelectionSchema.SCHEMA.fieldNames());
    assertThat(read.count()).isEqualTo(3);
  }

  @Test
  void aTruncatedFileIsNamedWithTheStageToRerun() throws IOException {
    Path dir = write("truncated", selection(), 2);
    Path victim = parts(dir).get(1);
    try (FileChannel ch = FileChannel.open(victim, StandardOpenOption.WRITE)) {
      ch.truncate(Files.size(victim) - 3); // the end of the footer and its magic number are gone
    }
    Files.deleteIfExists(victim.resolveSibling("." + victim.getFileName() + ".crc"));

    assertThatThrownBy(() -> input(dir).read(spark))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(dir.getFileName() + " has a damaged file (2 files checked)")
        .hasMessageContaining(victim.getFileName() + " (" + Files.size(victim) + " bytes) is not a readable Parquet file")
        .hasMessageContaining("This SelectionSchema dataset, the committed output of the 'selection/semi-weak/k2-p1' stage")
        .hasMessageContaining("semiweak run CONFIG --from select");
  }

  @Test
  void everyMissingOrMistypedColumnIsListed() {
    Dataset<Row> bad = selection().drop(SelectionSchema.RANK)
        .withColumn(SelectionSchema.SCORE, functions.col(SelectionSchema.SCORE).cast("double"))
        .withColumn(SelectionSchema.CLASS_INDEX, functions.col(SelectionSchema.CLASS_INDEX).cast("string"));
    Path dir = write("columns", bad, 1);

    assertThatThrownBy(() -> input(dir).read(spark))
        .hasMessageContaining("has 3 problems (1 file checked)")
        .hasMessageContaining(": column 'class_index' has type string, expected int")
        .hasMessageContaining(": column 'score' has type double, expected float")
        .hasMessageContaining(": column 'rank' is missing (expected int)");
  }

  @Test
  void arrayElementsAreComparedButNotTheirNullability() {
    assertThat(ParquetInput.sameType(DataTypes.createArrayType(DataTypes.IntegerType, true),
        DataTypes.createArrayType(DataTypes.IntegerType, false))).as("array<int> with or without null elements").isTrue();
    assertThat(ParquetInput.sameType(DataTypes.createArrayType(DataTypes.LongType),
        DataTypes.createArrayType(DataTypes.IntegerType))).as("array<bigint> is not array<int>").isFalse();
  }

  @Test
  void aMissingOrEmptyFolderIsRefused() throws IOException {
    assertThatThrownBy(() -> input(tmp.resolve("nowhere")).check(spark.sparkContext().hadoopConfiguration()))
        .hasMessageContaining("nowhere does not exist").hasMessageContaining("--from select");
    Path empty = Files.createDirectories(tmp.resolve("only-markers"));
    Files.writeString(empty.resolve("_SUCCESS"), "");
    Files.writeString(empty.resolve("_MANIFEST.json"), "{}");
    assertThatThrownBy(() -> input(empty).check(spark.sparkContext().hadoopConfiguration()))
        .hasMessageContaining("only-markers holds no Parquet file");
  }
}
