package org.semiweak.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JVM that scores with a TorchScript teacher writes the model to a local temporary file (libtorch
 * loads from disk) and leaves nothing behind when it exits: not the file, not an empty folder.
 */
class TorchScriptTempFileTest {
  @TempDir Path tmp;

  /** Run in a child JVM: writes a TorchScript payload's local file, prints its path, exits. */
  public static void main(String[] args) {
    StageModel.TorchScriptInfo info = new StageModel.TorchScriptInfo(1, 28, 10, new float[] {0.5f},
        new float[] {0.5f}, "logits", "sha", "teacher.pt");
    StageModel model = StageModel.torchScript("teacher/torchscript", new byte[] {1, 2, 3}, info);
    System.out.println(model.localTorchScriptFile());
  }

  @Test
  void theLocalModelFileAndItsFolderAreGoneWhenTheJvmExits() throws Exception {
    Path javaTmp = Files.createDirectories(tmp.resolve("java-tmp"));
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Djava.io.tmpdir=" + javaTmp, "-cp", System.getProperty("java.class.path"),
        TorchScriptTempFileTest.class.getName()).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("child JVM output: %s", output).isZero();
    assertThat(output.strip()).as("the file was written under the JVM's temp folder")
        .startsWith(javaTmp + File.separator + "semiweak-torchscript-");
    try (Stream<Path> left = Files.list(javaTmp)) {
      assertThat(left.toList()).as("nothing left behind").isEmpty();
    }
  }
}
