package org.semiweak.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/**
 * The device a Spark task runs on, from what Spark assigned, CUDA_VISIBLE_DEVICES and what libtorch
 * sees: a task given a GPU never runs on the CPU silently, and every refusal names all three.
 */
class GpuBindingTest {
  @Test
  void aTaskWithoutAssignedGpuRunsOnTheCpuEvenWhenGpusAreVisible() {
    assertThat(GpuBinding.choose(List.of(), null, 0)).isEmpty();
    assertThat(GpuBinding.choose(List.of(), null, 4)).as("other tasks may own the GPUs").isEmpty();
    assertThat(GpuBinding.choose(List.of(), "0,1", 2)).isEmpty();
  }

  @Test
  void withoutCudaVisibleDevicesTheAssignedIndexIsLibtorchsIndex() {
    assertThat(GpuBinding.choose(List.of("0"), null, 1)).isEqualTo(OptionalInt.of(0));
    assertThat(GpuBinding.choose(List.of("3"), null, 4)).isEqualTo(OptionalInt.of(3));
    assertThat(GpuBinding.choose(List.of(" 2 ", "3"), null, 4)).as("the first of several").isEqualTo(OptionalInt.of(2));
  }

  @Test
  void anAssignedGpuThatLibtorchDoesNotSeeFailsTheTaskNamingAddressVariableAndCount() {
    assertThatThrownBy(() -> GpuBinding.choose(List.of("0"), null, 0))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("Spark assigned GPU 0 to this task")
        .hasMessageContaining("CUDA_VISIBLE_DEVICES is unset")
        .hasMessageContaining("libtorch sees no GPU")
        .hasMessageContaining("Refusing to run on the CPU");
    assertThatThrownBy(() -> GpuBinding.choose(List.of("1"), "1", 0))
        .hasMessageContaining("CUDA_VISIBLE_DEVICES is '1'").hasMessageContaining("libtorch sees no GPU");
    assertThatThrownBy(() -> GpuBinding.choose(List.of("0"), "", 0))
        .as("an empty CUDA_VISIBLE_DEVICES hides every GPU")
        .hasMessageContaining("CUDA_VISIBLE_DEVICES is ''").hasMessageContaining("libtorch sees no GPU");
    assertThatThrownBy(() -> GpuBinding.choose(List.of("2"), null, 2))
        .hasMessageContaining("Spark assigned GPU 2").hasMessageContaining("libtorch sees 2 GPU(s)")
        .hasMessageContaining("not one of libtorch's GPUs 0..1");
    assertThatThrownBy(() -> GpuBinding.choose(List.of("GPU-8a1b"), null, 2))
        .hasMessageContaining("Expected an integer GPU index").hasMessageContaining("'GPU-8a1b'");
  }

  @Test
  void withCudaVisibleDevicesTheAssignedAddressIsMappedToItsPositionInTheList() {
    // nvidia-smi (the discovery script) reports physical indices; CUDA renumbers the listed ones 0..n-1.
    assertThat(GpuBinding.choose(List.of("3"), "2,3", 2)).isEqualTo(OptionalInt.of(1));
    assertThat(GpuBinding.choose(List.of("2"), "2,3", 2)).isEqualTo(OptionalInt.of(0));
    assertThat(GpuBinding.choose(List.of("5"), "5", 1)).isEqualTo(OptionalInt.of(0));
    assertThat(GpuBinding.choose(List.of("GPU-b2"), "GPU-a1,GPU-b2", 2)).as("UUIDs too").isEqualTo(OptionalInt.of(1));
  }

  @Test
  void withCudaVisibleDevicesAnUnlistedAddressOrAnotherCountFails() {
    assertThatThrownBy(() -> GpuBinding.choose(List.of("1"), "2,3", 2))
        .hasMessageContaining("Spark assigned GPU 1").hasMessageContaining("CUDA_VISIBLE_DEVICES is '2,3'")
        .hasMessageContaining("libtorch sees 2 GPU(s)").hasMessageContaining("GPU 1 is not among CUDA_VISIBLE_DEVICES");
    assertThatThrownBy(() -> GpuBinding.choose(List.of("2"), "2,3", 1))
        .hasMessageContaining("CUDA_VISIBLE_DEVICES lists 2 device(s), but libtorch sees 1");
  }
}
