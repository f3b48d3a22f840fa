package org.semiweak.driver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Under {@code spark-submit --deploy-mode cluster} the entry point returns on success and throws on
 * failure, with the one-line message, instead of calling {@code System.exit}: YARN's
 * ApplicationMaster records the first as SUCCEEDED and the second as FAILED with that message,
 * but any {@code System.exit} as FAILED. (A {@code System.exit} here would end this test JVM.)
 */
class ClusterDeployModeTest {
  @TempDir Path tmp;

  @BeforeEach
  void asTheApplicationMasterSetsIt() {
    System.setProperty("spark.submit.deployMode", "cluster");
  }

  @AfterEach
  void clear() {
    System.clearProperty("spark.submit.deployMode");
  }

  @Test
  void aCommandThatSucceedsReturnsFromMain() {
    SemiweakCli.main(new String[] {"--version"});
  }

  @Test
  void aCommandThatFailsThrowsItsMessageAndExitCodeFromMain() {
    assertThatThrownBy(() -> SemiweakCli.main(new String[] {"status", tmp.toString()}))
        .isInstanceOf(SemiweakCli.ApplicationFailedException.class)
        .hasMessageStartingWith("semiweak: ")
        .hasMessageContaining("is not a semiweak run directory")
        .hasMessageEndingWith("(exit code 2)")
        .satisfies(e -> assertThat(((SemiweakCli.ApplicationFailedException) e).exitCode()).isEqualTo(2));
  }
}
