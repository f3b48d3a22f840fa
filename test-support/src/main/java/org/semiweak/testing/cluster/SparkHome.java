package org.semiweak.testing.cluster;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.apache.spark.launcher.JavaModuleOptions;

/**
 * A minimal {@code SPARK_HOME} made of links to the jars of this JVM's classpath: enough for
 * Spark's standalone master, workers (which launch executors from {@code SPARK_HOME/jars}) and
 * {@code SparkSubmit}, without a Spark distribution.
 */
public final class SparkHome {
  /**
   * Jars of the test tooling that a cluster would not have: JUnit, AssertJ, surefire, and the
   * HDFS minicluster (it bundles server-side Hadoop and Jersey).
   */
  public static final Pattern TEST_TOOLING_JARS =
      Pattern.compile("^(junit|junit-jupiter.*|junit-platform.*|opentest4j|apiguardian-api|assertj-core|"
          + "surefire.*|common-java5|common-junit.*|hadoop-client-minicluster|mockito.*|byte-buddy.*|hamcrest.*)-.*\\.jar$");

  /** The Scala binary version of the Spark on the classpath; workers need it to build executor commands. */
  public static final String SCALA_BINARY_VERSION = "2.13";

  private final Path home;

  private SparkHome(Path home) {
    this.home = home;
  }

  /**
   * Creates {@code home/jars} with a link to every jar on {@code java.class.path} that {@code include}
   * accepts, and a {@code RELEASE} marker so Spark's launcher uses {@code jars/}.
   */
  public static SparkHome fromClasspath(Path home, Predicate<Path> include) {
    Path jars = home.resolve("jars");
    try {
      Files.createDirectories(jars);
      for (Path jar : classpathJars()) {
        if (!include.test(jar)) {
          continue;
        }
        Path link = jars.resolve(jar.getFileName().toString());
        for (int i = 1; Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS); i++) {
          link = jars.resolve(i + "-" + jar.getFileName());
        }
        Files.createSymbolicLink(link, jar.toAbsolutePath());
      }
      Files.writeString(home.resolve("RELEASE"), "semiweak test SPARK_HOME linked from the test classpath\n");
      Files.createDirectories(home.resolve("conf"));
      // conf/ is on every daemon's, executor's and submitted driver's classpath: keep their logs short.
      Files.writeString(home.resolve("conf/log4j2.properties"), String.join("\n",
          "rootLogger.level = warn",
          "rootLogger.appenderRef.stderr.ref = console",
          "appender.console.type = Console",
          "appender.console.name = console",
          "appender.console.target = SYSTEM_ERR",
          "appender.console.layout.type = PatternLayout",
          "appender.console.layout.pattern = %d{HH:mm:ss.SSS} %p %c{1}: %m%n%ex",
          "logger.master.name = org.apache.spark.deploy",
          "logger.master.level = info",
          ""));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a SPARK_HOME under " + home, e);
    }
    return new SparkHome(home);
  }

  /** semiweak's own module jars (and test-jars): the application, which a cluster does not have installed. */
  public static final Pattern APPLICATION_JARS = Pattern.compile("^semiweak-.*\\.jar$");

  /**
   * The jars a cluster would have installed: every jar of {@code java.class.path} except test
   * tooling ({@link #TEST_TOOLING_JARS}) and semiweak's own ({@link #APPLICATION_JARS}).
   */
  public static Predicate<Path> libraryJars() {
    return jar -> {
      String name = jar.getFileName().toString();
      return !TEST_TOOLING_JARS.matcher(name).matches() && !APPLICATION_JARS.matcher(name).matches();
    };
  }

  /** semiweak's jars on {@code java.class.path} (module jars resolved from a reactor build or ~/.m2). */
  public static List<Path> applicationJarsOnClasspath() {
    return classpathJars().stream()
        .filter(jar -> APPLICATION_JARS.matcher(jar.getFileName().toString()).matches())
        .toList();
  }

  /** The jar files on this JVM's classpath, in order. */
  public static List<Path> classpathJars() {
    return classpathEntries().stream().filter(p -> p.toString().endsWith(".jar") && Files.isRegularFile(p)).toList();
  }

  /** The directories on this JVM's classpath ({@code target/classes}, {@code target/test-classes} ...). */
  public static List<Path> classpathDirectories() {
    return classpathEntries().stream().filter(Files::isDirectory).toList();
  }

  private static List<Path> classpathEntries() {
    String cp = System.getProperty("java.class.path", "");
    List<Path> entries = new ArrayList<>();
    for (String e : cp.split(Pattern.quote(File.pathSeparator))) {
      if (!e.isBlank()) {
        entries.add(Path.of(e).toAbsolutePath().normalize());
      }
    }
    return entries;
  }

  public Path path() {
    return home;
  }

  public Path jarsDir() {
    return home.resolve("jars");
  }

  /**
   * The environment of every process of the cluster: {@code SPARK_HOME}, the Scala version (without
   * it workers relaunch executors forever), loopback binding, the malloc settings that make libtorch 5-10x faster
   * (executors inherit them from their worker), passive OpenMP and offline DJL.
   */
  public Map<String, String> environment() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("SPARK_HOME", home.toString());
    env.put("SPARK_SCALA_VERSION", SCALA_BINARY_VERSION);
    env.put("SPARK_LOCAL_IP", "127.0.0.1");
    env.put("JAVA_HOME", System.getProperty("java.home"));
    env.put("MALLOC_MMAP_THRESHOLD_", "33554432");
    env.put("MALLOC_TRIM_THRESHOLD_", "1073741824");
    env.put("MALLOC_TOP_PAD_", "268435456");
    env.put("MALLOC_MMAP_MAX_", "0");
    env.put("OMP_WAIT_POLICY", "PASSIVE");
    env.put("DJL_OFFLINE", "true");
    return env;
  }

  /**
   * {@code java <heap> <jvmOptions> <Spark's --add-opens> -cp SPARK_HOME/conf:SPARK_HOME/jars/* mainClass}:
   * the start of a Spark JVM's command.
   */
  public List<String> javaCommand(String heap, List<String> jvmOptions, String mainClass) {
    return javaCommand(heap, jvmOptions, List.of(), mainClass);
  }

  /**
   * The same with {@code extraClasspath} after {@code jars/*}, as {@code bin/spark-class} adds
   * {@code HADOOP_CONF_DIR} and {@code YARN_CONF_DIR}.
   */
  public List<String> javaCommand(String heap, List<String> jvmOptions, List<Path> extraClasspath, String mainClass) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx" + heap);
    cmd.addAll(jvmOptions);
    cmd.addAll(Arrays.asList(JavaModuleOptions.defaultModuleOptionArray()));
    cmd.add("-cp");
    StringBuilder classpath = new StringBuilder(home.resolve("conf") + File.pathSeparator + jarsDir().resolve("*"));
    extraClasspath.forEach(entry -> classpath.append(File.pathSeparator).append(entry));
    cmd.add(classpath.toString());
    cmd.add(mainClass);
    return cmd;
  }
}
