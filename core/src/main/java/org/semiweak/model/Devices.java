package org.semiweak.model;

import ai.djl.Device;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/** Chooses the device for model work: the GPU Spark assigned to the task, or the CPU. */
public final class Devices {
  private Devices() {}

  /**
   * The device of the current Spark task: the GPU in the task's {@code gpu} resources, mapped
   * through {@code CUDA_VISIBLE_DEVICES} ({@link GpuBinding}; the task fails when libtorch cannot use
   * it, instead of running on the CPU); the CPU for a task without GPUs; on the driver (no task),
   * GPU 0 when libtorch sees one, else the CPU.
   */
  public static Device forCurrentTask() {
    int gpus = Engines.configure().getGpuCount();
    TaskContext task = TaskContext.get();
    if (task == null) {
      return gpus > 0 ? Device.gpu(0) : Device.cpu();
    }
    Map<String, ResourceInformation> resources = task.resourcesJMap();
    ResourceInformation gpu = resources == null ? null : resources.get("gpu");
    List<String> assigned = gpu == null ? List.of() : List.of(gpu.addresses());
    OptionalInt index = GpuBinding.choose(assigned, System.getenv("CUDA_VISIBLE_DEVICES"), gpus);
    return index.isPresent() ? Device.gpu(index.getAsInt()) : Device.cpu();
  }
}
