package org.semiweak.model;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * Which device a Spark task runs its model on: a pure function of the GPU addresses Spark assigned
 * to the task, the process's {@code CUDA_VISIBLE_DEVICES} and the number of GPUs libtorch sees.
 *
 * <p>A task that Spark gave a GPU never falls back to the CPU silently (10-100x slower, and the GPU
 * it was given idles): when libtorch sees no GPU, or not the one assigned, the task fails with a
 * message naming all three. Spark's discovery script reports the indices {@code nvidia-smi} shows,
 * which ignore {@code CUDA_VISIBLE_DEVICES}; CUDA numbers only the devices that variable lists, in
 * its order. So when it is set, the assigned address is looked up in it and its position is
 * libtorch's index.
 */
public final class GpuBinding {
  private GpuBinding() {}

  /**
   * The libtorch GPU index for the task, or empty for the CPU (a task without assigned GPUs).
   *
   * @param assigned the task's {@code gpu} resource addresses, in Spark's order; empty when Spark
   *     assigned none (then other tasks may own the GPUs: stay off them)
   * @param cudaVisibleDevices the value of {@code CUDA_VISIBLE_DEVICES}, null when unset
   * @param libtorchGpus the GPUs libtorch sees (0 for a CPU build of libtorch)
   * @throws IllegalStateException when the assigned GPU cannot be used, naming the address,
   *     {@code CUDA_VISIBLE_DEVICES} and what libtorch saw
   */
  public static OptionalInt choose(List<String> assigned, String cudaVisibleDevices, int libtorchGpus) {
    if (assigned == null || assigned.isEmpty()) {
      return OptionalInt.empty();
    }
    String address = assigned.get(0).strip();
    String facts = "Spark assigned GPU " + String.join(",", assigned) + " to this task; CUDA_VISIBLE_DEVICES is "
        + (cudaVisibleDevices == null ? "unset" : "'" + cudaVisibleDevices + "'") + "; libtorch sees "
        + (libtorchGpus <= 0 ? "no GPU" : libtorchGpus + " GPU(s)");
    if (libtorchGpus <= 0) {
      throw new IllegalStateException(facts + ". Refusing to run on the CPU instead: use a CUDA build of libtorch"
          + " (the gpu image: PYTORCH_LIBRARY_PATH, PYTORCH_FLAVOR=cu128) and check that the container sees the GPU"
          + " (nvidia-smi, NVIDIA_VISIBLE_DEVICES, the nvidia.com/gpu limit)");
    }
    if (cudaVisibleDevices != null) {
      List<String> visible = visibleDevices(cudaVisibleDevices);
      if (visible.size() != libtorchGpus) {
        throw new IllegalStateException(facts + ". CUDA_VISIBLE_DEVICES lists " + visible.size() + " device(s), but"
            + " libtorch sees " + libtorchGpus + ": a listed GPU is missing or broken (check nvidia-smi)");
      }
      int index = visible.indexOf(address);
      if (index < 0) {
        throw new IllegalStateException(facts + ". GPU " + address + " is not among CUDA_VISIBLE_DEVICES, so this"
            + " process cannot use it: make the discovery script report the devices CUDA_VISIBLE_DEVICES lists,"
            + " or unset it");
      }
      return OptionalInt.of(index);
    }
    int index;
    try {
      index = Integer.parseInt(address);
    } catch (NumberFormatException e) {
      throw new IllegalStateException(facts + ". Expected an integer GPU index from the discovery script,"
          + " found '" + address + "'", e);
    }
    if (index < 0 || index >= libtorchGpus) {
      throw new IllegalStateException(facts + ". GPU " + address + " is not one of libtorch's GPUs 0.."
          + (libtorchGpus - 1) + ": check the executor's GPU discovery script");
    }
    return OptionalInt.of(index);
  }

  /** The entries of {@code CUDA_VISIBLE_DEVICES}: indices or UUIDs, comma separated; empty for "". */
  static List<String> visibleDevices(String value) {
    List<String> out = new ArrayList<>();
    for (String s : value.split(",")) {
      if (!s.isBlank()) {
        out.add(s.strip());
      }
    }
    return out;
  }
}
