package org.semiweak.data;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.spark.sql.DataFrameWriter;
import org.semiweak.util.Json;

/**
 * Key-value metadata in the footer of the Parquet files semiweak writes: what describes a whole
 * file rather than each row, such as the names of the classes whose indexes the rows hold.
 *
 * <p>Scores and selections carry {@link #CLASS_NAMES}, the run's vocabulary as a JSON array in
 * class-index order, so that a reader outside semiweak needs no other file:
 *
 * <pre>{@code
 * # Python, pyarrow
 * names = json.loads(pq.read_schema(file).metadata[b"semiweak.class_names"])
 * -- DuckDB
 * SELECT value FROM parquet_kv_metadata('part-*.parquet') WHERE key = 'semiweak.class_names';
 * }</pre>
 *
 * <p>Spark's Parquet writer has no option for such metadata; {@link #saveWithClassNames} writes through
 * {@link KeyValueParquetFormat}, Spark's own Parquet format with this one addition.
 */
public final class ParquetKeyValues {
  /** The footer key of the class names: a JSON array of strings, the name of class i at index i. */
  public static final String CLASS_NAMES = "semiweak.class_names";

  /**
   * Write options with this prefix become footer key-value pairs (Spark passes data source options
   * to the writer in lower case, so keys are lower case too).
   */
  static final String OPTION_PREFIX = "semiweak.parquet.kv.";

  private static final Pattern KEY = Pattern.compile("[a-z0-9][a-z0-9._-]*");

  private ParquetKeyValues() {}

  /**
   * Writes Parquet to {@code path} as {@code writer.parquet(path)} does (with the writer's mode and
   * options), every file carrying {@code classNames} under {@link #CLASS_NAMES}.
   */
  public static void saveWithClassNames(DataFrameWriter<?> writer, List<String> classNames, String path) {
    save(writer, Map.of(CLASS_NAMES, classNamesJson(classNames)), path);
  }

  /** The value of {@link #CLASS_NAMES}: a compact JSON array of the names. */
  public static String classNamesJson(List<String> classNames) {
    try {
      return Json.MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(List.copyOf(classNames));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Writes Parquet to {@code path} as {@code writer.parquet(path)} does, every file carrying {@code
   * keyValues} in its footer. (Not a writer to finish: {@code parquet(path)} would set the format
   * back to Spark's plain one.)
   */
  public static void save(DataFrameWriter<?> writer, Map<String, String> keyValues, String path) {
    writer.format(KeyValueParquetFormat.class.getName());
    keyValues.forEach((k, v) -> {
      if (!KEY.matcher(k).matches()) {
        throw new IllegalArgumentException("Parquet metadata key '" + k + "': use lower-case letters, digits, '.', '_'"
            + " and '-'");
      }
      writer.option(OPTION_PREFIX + k, v);
    });
    writer.save(path);
  }

  /** The footer key-value metadata of one Parquet file. */
  public static Map<String, String> read(Path file, Configuration conf) {
    try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(file, conf))) {
      return Map.copyOf(reader.getFooter().getFileMetaData().getKeyValueMetaData());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the Parquet footer of " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The class names in the footer of one Parquet file, or null when it has none (written before
   * class names were).
   *
   * @throws IllegalStateException naming the file when the value is not a JSON array of strings
   */
  public static List<String> classNames(Path file, Configuration conf) {
    String json = read(file, conf).get(CLASS_NAMES);
    if (json == null) {
      return null;
    }
    try {
      return List.copyOf(Json.MAPPER.readValue(json, new TypeReference<List<String>>() {}));
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException(file + ": the Parquet metadata '" + CLASS_NAMES
          + "' is not a JSON array of class names: " + e.getMessage(), e);
    }
  }
}
