package org.semiweak.stage;

import org.semiweak.run.StageId;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.datasources.parquet.ParquetToSparkSchemaConverter;
import org.apache.spark.sql.internal.SQLConf;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * A committed Parquet dataset that a stage reads (image shards, scores, a selection), checked
 * before the stage starts its work.
 *
 * <p>{@link #check} opens the footer of every data file of the folder (in parallel, no Spark job):
 * a truncated or corrupt file, or a file whose columns are missing or of another type than the
 * schema says, fails at once with a message naming the file, the column, and the stage to run
 * again. Without it, Spark reports a truncated file only when a task reaches it, and reads a
 * missing column as nulls.
 *
 * <pre>{@code
 * StageId stage = RunLayout.scores("semi-weak");
 * ParquetInput scores = new ParquetInput(run.dataPath(stage), ScoreSchema.SCHEMA, "ScoreSchema", stage);
 * Dataset<Row> df = scores.read(spark);   // checks every file first
 * }</pre>
 */
public final class ParquetInput {
  /** Files whose footers are read at once (they are small reads; on HDFS or S3 latency dominates). */
  private static final int FOOTER_THREADS = 16;
  /** Problems listed in a message; the rest are counted. */
  private static final int MAX_LISTED = 5;

  private final Path dir;
  private final StructType schema;
  private final String schemaName;
  private final StageId producer;

  /**
   * @param dir the dataset folder
   * @param schema the columns the dataset must have (extra columns are allowed; nullability is not checked)
   * @param schemaName the schema's name in messages, e.g. {@code ImageSchema}
   * @param producer the stage that wrote the dataset: what to rerun
   */
  public ParquetInput(Path dir, StructType schema, String schemaName, StageId producer) {
    this.dir = dir;
    this.schema = schema;
    this.schemaName = schemaName;
    this.producer = producer;
  }

  public Path dir() {
    return dir;
  }

  /** Checks every file of the dataset, then returns it read with the schema. */
  public Dataset<Row> read(SparkSession spark) {
    check(spark.sparkContext().hadoopConfiguration());
    return spark.read().schema(schema).parquet(dir.toString());
  }

  /** The number of data files (names not starting with '_' or '.'), from a listing of the folder. */
  public int fileCount(Configuration conf) {
    return dataFiles(conf).size();
  }

  /**
   * Opens the footer of every data file (names not starting with '_' or '.') and compares its
   * columns with the schema; throws {@link IllegalStateException} listing what is wrong.
   *
   * @return the number of data files checked
   */
  public int check(Configuration conf) {
    List<FileStatus> files = dataFiles(conf);
    if (files.isEmpty()) {
      throw damaged("holds no Parquet file");
    }
    ParquetToSparkSchemaConverter converter = new ParquetToSparkSchemaConverter(SQLConf.get());
    List<String> problems = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(FOOTER_THREADS, files.size()), r -> {
      Thread t = new Thread(r, "parquet-footer-check");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<List<String>>> checks = new ArrayList<>();
      for (FileStatus f : files) {
        checks.add(pool.submit(() -> checkFile(f, conf, converter)));
      }
      for (Future<List<String>> c : checks) {
        problems.addAll(c.get());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while checking " + dir, e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot check " + dir + ": " + e.getCause(), e.getCause());
    } finally {
      pool.shutdownNow();
    }
    if (!problems.isEmpty()) {
      StringBuilder sb = new StringBuilder();
      sb.append(problems.size() == 1 ? "has a damaged file" : "has " + problems.size() + " problems")
          .append(" (").append(files.size()).append(files.size() == 1 ? " file" : " files").append(" checked):");
      problems.stream().limit(MAX_LISTED).forEach(p -> sb.append("\n  ").append(p));
      if (problems.size() > MAX_LISTED) {
        sb.append("\n  ... and ").append(problems.size() - MAX_LISTED).append(" more");
      }
      throw damaged(sb.toString());
    }
    return files.size();
  }

  private List<FileStatus> dataFiles(Configuration conf) {
    try {
      FileSystem fs = dir.getFileSystem(conf);
      List<FileStatus> files = new ArrayList<>();
      for (FileStatus st : fs.listStatus(dir)) {
        String name = st.getPath().getName();
        if (st.isFile() && !name.startsWith("_") && !name.startsWith(".")) {
          files.add(st);
        }
      }
      files.sort((a, b) -> a.getPath().getName().compareTo(b.getPath().getName()));
      return files;
    } catch (FileNotFoundException e) {
      throw damaged("does not exist");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
    }
  }

  private List<String> checkFile(FileStatus file, Configuration conf, ParquetToSparkSchemaConverter converter) {
    String name = file.getPath().getName();
    MessageType parquet;
    try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromStatus(file, conf))) {
      parquet = reader.getFooter().getFileMetaData().getSchema();
    } catch (IOException | RuntimeException e) {
      return List.of(name + " (" + file.getLen() + " bytes) is not a readable Parquet file, truncated or corrupt: "
          + e.getMessage());
    }
    StructType found;
    try {
      found = converter.convert(parquet);
    } catch (RuntimeException e) {
      return List.of(name + ": its Parquet schema has types Spark cannot read: " + e.getMessage());
    }
    List<String> problems = new ArrayList<>();
    for (StructField expected : schema.fields()) {
      StructField f = field(found, expected.name());
      if (f == null) {
        problems.add(String.format(Locale.ROOT, "%s: column '%s' is missing (expected %s)", name, expected.name(),
            expected.dataType().simpleString()));
      } else if (!sameType(f.dataType(), expected.dataType())) {
        problems.add(String.format(Locale.ROOT, "%s: column '%s' has type %s, expected %s", name, expected.name(),
            f.dataType().simpleString(), expected.dataType().simpleString()));
      }
    }
    return problems;
  }

  private static StructField field(StructType t, String name) {
    for (StructField f : t.fields()) {
      if (f.name().equals(name)) {
        return f;
      }
    }
    return null;
  }

  /** Equal types, ignoring nullability of array elements. */
  static boolean sameType(DataType found, DataType expected) {
    if (found instanceof ArrayType fa && expected instanceof ArrayType ea) {
      return sameType(fa.elementType(), ea.elementType());
    }
    return found.equals(expected);
  }

  private static final java.util.regex.Pattern FAILED_READ =
      java.util.regex.Pattern.compile("Encountered error while reading file (\\S+?)\\.?(\\s|$)");

  /**
   * The file a Spark job failed to read, when {@code failure} is Spark's {@code FAILED_READ_FILE}
   * error (a file that passed {@link #check} but is damaged inside, or changed since).
   */
  public static java.util.Optional<String> unreadableFile(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof org.apache.spark.SparkThrowable st && st.getCondition() != null
          && st.getCondition().startsWith("FAILED_READ_FILE")) {
        String path = st.getMessageParameters().get("path");
        if (path != null) {
          return java.util.Optional.of(path.replaceAll("^`|`$", ""));
        }
      }
      java.util.regex.Matcher m = FAILED_READ.matcher(String.valueOf(t.getMessage()));
      if (m.find()) {
        return java.util.Optional.of(m.group(1));
      }
    }
    return java.util.Optional.empty();
  }

  /** The first line of the innermost cause's message: what went wrong, without Spark's wrapping. */
  public static String rootCause(Throwable failure) {
    Throwable t = failure;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String msg = String.valueOf(t.getMessage());
    int nl = msg.indexOf('\n');
    return nl < 0 ? msg : msg.substring(0, nl);
  }

  private IllegalStateException damaged(String what) {
    return new IllegalStateException(dir + " " + what + "\nThis " + schemaName + " dataset, the committed output of the '"
        + producer + "' stage, is damaged or was not written by this semiweak. Run that stage again: "
        + "semiweak run CONFIG --from " + producer.kind().command() + " (or semiweak " + producer.kind().command()
        + " ... --force).");
  }
}
