package org.semiweak.testing.cluster;

import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * A small Spark job that shows where its tasks ran: it writes rows tagged with the writing
 * executor's id to Parquet, reads them back and tags them again with the reading executor's id.
 * It depends on Spark and the JDK only, so a jar of this class alone can be submitted to a cluster.
 *
 * <p>As an application: {@code ClusterProbeJob <output-dir> <result-file> [rows] [partitions]}
 * writes the {@link Result} as a properties file on the driver's machine.
 */
public final class ClusterProbeJob {
  /** What the job wrote and read, and which executors ran its tasks. */
  public record Result(long rowsWritten, long rowsRead, Set<String> writerExecutors, Set<String> readerExecutors)
      implements Serializable {}

  static final StructType TAGGED = new StructType()
      .add("id", DataTypes.LongType, false)
      .add("executor_id", DataTypes.StringType, false)
      .add("partition", DataTypes.IntegerType, false);

  private ClusterProbeJob() {}

  /** Writes {@code rows} rows in {@code partitions} tasks to {@code outputDir} as Parquet and reads them back. */
  public static Result run(SparkSession spark, String outputDir, long rows, int partitions) {
    spark.sparkContext().setJobDescription("cluster probe: write " + rows + " rows in " + partitions + " tasks");
    Dataset<Row> written = spark.range(0, rows, 1, partitions).toDF("id")
        .mapPartitions(new TagWithExecutor(), Encoders.row(TAGGED));
    written.write().mode("overwrite").parquet(outputDir);

    // An open cost as large as a split puts each file in its own task, so reading spreads over executors too.
    String openCost = spark.conf().get("spark.sql.files.openCostInBytes");
    spark.conf().set("spark.sql.files.openCostInBytes", spark.conf().get("spark.sql.files.maxPartitionBytes"));
    spark.sparkContext().setJobDescription("cluster probe: read back " + outputDir);
    Dataset<Row> stored = spark.read().parquet(outputDir);
    List<Row> readTags;
    try {
      readTags = stored.mapPartitions(new TagWithExecutor(), Encoders.row(TAGGED))
          .groupBy("executor_id").count().collectAsList();
    } finally {
      spark.conf().set("spark.sql.files.openCostInBytes", openCost);
    }
    long rowsRead = 0;
    Set<String> readers = new TreeSet<>();
    for (Row r : readTags) {
      readers.add(r.getString(0));
      rowsRead += r.getLong(1);
    }
    Set<String> writers = new TreeSet<>();
    for (Row r : stored.select("executor_id").distinct().collectAsList()) {
      writers.add(r.getString(0));
    }
    return new Result(rows, rowsRead, writers, readers);
  }

  /** Replaces each row's executor id (and partition) with those of the task that processes it. */
  static final class TagWithExecutor implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      String executor = SparkEnv.get().executorId();
      int partition = TaskContext.getPartitionId();
      List<Row> out = new ArrayList<>();
      while (rows.hasNext()) {
        out.add(RowFactory.create(rows.next().getLong(0), executor, partition));
      }
      return out.iterator();
    }
  }

  /** {@code <output-dir> <result-file> [rows] [partitions]}. */
  public static void main(String[] args) throws IOException {
    if (args.length < 2) {
      System.err.println("usage: ClusterProbeJob <output-dir> <result-file> [rows] [partitions]");
      System.exit(2);
    }
    long rows = args.length > 2 ? Long.parseLong(args[2]) : 10_000;
    int partitions = args.length > 3 ? Integer.parseInt(args[3]) : 8;
    SparkSession spark = SparkSession.builder().appName("cluster-probe").getOrCreate();
    try {
      Result r = run(spark, args[0], rows, partitions);
      Properties p = new Properties();
      p.setProperty("rowsWritten", Long.toString(r.rowsWritten()));
      p.setProperty("rowsRead", Long.toString(r.rowsRead()));
      p.setProperty("writerExecutors", String.join(",", r.writerExecutors()));
      p.setProperty("readerExecutors", String.join(",", r.readerExecutors()));
      p.setProperty("master", spark.sparkContext().master());
      try (var out = Files.newBufferedWriter(Path.of(args[1]), StandardCharsets.UTF_8)) {
        p.store(out, "ClusterProbeJob result");
      }
    } finally {
      spark.stop();
    }
  }
}
