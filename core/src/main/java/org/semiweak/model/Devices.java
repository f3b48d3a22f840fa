package org.semiweak.model;

import ai.djl.Device;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/** Chooses the device for model work: the GPU Spark assigned to the task, or the CPU. */
public final class Devices {
  private Devices() {}

  /**
   * The device of the current Spark task: the first GPU address in the task's {@code gpu}
   * resources when the engine sees GPUs; on the driver (no task), GPU 0 when there is one; else
   * the CPU.
   */
  public static Device forCurrentTask() {
    int gpus = Engines.configure().getGpuCount();
    if (gpus <= 0) {
      return Device.cpu();
    }
    TaskContext task = TaskContext.get();
    if (task == null) {
      return Device.gpu(0);
    }
    Map<String, ResourceInformation> resources = task.resourcesJMap();
    ResourceInformation gpu = resources == null ? null : resources.get("gpu");
    if (gpu == null || gpu.addresses().length == 0) {
      // Spark did not schedule GPUs for this task: other tasks may own them, so stay off them.
      return Device.cpu();
    }
    String address = gpu.addresses()[0];
    try {
      int id = Integer.parseInt(address.trim());
      if (id < 0 || id >= gpus) {
        throw new IllegalStateException(
            "Spark assigned GPU address " + address + " but the engine sees GPUs 0.." + (gpus - 1)
                + "; check the executor's GPU discovery script and CUDA_VISIBLE_DEVICES");
      }
      return Device.gpu(id);
    } catch (NumberFormatException e) {
      throw new IllegalStateException(
          "Spark assigned GPU address '" + address + "', expected an integer index; check the GPU discovery script", e);
    }
  }
}
