package org.semiweak.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelIOTest {
  @TempDir Path tmp;

  @Test
  void writesAndReadsSpecAndWeightsLeavingNoTemporaryFiles() throws Exception {
    FileSystem fs = FileSystem.getLocal(new Configuration());
    ModelSpec spec = ModelSpec.smallResNet(1, 16, 4, 1, 4, 8);
    ModelWeights w = ModelWeights.initial(spec, 9);
    org.apache.hadoop.fs.Path dir = new org.apache.hadoop.fs.Path(tmp.toUri().toString(), "model");
    ModelIO.write(fs, dir, spec, w);
    ModelIO.write(fs, dir, spec, w); // overwriting is allowed
    ModelIO.Loaded back = ModelIO.read(fs, dir);
    assertThat(back.spec()).isEqualTo(spec);
    assertThat(back.weights()).isEqualTo(w);
    try (var files = Files.list(tmp.resolve("model"))) {
      assertThat(files.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".crc")))
          .containsExactlyInAnyOrder(ModelIO.SPEC_FILE, ModelIO.WEIGHTS_FILE);
    }
  }

  @Test
  void namesTheMissingFile() {
    assertThatThrownBy(() -> ModelIO.read(FileSystem.getLocal(new Configuration()),
        new org.apache.hadoop.fs.Path(new File(tmp.toFile(), "none").toURI())))
        .hasMessageContaining("model.json").hasMessageContaining("file not found");
  }
}
