package org.semiweak.train;

import ai.djl.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.semiweak.model.Engines;
import org.semiweak.model.Inference;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;

/**
 * Prints training and inference throughput (images/s) of a few model sizes on this machine, to
 * size demos: per wall second and per CPU second of the calling thread (with one libtorch thread
 * the work runs on it, so the latter is what one uncontended core gives). Not a test; run it with the test classpath:
 *
 * <pre>
 * java -cp core/target/test-classes:core/target/classes:$(cat cp.txt) -Dai.djl.pytorch.num_threads=1 \
 *   org.semiweak.train.ThroughputProbe [small|resnet18|all]
 * </pre>
 */
public final class ThroughputProbe {
  private static final java.lang.management.ThreadMXBean CPU =
      java.lang.management.ManagementFactory.getThreadMXBean();

  private static final int INFERENCE_BATCH = Integer.getInteger("probe.inferenceBatch", 0);

  private ThroughputProbe() {}

  public static void main(String[] args) {
    String which = args.length > 0 ? args[0] : "small";
    System.out.println("engine " + Engines.configure().getVersion() + ", threads "
        + System.getProperty(Engines.NUM_THREADS, "default") + ", cores " + Runtime.getRuntime().availableProcessors());
    if (which.equals("small") || which.equals("all")) {
      probe(ModelSpec.smallResNet(1, 28, 10, 1, 8, 16), 64, 20);
      probe(ModelSpec.smallResNet(1, 28, 10, 1, 16, 32, 64), 64, 20);
      probe(ModelSpec.smallResNet(3, 32, 10, 1, 16, 32, 64), 64, 20);
    }
    if (which.equals("resnet18") || which.equals("all")) {
      probe(ModelSpec.resNet18(100), Integer.getInteger("probe.trainBatch", 16), 3);
    }
  }

  static void probe(ModelSpec spec, int batch, int steps) {
    SplittableRandom rng = new SplittableRandom(1);
    ExampleShard.Builder b = ExampleShard.builder(spec);
    int n = batch * 4;
    List<byte[]> pixels = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      byte[] px = new byte[spec.imageValues()];
      for (int j = 0; j < px.length; j++) {
        px[j] = (byte) rng.nextInt(256);
      }
      pixels.add(px);
      b.addPixels("img-" + i, px, rng.nextInt(spec.numClasses()));
    }
    ExampleShard shard = b.build();
    ModelWeights w = ModelWeights.initial(spec, 1);
    TrainOptions o = TrainOptions.builder().setTotalSteps(steps + 2).optBatchSize(batch).optCropPadding(2)
        .optHorizontalFlip(true).build();
    LocalTrainer.trainSteps(spec, w, ModelWeights.empty(), shard, 0, 2, o, 0); // warm-up
    long cpu0 = CPU.getCurrentThreadCpuTime();
    LocalTrainingOutcome t = LocalTrainer.trainSteps(spec, w, ModelWeights.empty(), shard, 2, steps, o, 0);
    double trainCpuRate = t.examples() / ((CPU.getCurrentThreadCpuTime() - cpu0) / 1e9);
    double inferRate;
    double inferCpuRate;
    try (Inference model = Inference.open(spec, w, Device.cpu(), INFERENCE_BATCH > 0 ? INFERENCE_BATCH : batch)) {
      model.probabilitiesOfPixels(pixels.subList(0, batch)); // warm-up
      int rounds = Math.max(1, steps / 4);
      long start = System.nanoTime();
      long cpu1 = CPU.getCurrentThreadCpuTime();
      for (int r = 0; r < rounds; r++) {
        model.probabilitiesOfPixels(pixels);
      }
      inferRate = rounds * (double) n / ((System.nanoTime() - start) / 1e9);
      inferCpuRate = rounds * (double) n / ((CPU.getCurrentThreadCpuTime() - cpu1) / 1e9);
    }
    System.out.printf(Locale.ROOT,
        "%s%n  train     %8.1f img/s wall, %8.1f img/CPU-s (batch %d, %d steps, crop+flip)%n"
            + "  inference %8.1f img/s wall, %8.1f img/CPU-s%n",
        spec, t.examples() / t.seconds(), trainCpuRate, batch, steps, inferRate, inferCpuRate);
  }
}
