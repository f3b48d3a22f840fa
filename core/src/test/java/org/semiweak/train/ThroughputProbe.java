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
 * size demos. Not a test; run it with the test classpath:
 *
 * <pre>
 * java -cp core/target/test-classes:core/target/classes:$(cat cp.txt) -Dai.djl.pytorch.num_threads=1 \
 *   org.semiweak.train.ThroughputProbe [small|resnet18|all]
 * </pre>
 */
public final class ThroughputProbe {
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
      probe(ModelSpec.resNet18(100), 16, 3);
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
    LocalTrainingOutcome t = LocalTrainer.trainSteps(spec, w, ModelWeights.empty(), shard, 2, steps, o, 0);
    double inferRate;
    try (Inference model = Inference.open(spec, w, Device.cpu(), Math.max(batch, 64))) {
      model.probabilitiesOfPixels(pixels.subList(0, batch)); // warm-up
      int rounds = Math.max(1, steps / 4);
      long start = System.nanoTime();
      for (int r = 0; r < rounds; r++) {
        model.probabilitiesOfPixels(pixels);
      }
      inferRate = rounds * (double) n / ((System.nanoTime() - start) / 1e9);
    }
    System.out.printf(Locale.ROOT, "%-70s train %7.1f img/s (batch %d, %d steps)   inference %7.1f img/s%n",
        spec, t.examples() / t.seconds(), batch, steps, inferRate);
  }
}
