package org.semiweak.driver;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.testing.IdxSubset;

/**
 * Every way a command can go wrong ends with one clear line and the right exit code: contradictory
 * or repeated arguments are refused before anything runs, YAML errors say where, and an
 * {@link Error} such as a full disk is reported like any failure.
 */
class CommandLineErrorsTest {
  @TempDir Path tmp;

  static String[] cli(String... args) {
    return PipelineTest.cli(args);
  }

  @Test
  void aRepeatedOptionOrFlagIsRefused() {
    String[] r = cli("select", "--run-dir", tmp.resolve("run").toString(), "--teacher", "t", "--k", "10", "--k", "20");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("--k is given twice ('10' and '20')");
    r = cli("select", "--run-dir", tmp.resolve("run").toString(), "--force", "--force");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("--force is given twice");
    assertThat(Files.exists(tmp.resolve("run"))).as("a usage error creates no run directory").isFalse();
  }

  @Test
  void fromAfterUntilAndTwoConfigFilesAreRefused() throws Exception {
    Path a = Files.writeString(tmp.resolve("a.yaml"), "run-dir: " + tmp.resolve("run") + "\n");
    Path b = Files.writeString(tmp.resolve("b.yaml"), "run-dir: " + tmp.resolve("run") + "\n");
    String[] r = cli("run", a.toString(), "--from", "select", "--until", "score");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("--from select comes after --until score");

    r = cli("run", a.toString(), b.toString());
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("run takes one config file, found 2");
    r = cli("run", a.toString(), "--config", b.toString());
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("run takes one config file, found " + a + " and --config " + b);
    r = cli("score", a.toString(), "--config", b.toString());
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("'score' takes no positional arguments");
    r = cli("status", tmp.toString(), "--force");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("--force does not apply to 'status'");
    assertThat(Files.exists(tmp.resolve("run"))).isFalse();
  }

  @Test
  void aMissingRunDirIsAUsageErrorAndNoUsageErrorCreatesARunDirectory() throws Exception {
    String[] r = cli("select", "--teacher", "semi-weak", "--k", "10", "--p", "1");
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("2");
    assertThat(r[2]).isEqualTo("semiweak: run directory is not set: pass --run-dir PATH or set 'run-dir' in the config"
        + System.lineSeparator());

    Path run = tmp.resolve("run");
    r = cli("select", "--run-dir", run.toString(), "--teacher", "semi-weak", "--k", "10", "--p", "1", "--bogus", "1");
    assertThat(r[0]).as("an unknown option; stderr: %s", r[2]).isEqualTo("2");
    r = cli("select", "--run-dir", run.toString(), "--teacher", "semi-weak", "--k", "10", "--p", "1");
    assertThat(r[0]).as("a stage whose input is not committed; stderr: %s", r[2]).isEqualTo("2");
    assertThat(r[2]).contains("needs the output of stage 'scores/semi-weak', which is neither committed");
    Path config = Files.writeString(tmp.resolve("run.yaml"), "run-dir: " + run + "\nselect: {k: 0}\n");
    r = cli("run", config.toString());
    assertThat(r[0]).as("an option out of range; stderr: %s", r[2]).isEqualTo("2");
    assertThat(Files.exists(run)).as("no usage error creates the run directory or its _RUN.json").isFalse();

    r = cli("run", config.toString(), "--dry-run", "--seeds", "2");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).as("the option out of range, as without --dry-run").contains("select.k: expected");
    r = cli("select", "--run-dir", run.toString(), "--dry-run");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("--dry-run applies to 'semiweak run' and 'semiweak demo'");
    r = cli("status", run.toString(), "--break-lock");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("status takes no lock");
    assertThat(Files.exists(run)).isFalse();
  }

  @Test
  void malformedYamlIsReportedWithFileLineAndColumn() throws Exception {
    Path config = Files.writeString(tmp.resolve("broken.yaml"), "run-dir: /tmp/x\nselect: {k: 10, p: [1\nscore: {}\n");
    String[] r = cli("run", config.toString());
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).containsPattern("broken\\.yaml: line 3, column \\d+: not valid YAML: ");
    assertThat(r[2]).doesNotContain("\tat ");
  }

  @Test
  void theVersionIsPrinted() {
    String[] r = cli("--version");
    assertThat(r[0]).isEqualTo("0");
    assertThat(r[1]).startsWith("semiweak ");
  }

  @Test
  void aFullDiskWhileWritingAManifestEndsWithOneFailureLine() throws Exception {
    Configuration.addDefaultResource("fulldisk-site.xml");
    Path data = IdxSubset.write(tmp.resolve("fmnist"), 100, 20);
    String runDir = "fulldisk://" + tmp.resolve("run").toAbsolutePath();
    String[] r = cli("prep", "--run-dir", runDir, "--spark-master", "local[1]", "--source", "idx",
        "--input", data.toString(), "--labeled-per-class", "2");
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("1");
    assertThat(r[2]).contains("semiweak: failed: ").contains("No space left on device");
    assertThat(r[2]).as("one message, no stack trace").doesNotContain("\tat ");
    assertThat(Files.exists(tmp.resolve("run/prep/_MANIFEST.json"))).as("nothing committed").isFalse();
  }
}
