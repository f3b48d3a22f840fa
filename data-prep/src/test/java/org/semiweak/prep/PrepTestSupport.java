package org.semiweak.prep;

import org.semiweak.run.StageExecution;
import java.io.DataInputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.spark.sql.SparkSession;
import org.semiweak.config.Options;
import org.semiweak.run.RunDir;
import org.semiweak.run.StageManifest;

/** Shared fixtures of the data-prep tests: one local Spark session, runs, Parquet read back without Spark. */
final class PrepTestSupport {
  private static SparkSession spark;

  private PrepTestSupport() {}

  static synchronized SparkSession spark() {
    if (spark == null) {
      spark = SparkSession.builder()
          .master("local[2]")
          .appName("data-prep tests")
          .config("spark.ui.enabled", "false")
          .config("spark.sql.shuffle.partitions", "4")
          .config("spark.sql.parquet.compression.codec", "zstd")
          // The serializer deploy/conf's cluster templates set: every source must ship its work
          // units through it (Kryo cannot serialize Java records; the YARN test found IdxSource's).
          .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
          .getOrCreate();
      spark.sparkContext().setLogLevel("WARN");
      // data-prep's own progress and summary lines stay visible in the test output.
      org.apache.logging.log4j.core.config.Configurator.setLevel("org.semiweak", org.apache.logging.log4j.Level.INFO);
    }
    return spark;
  }

  static RunDir newRun(java.nio.file.Path dir) {
    return RunDir.open(dir.resolve("run").toUri().toString(), new Configuration());
  }

  static PrepareImages stage(RunDir run, Map<String, ?> raw) {
    return new PrepareImages(run, Options.parse("prep", PrepareImages.OPTIONS, raw));
  }

  static StageManifest prep(RunDir run, Map<String, ?> raw) {
    PrepareImages p = stage(run, raw);
    return StageExecution.planAndRun(run, spark(), p);
  }

  /** CPU seconds used by this JVM so far (all threads): a load-independent cost measure. */
  static double processCpuSeconds() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime() / 1e9;
  }

  static String fashionMnistDir() {
    String dir = System.getProperty("semiweak.fashionMnistDir", "/usr/share/datasets/fashion-mnist");
    if (!new File(dir, "train-images-idx3-ubyte.gz").isFile()) {
      throw new IllegalStateException("Fashion-MNIST is not at " + dir + ": apt-get install dataset-fashion-mnist");
    }
    return dir;
  }

  /** The images (28x28 bytes each) and labels of one IDX pair, read directly (not through data-prep). */
  record Idx(byte[][] images, int[] labels) {}

  private static final Map<String, Idx> LOADED = new java.util.concurrent.ConcurrentHashMap<>();

  static Idx loadIdx(String dir, String prefix) {
    return LOADED.computeIfAbsent(dir + "/" + prefix, k -> {
      try (DataInputStream img = new DataInputStream(new GZIPInputStream(new FileInputStream(new File(dir, prefix + "-images-idx3-ubyte.gz"))));
          DataInputStream lbl = new DataInputStream(new GZIPInputStream(new FileInputStream(new File(dir, prefix + "-labels-idx1-ubyte.gz"))))) {
        img.readInt();
        int n = img.readInt();
        int rows = img.readInt();
        int cols = img.readInt();
        lbl.readInt();
        lbl.readInt();
        byte[][] images = new byte[n][rows * cols];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
          img.readFully(images[i]);
          labels[i] = lbl.readUnsignedByte();
        }
        return new Idx(images, labels);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  /** The Parquet part files of a dataset folder, in name order. */
  static List<Path> parts(Path dir) {
    File[] files = new File(dir.toUri()).listFiles((d, n) -> n.startsWith("part-") && n.endsWith(".parquet"));
    if (files == null) {
      throw new IllegalStateException("no folder " + dir);
    }
    Arrays.sort(files, Comparator.comparing(File::getName));
    List<Path> out = new ArrayList<>();
    for (File f : files) {
      out.add(new Path(f.toURI()));
    }
    return out;
  }

  /** The Parquet schema stored in a file's footer, read with parquet-hadoop. */
  static MessageType parquetSchema(Path file) {
    try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(file, new Configuration()))) {
      return r.getFooter().getFileMetaData().getSchema();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** All records of a dataset folder, read with parquet-hadoop's example Group API (no Spark). */
  static List<Group> readGroups(Path dir, String... onlyColumns) {
    List<Group> out = new ArrayList<>();
    for (Path part : parts(dir)) {
      Configuration conf = new Configuration();
      if (onlyColumns.length > 0) {
        // Read only some columns (a projection): the images are the bulk of the bytes.
        MessageType full = parquetSchema(part);
        List<org.apache.parquet.schema.Type> fields = new ArrayList<>();
        for (String c : onlyColumns) {
          fields.add(full.getType(c));
        }
        conf.set(org.apache.parquet.hadoop.api.ReadSupport.PARQUET_READ_SCHEMA, new MessageType(full.getName(), fields).toString());
      }
      try (ParquetReader<Group> r = ParquetReader.builder(new GroupReadSupport(), part).withConf(conf).build()) {
        Group g;
        while ((g = r.read()) != null) {
          out.add(g);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return out;
  }

  /** The elements of a Spark-written list column (3-level LIST: group list { element }). */
  static List<String> stringList(Group g, String field) {
    List<String> out = new ArrayList<>();
    if (g.getFieldRepetitionCount(field) == 0) {
      return out;
    }
    Group list = g.getGroup(field, 0);
    int n = list.getFieldRepetitionCount(0);
    for (int i = 0; i < n; i++) {
      Group element = list.getGroup(0, i);
      out.add(element.getValueToString(0, 0));
    }
    return out;
  }

  /** A new folder {@code name} under a test's {@code @TempDir}. */
  static java.nio.file.Path tempDir(java.nio.file.Path scratch, String name) {
    try {
      return Files.createDirectories(scratch.resolve(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
