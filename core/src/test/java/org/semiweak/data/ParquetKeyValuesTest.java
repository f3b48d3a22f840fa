package org.semiweak.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Parquet files that Spark writes for semiweak carry the class names in their footer's key-value
 * metadata, where pyarrow ({@code pq.read_schema(f).metadata}) and DuckDB ({@code
 * parquet_kv_metadata}) find them, and the rows are Spark's usual Parquet.
 */
class ParquetKeyValuesTest {
  @TempDir static Path tmp;
  static SparkSession spark;

  @BeforeAll
  static void start() {
    spark = SparkSession.builder().master("local[1]").appName("ParquetKeyValuesTest")
        .config("spark.ui.enabled", "false").getOrCreate();
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  static Dataset<Row> selection() {
    List<Row> rows = List.of(RowFactory.create("a", 0, "T-shirt/top", 0.9f, 1), RowFactory.create("b", 1, "Bag", 0.8f, 1),
        RowFactory.create("c", 1, "Bag", 0.7f, 2), RowFactory.create("d", 2, "naïve \"${user.home}\", ok", 0.6f, 1));
    return spark.createDataFrame(rows, SelectionSchema.SCHEMA);
  }

  static List<Path> dataFiles(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.getFileName().toString().endsWith(".parquet")).sorted().toList();
    }
  }

  static org.apache.hadoop.fs.Path hadoop(Path p) {
    return new org.apache.hadoop.fs.Path(p.toUri());
  }

  @Test
  void everyFileWrittenWithClassNamesCarriesThemInItsFooter() throws IOException {
    List<String> names = List.of("T-shirt/top", "Bag", "naïve \"${user.home}\", ok");
    Path dir = tmp.resolve("named");
    ParquetKeyValues.saveWithClassNames(selection().repartition(2).write().mode(SaveMode.Overwrite), names,
        dir.toString());

    List<Path> files = dataFiles(dir);
    assertThat(files).as("two data files").hasSize(2);
    for (Path f : files) {
      Map<String, String> meta = ParquetKeyValues.read(hadoop(f), new Configuration());
      assertThat(meta).as("%s: the names, as a JSON array, under %s", f.getFileName(), ParquetKeyValues.CLASS_NAMES)
          .containsEntry(ParquetKeyValues.CLASS_NAMES, "[\"T-shirt/top\",\"Bag\",\"naïve \\\"${user.home}\\\", ok\"]");
      assertThat(meta).as("%s: still Spark's own metadata", f.getFileName())
          .containsKey("org.apache.spark.sql.parquet.row.metadata");
      assertThat(ParquetKeyValues.classNames(hadoop(f), new Configuration()))
          .as("%s: names read back verbatim (no ${...} expansion, quotes, commas, non-ASCII)", f.getFileName())
          .isEqualTo(names);
    }
    Dataset<Row> back = spark.read().parquet(dir.toString());
    assertThat(back.schema()).as("the columns are those written").isEqualTo(SelectionSchema.SCHEMA.asNullable());
    assertThat(back.exceptAll(selection()).isEmpty() && selection().exceptAll(back).isEmpty())
        .as("the rows are those written").isTrue();
  }

  @Test
  void aFileWrittenWithoutClassNamesHasNone() throws IOException {
    Path dir = tmp.resolve("plain");
    selection().coalesce(1).write().mode(SaveMode.Overwrite).parquet(dir.toString());
    assertThat(ParquetKeyValues.classNames(hadoop(dataFiles(dir).get(0)), new Configuration()))
        .as("plain Spark Parquet: no names").isNull();
  }

  @Test
  void aKeyThatSparkWouldLowerCaseIsRefused() {
    assertThatThrownBy(() -> ParquetKeyValues.save(selection().write(), Map.of("semiweak.ClassNames", "[]"),
        tmp.resolve("refused").toString()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Parquet metadata key 'semiweak.ClassNames'");
  }
}
