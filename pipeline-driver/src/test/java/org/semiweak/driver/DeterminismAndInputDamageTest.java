package org.semiweak.driver;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.StageId;
import org.semiweak.run.result.ScoreResult;
import org.semiweak.data.ImageSchema;
import org.semiweak.data.ScoreSchema;
import org.semiweak.data.SelectionSchema;
import org.semiweak.run.RunDir;
import org.semiweak.run.SparkSessions;
import org.semiweak.testing.IdxSubset;

/**
 * Two independent runs of prep, teacher, score and select with the same config and seed give
 * identical rows; and a damaged Parquet input of {@code score} (the prepared images) or of
 * {@code select} (the scores) is refused before the stage starts, naming the file and the stage to
 * run again, and nothing is committed: a truncated file by the check of the folder against its
 * stage's manifest, a file with a missing or mistyped column (in a run whose manifests do not list
 * files) by the reader's footer and schema check; a file damaged inside with its length kept (a
 * corrupt page) is named, with its stage, when a task reads it.
 *
 * <p>Run A is made once; each damage case works on its own copy of it.
 */
class DeterminismAndInputDamageTest {
  @TempDir static Path tmp;
  static Path config;
  /** Run A after prep and train-teacher. */
  static Path prepared;
  /** Run A after score and select too. */
  static Path scored;

  static final String TEACHER = "semi-supervised";
  static final StageId SELECTION = RunLayout.selection(TEACHER, "k30-p2");

  @BeforeAll
  static void runA() throws Exception {
    Path data = IdxSubset.write(tmp.resolve("fmnist"), 700, 100);
    config = tmp.resolve("run.yaml");
    Files.writeString(config, String.join("\n",
        "spark-master: local[2]",
        "prep: {source: idx, input: " + data + ", labeled-per-class: 10, image-size: 28, channels: 1}",
        // A few rounds of 2 workers, so the check covers the averaging of their weights too.
        "train-teacher: {recipe: " + TEACHER + ", widths: [8, 16], epochs: 4, local-steps: 2, workers: 2}",
        "score: {teacher: " + TEACHER + ", pmax: 3, partitions: 3}",
        "select: {teacher: " + TEACHER + ", k: 30, p: 2}",
        ""));
    scored = tmp.resolve("run-a");
    runStages(scored, "prep", "train-teacher");
    prepared = tmp.resolve("run-a-prepared");
    copyTree(scored, prepared);
    runStages(scored, "score", "select");
  }

  static void runStages(Path run, String... commands) {
    for (String command : commands) {
      String[] r = cli(command, run);
      assertThat(r[0]).as("%s in %s; stderr: %s", command, run, r[2]).isEqualTo("0");
    }
  }

  static String[] cli(String command, Path run, String... more) {
    String[] args = Stream.concat(Stream.of(command, "--config", config.toString(), "--run-dir", run.toUri().toString()),
        Stream.of(more)).toArray(String[]::new);
    return PipelineTest.cli(args);
  }

  @Test
  void sameConfigAndSeedGiveIdenticalScoresAndSelections() {
    Path b = tmp.resolve("run-b");
    runStages(b, "prep", "train-teacher", "score", "select");
    RunDir runA = RunDir.open(scored.toUri().toString(), new Configuration());
    RunDir runB = RunDir.open(b.toUri().toString(), new Configuration());
    assertThat(runB.committed(RunLayout.scores(TEACHER)).orElseThrow().result(ScoreResult.class).model().fingerprint())
        .as("the teachers have identical weights")
        .isEqualTo(runA.committed(RunLayout.scores(TEACHER)).orElseThrow().result(ScoreResult.class).model().fingerprint());

    SparkSession spark = SparkSessions.getOrCreate("determinism-check", "local[1]");
    try {
      List<String> scoresA = rows(spark, scored.resolve(RunLayout.scores(TEACHER).path()), ScoreSchema.IMAGE_ID);
      List<String> scoresB = rows(spark, b.resolve(RunLayout.scores(TEACHER).path()), ScoreSchema.IMAGE_ID);
      long unlabeled = runA.committed(RunLayout.prep()).orElseThrow().count("written.unlabeled");
      assertThat(scoresA).as("one score row per unlabeled image").hasSize((int) unlabeled);
      assertThat(scoresB).as("scores of run B, row by row (sorted by image id), equal run A's").isEqualTo(scoresA);

      List<String> selectionA = rows(spark, scored.resolve(SELECTION.path()), SelectionSchema.CLASS_INDEX, SelectionSchema.RANK);
      List<String> selectionB = rows(spark, b.resolve(SELECTION.path()), SelectionSchema.CLASS_INDEX, SelectionSchema.RANK);
      assertThat(selectionA).as("the selection is not empty").isNotEmpty();
      assertThat(selectionB).as("selection of run B, row by row (sorted by class and rank), equals run A's")
          .isEqualTo(selectionA);
    } finally {
      spark.stop();
    }
  }

  @Test
  void aTruncatedImageShardIsRefusedBeforeScoringNamingTheFile() throws Exception {
    Path run = copyOf(prepared, "truncated-images");
    Path victim = largestPart(run.resolve("prep/unlabeled"));
    truncate(victim);

    String[] r = cli("score", run);

    assertThat(r[0]).as("exit code 1 (failed); stderr: %s", r[2]).isEqualTo("1");
    assertThat(r[2]).as("the folder is checked against prep's manifest before the first job: names the file")
        .contains("file unlabeled/" + victim.getFileName() + " has ").contains("bytes, committed with")
        .as("names the stage and says what to do")
        .contains("stage 'prep'").contains("is damaged").contains("semiweak rerun ").contains("semiweak run CONFIG --from prep");
    assertNoStackTrace(r[2]);
    assertNothingCommitted(run, RunLayout.scores(TEACHER));
  }

  @Test
  void anImageShardWithAMissingOrMistypedColumnIsRefusedBeforeScoringNamingTheColumn() throws Exception {
    Path run = copyOf(prepared, "bad-columns-images");
    Path victim = largestPart(run.resolve("prep/unlabeled"));
    rewrite(victim, df -> df.withColumn(ImageSchema.IMAGE, df.col(ImageSchema.IMAGE).cast("string"))
        .drop(ImageSchema.LABEL));
    // A manifest from before file lists: the reader's own footer and schema check is what refuses the file.
    forgetFileList(run, RunLayout.prep());

    String[] r = cli("score", run);

    assertThat(r[0]).as("exit code 1 (failed); stderr: %s", r[2]).isEqualTo("1");
    String file = victim.getFileName().toString();
    assertThat(r[2]).as("names the file and each column with what was expected")
        .contains(file + ": column 'image' has type string, expected binary")
        .contains(file + ": column 'label' is missing (expected int)")
        .contains("prep/unlabeled").contains("semiweak run CONFIG --from prep");
    assertNoStackTrace(r[2]);
    assertNothingCommitted(run, RunLayout.scores(TEACHER));
  }

  @Test
  void aFileDamagedInsideIsReportedWhenATaskReadsItNamingTheFileAndTheStage() throws Exception {
    Path run = copyOf(prepared, "corrupt-page");
    Path victim = largestPart(run.resolve("prep/unlabeled"));
    // The first page header, right after the leading magic number: the footer stays intact, so the
    // file passes the check before the stage and fails only when a task decodes the page.
    RunFiles.corruptFirstPage(victim);

    String[] r = cli("score", run);

    assertThat(r[0]).as("exit code 1 (failed); stderr: %s", r[2]).isEqualTo("1");
    assertThat(r[2]).as("names the file, the stage it belongs to and what to do")
        .contains("cannot read ").contains(victim.getFileName().toString())
        .contains("belongs to the committed output of stage 'prep'").contains("semiweak run CONFIG --from prep")
        .contains("semiweak rerun ");
    assertNoStackTrace(r[2]);
    assertNothingCommitted(run, RunLayout.scores(TEACHER));
  }

  @Test
  void truncatedOrMistypedScoresAreRefusedBeforeSelecting() throws Exception {
    Path truncated = copyOf(scored, "truncated-scores");
    Path victim = largestPart(truncated.resolve(RunLayout.scores(TEACHER).path()));
    truncate(victim);

    String[] r = cli("select", truncated, "--k", "10");

    assertThat(r[0]).as("exit code 1 (failed); stderr: %s", r[2]).isEqualTo("1");
    assertThat(r[2]).contains("file " + victim.getFileName() + " has ").contains("bytes, committed with")
        .contains("stage '" + RunLayout.scores(TEACHER).path() + "'").contains("semiweak run CONFIG --from score");
    assertNoStackTrace(r[2]);
    assertNothingCommitted(truncated, RunLayout.selection(TEACHER, "k10-p2"));

    Path mistyped = copyOf(scored, "bad-columns-scores");
    victim = largestPart(mistyped.resolve(RunLayout.scores(TEACHER).path()));
    rewrite(victim, df -> df.withColumn(ScoreSchema.LABEL, df.col(ScoreSchema.LABEL).cast("string"))
        .drop(ScoreSchema.PROBS));
    forgetFileList(mistyped, RunLayout.scores(TEACHER));

    r = cli("select", mistyped, "--k", "10");

    assertThat(r[0]).as("exit code 1 (failed); stderr: %s", r[2]).isEqualTo("1");
    String file = victim.getFileName().toString();
    assertThat(r[2]).contains(file + ": column 'probs' is missing (expected array<float>)")
        .contains(file + ": column 'label' has type string, expected int")
        .contains("semiweak run CONFIG --from score");
    assertNoStackTrace(r[2]);
    assertNothingCommitted(mistyped, RunLayout.selection(TEACHER, "k10-p2"));
  }

  /**
   * Rewrites a stage's manifest as semiweak wrote it before manifests listed their files, so that the
   * reader's own check of each file (footer, columns) is the one that meets the damage.
   */
  private static void forgetFileList(Path run, StageId stage) throws IOException {
    Path manifest = run.resolve(stage.path()).resolve(RunLayout.MANIFEST);
    com.fasterxml.jackson.databind.node.ObjectNode json =
        (com.fasterxml.jackson.databind.node.ObjectNode) org.semiweak.util.Json.MAPPER.readTree(Files.readString(manifest));
    json.putNull("files");
    Files.writeString(manifest, json.toString());
  }

  private static void assertNoStackTrace(String stderr) {
    assertThat(stderr).as("a message for the user, not a stack trace").doesNotContain("\tat ").doesNotContain("Exception:");
  }

  private static void assertNothingCommitted(Path run, StageId stage) throws IOException {
    RunDir r = RunDir.open(run.toUri().toString(), new Configuration());
    assertThat(r.committed(stage)).as("%s is not committed", stage).isEmpty();
    assertThat(Files.exists(run.resolve(stage.path()))).as("no folder for %s", stage).isFalse();
    Path temp = run.resolve(RunLayout.TMP);
    if (Files.isDirectory(temp)) {
      try (Stream<Path> s = Files.list(temp)) {
        assertThat(s.toList()).as("no temporary output left behind").isEmpty();
      }
    }
  }

  /** Rows of a Parquet folder as strings, sorted by the given columns. */
  private static List<String> rows(SparkSession spark, Path dir, String first, String... more) {
    Dataset<Row> df = spark.read().parquet(dir.toUri().toString()).orderBy(first, more);
    return df.collectAsList().stream().map(Row::toString).toList();
  }

  private static Path copyOf(Path run, String name) throws IOException {
    return RunFiles.copyOf(run, tmp.resolve(name));
  }

  private static void copyTree(Path from, Path to) throws IOException {
    RunFiles.copyOf(from, to);
  }

  private static Path largestPart(Path dir) throws IOException {
    return RunFiles.largestPart(dir);
  }

  /**
   * Cuts a file to half its length, as an interrupted copy leaves it. Its Hadoop {@code .crc} is
   * removed too, as on a file system whose checksums follow the data (HDFS after a partial copy).
   */
  private static void truncate(Path file) throws IOException {
    long size = Files.size(file);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(size / 2);
    }
    Files.deleteIfExists(crc(file));
  }

  /** Replaces a Parquet file by one with the same name, rows changed by {@code change}, written by Spark. */
  private static void rewrite(Path file, UnaryOperator<Dataset<Row>> change) throws IOException {
    Path out = Files.createTempDirectory(tmp, "rewritten-").resolve("out");
    SparkSession spark = SparkSessions.getOrCreate("damage-a-file", "local[1]");
    try {
      change.apply(spark.read().parquet(file.toUri().toString())).coalesce(1).write().parquet(out.toUri().toString());
    } finally {
      spark.stop();
    }
    Path written;
    try (Stream<Path> s = Files.list(out)) {
      written = s.filter(p -> p.getFileName().toString().startsWith("part-")).findFirst().orElseThrow();
    }
    Files.move(written, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.deleteIfExists(crc(file));
  }

  private static Path crc(Path file) {
    return RunFiles.crc(file);
  }
}
