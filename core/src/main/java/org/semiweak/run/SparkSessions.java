package org.semiweak.run;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import scala.Tuple2;
import org.apache.spark.sql.SparkSession;

/** Creates or joins the Spark session: {@code spark-submit}'s master if set, else the embedded {@code local[*]}. */
public final class SparkSessions {
  private SparkSessions() {}

  /**
   * Spark's local mode runs a failed task only once unless the master says {@code local[N,F]};
   * semiweak's tasks are deterministic and idempotent, so a failed task is retried (up to 4
   * attempts) just like on a cluster, where {@code spark.task.maxFailures} applies.
   */
  static String withLocalRetries(String master) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("local\\[([0-9*]+)\\]").matcher(master.strip());
    return m.matches() ? "local[" + m.group(1) + ",4]" : master;
  }

  /**
   * @param master the master URL to use when none was set by spark-submit (e.g. {@code local[*]});
   *     null means {@code local[*]}
   */
  public static SparkSession getOrCreate(String appName, String master) {
    SparkConf conf = new SparkConf(true);
    if (!conf.contains("spark.master")) {
      conf.setMaster(withLocalRetries(master == null || master.isBlank() ? "local[*]" : master));
    }
    conf.setIfMissing("spark.app.name", appName);
    conf.setIfMissing("spark.ui.enabled", "false");
    conf.setIfMissing("spark.sql.shuffle.partitions", "8");
    conf.setIfMissing("spark.sql.parquet.compression.codec", "zstd");
    // Retry a failed task: training and scoring tasks are deterministic and idempotent.
    conf.setIfMissing("spark.task.maxFailures", "4");
    return SparkSession.builder().config(conf).getOrCreate();
  }

  /**
   * The Hadoop configuration of semiweak's own file access (run directory, config files): the
   * cluster's {@code core-site.xml} (as {@code new Configuration()}) plus every {@code
   * spark.hadoop.*} setting passed to {@code spark-submit} or set as a system property, which
   * Spark gives its own jobs. Without the latter, {@code --conf spark.hadoop.fs.s3a.endpoint=...}
   * would reach the Parquet readers and writers but not the manifests.
   */
  public static Configuration hadoopConfiguration() {
    Configuration conf = new Configuration();
    for (Tuple2<String, String> kv : new SparkConf(true).getAll()) {
      if (kv._1().startsWith("spark.hadoop.")) {
        conf.set(kv._1().substring("spark.hadoop.".length()), kv._2());
      }
    }
    return conf;
  }
}
