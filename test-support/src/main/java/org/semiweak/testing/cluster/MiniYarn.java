package org.semiweak.testing.cluster;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.yarn.api.records.ApplicationReport;
import org.apache.hadoop.yarn.client.api.YarnClient;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.exceptions.YarnException;
import org.apache.hadoop.yarn.server.MiniYARNCluster;
import org.apache.hadoop.yarn.server.resourcemanager.ResourceManager;

/**
 * A YARN ResourceManager and one NodeManager in this JVM (Hadoop's {@code MiniYARNCluster}) on
 * 127.0.0.1, whose containers are real processes launched by the NodeManager. {@link #writeClientConf}
 * writes the {@code HADOOP_CONF_DIR} a {@code spark-submit --master yarn} reads.
 *
 * <pre>{@code
 * try (MiniHdfs hdfs = MiniHdfs.start(tmp.resolve("hdfs"));
 *     MiniYarn yarn = MiniYarn.start(hdfs.uri(), 6144)) {
 *   Path confDir = yarn.writeClientConf(tmp.resolve("hadoop-conf"));
 *   ... spark-submit with HADOOP_CONF_DIR=confDir ...
 *   ApplicationReport app = yarn.application("my-app").orElseThrow();
 * }
 * }</pre>
 */
public final class MiniYarn implements AutoCloseable {
  private final MiniYARNCluster cluster;
  private final Configuration clientConf;
  private final YarnClient client;

  private MiniYarn(MiniYARNCluster cluster, Configuration clientConf, YarnClient client) {
    this.cluster = cluster;
    this.clientConf = clientConf;
    this.client = client;
  }

  /**
   * Starts a ResourceManager and a NodeManager offering {@code nodeMemoryMb} of memory and 2 vcores,
   * with {@code defaultFs} (an {@code hdfs://} URI) as the default file system; ~10 s. The
   * NodeManager keeps its container folders and logs under {@code target/semiweak-yarn} of the
   * working directory (MiniYARNCluster's choice).
   */
  public static MiniYarn start(String defaultFs, int nodeMemoryMb) {
    YarnConfiguration conf = new YarnConfiguration();
    conf.set("fs.defaultFS", defaultFs);
    conf.set(YarnConfiguration.RM_HOSTNAME, "127.0.0.1");
    conf.setInt(YarnConfiguration.NM_PMEM_MB, nodeMemoryMb);
    conf.setInt(YarnConfiguration.NM_VCORES, 2);
    conf.setInt(YarnConfiguration.RM_SCHEDULER_MINIMUM_ALLOCATION_MB, 128);
    conf.setInt(YarnConfiguration.RM_SCHEDULER_MAXIMUM_ALLOCATION_MB, nodeMemoryMb);
    // A test machine's disks are often fuller than the 90% at which a NodeManager calls itself unhealthy.
    conf.setFloat(YarnConfiguration.NM_MAX_PER_DISK_UTILIZATION_PERCENTAGE, 100.0f);
    // libtorch reserves far more virtual memory than it uses; a real cluster sets its own limits.
    conf.setBoolean(YarnConfiguration.NM_VMEM_CHECK_ENABLED, false);
    conf.setBoolean(YarnConfiguration.NM_PMEM_CHECK_ENABLED, false);
    // The capacity scheduler (YARN's default) with the one queue "default", as a real cluster's
    // capacity-scheduler.xml declares it (the shaded minicluster jar ships none); it gives
    // ApplicationMasters 10% of the queue by default, too little for one here.
    conf.set("yarn.scheduler.capacity.root.queues", "default");
    conf.set("yarn.scheduler.capacity.root.default.capacity", "100");
    conf.set("yarn.scheduler.capacity.root.default.maximum-capacity", "100");
    conf.setFloat("yarn.scheduler.capacity.maximum-am-resource-percent", 1.0f);
    // Keep finished applications' containers' logs where the test can read them.
    conf.setInt(YarnConfiguration.DEBUG_NM_DELETE_DELAY_SEC, 600);
    MiniYARNCluster cluster = new MiniYARNCluster("semiweak-yarn", 1, 1, 1);
    cluster.init(conf);
    cluster.start();
    try {
      if (!cluster.waitForNodeManagersToConnect(60_000)) {
        throw new IllegalStateException("the MiniYARNCluster's NodeManager did not register within 60 s");
      }
    } catch (YarnException | InterruptedException | RuntimeException e) {
      cluster.stop();
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw e instanceof RuntimeException r ? r : new IllegalStateException("cannot start the MiniYARNCluster", e);
    }
    // The cluster's configuration may still name the ports it asked for when start() returns (and
    // "localhost"): take the addresses the ResourceManager's services are bound to.
    Configuration clientConf = new Configuration(cluster.getConfig());
    ResourceManager rm = cluster.getResourceManager();
    clientConf.set(YarnConfiguration.RM_ADDRESS, "127.0.0.1:" + rm.getClientRMService().getBindAddress().getPort());
    clientConf.set(YarnConfiguration.RM_SCHEDULER_ADDRESS,
        "127.0.0.1:" + rm.getApplicationMasterService().getBindAddress().getPort());
    YarnClient client = YarnClient.createYarnClient();
    client.init(clientConf);
    client.start();
    return new MiniYarn(cluster, clientConf, client);
  }

  /** The configuration clients use: the ResourceManager's addresses (with their ports) and the default FS. */
  public Configuration config() {
    return clientConf;
  }

  /**
   * Writes {@code core-site.xml} and {@code yarn-site.xml} of {@link #config()} into {@code dir}: the
   * {@code HADOOP_CONF_DIR} of a {@code spark-submit --master yarn}. Spark ships that folder to the
   * ApplicationMaster and the executors, so they reach the same HDFS.
   */
  public Path writeClientConf(Path dir) {
    try {
      Files.createDirectories(dir);
      for (String file : List.of("core-site.xml", "yarn-site.xml")) {
        try (OutputStream out = Files.newOutputStream(dir.resolve(file))) {
          config().writeXml(out);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the Hadoop client configuration into " + dir, e);
    }
    return dir;
  }

  /** The report of the application named {@code name} (the latest, if several), as the ResourceManager sees it. */
  public Optional<ApplicationReport> application(String name) {
    try {
      return client.getApplications().stream()
          .filter(app -> app.getName().equals(name))
          .max(java.util.Comparator.comparingLong(ApplicationReport::getStartTime));
    } catch (YarnException | IOException e) {
      throw new IllegalStateException("cannot list the applications of the MiniYARNCluster", e);
    }
  }

  /** The NodeManager's container log folders: {@code <app id>/<container id>/{stdout,stderr}} under each. */
  public List<Path> containerLogDirs() {
    return cluster.getNodeManager(0).getConfig().getTrimmedStringCollection(YarnConfiguration.NM_LOG_DIRS).stream()
        .map(dir -> Path.of(java.net.URI.create(dir).getPath()))
        .toList();
  }

  @Override
  public void close() {
    client.stop();
    cluster.stop();
  }
}
