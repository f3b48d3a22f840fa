package org.semiweak.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class EnginesTest {

  @Test
  void theNativeBundleThatLoadsLibtorchIsOnTheTestClasspath() {
    assertThat(Engines.class.getClassLoader().getResource(Engines.NATIVE_BUNDLE_MARKER))
        .as("pytorch-native-cpu's marker, which a slim application jar lacks").isNotNull();
    assertThat(Engines.configure().getEngineName()).isEqualTo("PyTorch");
  }

  @Test
  void withoutTheNativeBundleTheFailureNamesTheCauseAndHowToStageIt() {
    // DJL's own message when the bundle is missing and it may not download (seen on YARN with the slim jar).
    String message = Engines.libtorchUnavailable("Failed to save pytorch index file", false);

    assertThat(message)
        .contains("no DJL native bundle")
        .contains("offline")
        .contains("semiweak-app-*-slim.jar")
        .contains("--jars")
        .contains("pytorch-native-cpu-VERSION-linux-x86_64.jar from the distribution's lib/")
        .contains("Native libraries")
        .contains("DJL: Failed to save pytorch index file")
        .doesNotContain("\n");
  }

  @Test
  void withTheBundlePresentTheFailureKeepsDjlsReasonWithoutBlamingStaging() {
    String message = Engines.libtorchUnavailable("libc10.so: cannot open shared object file", true);

    assertThat(message).contains("from the DJL native bundle on the classpath")
        .contains("libc10.so: cannot open shared object file")
        .doesNotContain("--jars");
  }
}
