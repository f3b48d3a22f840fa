package org.semiweak.testing.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;

/**
 * An HDFS namenode and datanode in this JVM (Hadoop's {@code MiniDFSCluster}) on 127.0.0.1, reachable
 * from other JVMs on this machine (Spark executors) at {@link #uri()}.
 *
 * <pre>{@code
 * try (MiniHdfs hdfs = MiniHdfs.start(tmp.resolve("hdfs"))) {
 *   spark.range(10).write().parquet(hdfs.uri() + "/t");
 * }
 * }</pre>
 */
public final class MiniHdfs implements AutoCloseable {
  private final MiniDFSCluster cluster;

  private MiniHdfs(MiniDFSCluster cluster) {
    this.cluster = cluster;
  }

  /**
   * Starts one namenode and one datanode storing under {@code baseDir}; ~10 s. Sets this JVM's
   * {@code org.apache.hadoop} loggers to WARN.
   */
  public static MiniHdfs start(Path baseDir) {
    // The namenode and datanode log every block operation at INFO into the test's output.
    Configurator.setLevel("org.apache.hadoop", Level.WARN);
    Configuration conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, baseDir.toAbsolutePath().toString());
    // Executors are other processes: bind and advertise loopback only.
    conf.set("dfs.namenode.rpc-bind-host", "127.0.0.1");
    conf.setBoolean("dfs.permissions.enabled", false);
    conf.setInt("dfs.replication", 1);
    try {
      MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf, baseDir.toAbsolutePath().toFile())
          .numDataNodes(1)
          .format(true)
          .build();
      cluster.waitActive();
      return new MiniHdfs(cluster);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start MiniDFSCluster under " + baseDir, e);
    }
  }

  /** {@code hdfs://127.0.0.1:PORT}, without a trailing slash. */
  public String uri() {
    return "hdfs://127.0.0.1:" + cluster.getNameNodePort();
  }

  public FileSystem fileSystem() throws IOException {
    return cluster.getFileSystem();
  }

  @Override
  public void close() {
    cluster.shutdown(true);
  }
}
