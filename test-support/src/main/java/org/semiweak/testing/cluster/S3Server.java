package org.semiweak.testing.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/**
 * An S3-compatible object store on 127.0.0.1: S3Proxy (Maven Central's {@code
 * org.gaul:s3proxy:jar-with-dependencies}) with its in-memory backend, in its own JVM, one
 * bucket. Like S3, it has no directory rename: S3A copies every object of a renamed folder and
 * deletes the originals.
 *
 * <p>In memory, not on disk: S3Proxy's file-system backend keeps a directory marker ({@code
 * dir/_temporary/0/}, which Spark's job committer makes and then lists) as a folder tagged with a
 * user extended attribute. On a disk without user xattrs a marker with nothing under it is not
 * listed, and a Spark job whose tasks wrote no file fails its commit with "No such file or
 * directory" (seen once in CI). S3 keeps markers as objects; the in-memory backend
 * (a Jimfs with user attributes) does too, on any machine.
 *
 * <pre>{@code
 * try (S3Server s3 = S3Server.start(jar, tmp.resolve("s3"), "runs")) {
 *   s3.configure(conf);                 // fs.s3a.* for this endpoint
 *   RunDir run = RunDir.open(s3.uri() + "/r1", conf);
 * }
 * }</pre>
 */
public final class S3Server implements AutoCloseable {
  public static final String ACCESS_KEY = "semiweak-test";
  public static final String SECRET_KEY = "semiweak-test-secret";

  private final Process process;
  private final int port;
  private final String bucket;
  private final Path log;

  private S3Server(Process process, int port, String bucket, Path log) {
    this.process = process;
    this.port = port;
    this.bucket = bucket;
    this.log = log;
  }

  /**
   * Starts S3Proxy from {@code s3proxyJar}, keeping its configuration and log under {@code dir} and
   * its objects in its memory, waits until it answers HTTP (a few seconds) and creates an empty
   * {@code bucket}.
   */
  public static S3Server start(Path s3proxyJar, Path dir, String bucket) {
    if (!Files.isRegularFile(s3proxyJar)) {
      throw new IllegalArgumentException("S3Proxy jar " + s3proxyJar + " does not exist (the build copies"
          + " org.gaul:s3proxy:jar-with-dependencies there)");
    }
    int port = ClusterProcesses.freePort();
    Path conf = dir.resolve("s3proxy.conf").toAbsolutePath();
    Path log = dir.resolve("s3proxy.log").toAbsolutePath();
    try {
      Files.createDirectories(dir);
      Files.writeString(conf, String.join("\n",
          "s3proxy.endpoint=http://127.0.0.1:" + port,
          "s3proxy.authorization=aws-v2-or-v4",
          "s3proxy.identity=" + ACCESS_KEY,
          "s3proxy.credential=" + SECRET_KEY,
          "jclouds.provider=transient",
          ""));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare S3Proxy under " + dir, e);
    }
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = ClusterProcesses.start(
        List.of(java, "-Xmx768m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar",
            s3proxyJar.toAbsolutePath().toString(), "--properties", conf.toString()),
        Map.of(), log);
    S3Server server = new S3Server(p, port, bucket, log);
    server.awaitHttp(Duration.ofSeconds(60));
    server.createBucket();
    return server;
  }

  /** PUT /bucket, signed with AWS signature version 2 (which S3Proxy accepts beside version 4). */
  private void createBucket() {
    String date = java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME
        .format(java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC));
    try {
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA1");
      mac.init(new javax.crypto.spec.SecretKeySpec(SECRET_KEY.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
      String signature = java.util.Base64.getEncoder().encodeToString(
          mac.doFinal(("PUT\n\n\n" + date + "\n/" + bucket).getBytes(StandardCharsets.UTF_8)));
      HttpURLConnection c = (HttpURLConnection) URI.create(endpoint() + "/" + bucket).toURL().openConnection();
      c.setRequestMethod("PUT");
      c.setRequestProperty("Date", date);
      c.setRequestProperty("Authorization", "AWS " + ACCESS_KEY + ":" + signature);
      c.setDoOutput(true);
      c.setFixedLengthStreamingMode(0);
      c.getOutputStream().close();
      int status = c.getResponseCode();
      if (status != 200) {
        java.io.InputStream err = c.getErrorStream();
        String body = err == null ? "" : new String(err.readAllBytes(), StandardCharsets.UTF_8);
        throw new IllegalStateException("S3Proxy refused to create bucket " + bucket + ": HTTP " + status + " " + body
            + "; " + ClusterProcesses.tail(log, 30));
      }
    } catch (java.security.GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot create bucket " + bucket + " on " + endpoint() + ": " + e, e);
    }
  }

  private void awaitHttp(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (!process.isAlive()) {
        throw new IllegalStateException("S3Proxy exited with code " + process.exitValue() + "; "
            + ClusterProcesses.tail(log, 30));
      }
      try {
        HttpURLConnection c = (HttpURLConnection) URI.create(endpoint() + "/").toURL().openConnection();
        c.setConnectTimeout(1000);
        c.setReadTimeout(2000);
        c.getResponseCode(); // any answer (403 without credentials) means it serves
        c.disconnect();
        return;
      } catch (IOException notYet) {
        if (System.nanoTime() > deadline) {
          close();
          throw new IllegalStateException("S3Proxy did not answer on " + endpoint() + " within " + timeout + "; "
              + ClusterProcesses.tail(log, 30));
        }
        try {
          Thread.sleep(200);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for S3Proxy", e);
        }
      }
    }
  }

  /** {@code http://127.0.0.1:PORT}. */
  public String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  /** {@code s3a://BUCKET}, without a trailing slash. */
  public String uri() {
    return "s3a://" + bucket;
  }

  /**
   * The S3A settings for this server (path-style addressing, plain HTTP, static keys), as
   * {@code key -> value} without the {@code spark.hadoop.} prefix.
   */
  public Map<String, String> s3aSettings() {
    return Map.of(
        "fs.s3a.endpoint", endpoint(),
        "fs.s3a.endpoint.region", "us-east-1",
        "fs.s3a.path.style.access", "true",
        "fs.s3a.connection.ssl.enabled", "false",
        "fs.s3a.access.key", ACCESS_KEY,
        "fs.s3a.secret.key", SECRET_KEY,
        "fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
        // One short retry: a wrong setting fails in seconds, not minutes.
        "fs.s3a.attempts.maximum", "2",
        "fs.s3a.retry.limit", "2");
  }

  /** Sets {@link #s3aSettings()} on {@code conf} and returns it. */
  public Configuration configure(Configuration conf) {
    s3aSettings().forEach(conf::set);
    return conf;
  }

  /** The server's log, for assertion messages. */
  public String logTail(int lines) {
    return "S3Proxy log " + log + ":\n" + ClusterProcesses.tail(log, lines);
  }

  @Override
  public void close() {
    ClusterProcesses.destroyTrees(List.of(process.toHandle()), 2_000);
  }
}
