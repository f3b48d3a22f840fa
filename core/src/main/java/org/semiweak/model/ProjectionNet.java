package org.semiweak.model;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.initializer.Initializer;
import java.util.List;

/**
 * The networks that self-supervised training trains: a classifier's encoder (a {@link ModelSpec}'s
 * ResNet up to its global pooling) with a projection head in place of the classifier, {@code
 * Linear(features, hidden) - BN - ReLU - Linear(hidden, dim)} (SimCLR's head with SimCLRv2's and
 * BYOL's batch normalization), and for BYOL a predictor after it, {@code Linear(dim, hidden) - BN -
 * ReLU - Linear(hidden, dim)}, or for SwAV its prototypes after it: the projection L2-normalized,
 * then {@code Linear(dim, prototypes)} without bias, whose rows the trainer keeps at unit length, so
 * the outputs are cosine similarities to the prototypes.
 *
 * <p>It is one flat sequence: the spec's network with {@code hidden} "classes" (whose linear head is
 * the projection's first layer), BN, ReLU, the projection's second layer, then the predictor's four
 * layers. So the encoder's parameters are the classifier's under the prefix {@link #ENCODER_PREFIX}
 * (and {@link #classifierWeights} takes them over to fine-tune, with a new classifier), and the
 * network without predictor (BYOL's target) has the same parameter names as the first part of the
 * network with it (BYOL's online network).
 */
public final class ProjectionNet {
  private ProjectionNet() {}

  /** What the encoder's parameter names start with inside this network. */
  static final String ENCODER_PREFIX = "01SequentialBlock_";

  /**
   * A new, uninitialized network for {@code spec}'s encoder and a projection head of {@code hidden}
   * and {@code dim} units, with a predictor of the same sizes when {@code predictor}.
   */
  public static Block newBlock(ModelSpec spec, int hidden, int dim, boolean predictor) {
    return newBlock(spec, hidden, dim, predictor, 0);
  }

  /** {@link #newBlock(ModelSpec, int, int, boolean)} with {@code prototypes} SwAV prototypes after the projection (0: none). */
  public static Block newBlock(ModelSpec spec, int hidden, int dim, boolean predictor, int prototypes) {
    if (predictor && prototypes > 0) {
      throw new IllegalArgumentException("a predictor (BYOL) or prototypes (SwAV), not both");
    }
    SequentialBlock net = new SequentialBlock()
        .add(spec.withNumClasses(hidden).newBlock())
        .add(BatchNorm.builder().build())
        .add(Activation.reluBlock())
        .add(Linear.builder().setUnits(dim).build());
    if (predictor) {
      net.add(Linear.builder().setUnits(hidden).build())
          .add(BatchNorm.builder().build())
          .add(Activation.reluBlock())
          .add(Linear.builder().setUnits(dim).build());
    }
    if (prototypes > 0) {
      net.add(ai.djl.nn.LambdaBlock.singleton(ProjectionNet::unitRows, "l2normalize"))
          .add(Linear.builder().setUnits(prototypes).optBias(false).build());
    }
    return net;
  }

  /** Each row of {@code x} divided by its L2 norm (at least 1e-12). */
  public static ai.djl.ndarray.NDArray unitRows(ai.djl.ndarray.NDArray x) {
    return x.div(x.norm(new int[] {1}, true).maximum(1e-12f));
  }

  /** {@link #newBlock}, initialized (to zeros: the values come from {@link #initial} or a checkpoint). */
  public static Block newInitializedBlock(ModelSpec spec, int hidden, int dim, boolean predictor, NDManager manager) {
    return newInitializedBlock(spec, hidden, dim, predictor, 0, manager);
  }

  /** The same with SwAV's prototypes. */
  public static Block newInitializedBlock(ModelSpec spec, int hidden, int dim, boolean predictor, int prototypes,
      NDManager manager) {
    Engines.configure();
    Block block = newBlock(spec, hidden, dim, predictor, prototypes);
    block.setInitializer(Initializer.ZEROS, Parameter.Type.WEIGHT);
    block.initialize(manager, DataType.FLOAT32, spec.inputShape(1));
    return block;
  }

  /** Deterministic initial weights, drawn as {@link ModelWeights#initial(ModelSpec, long)} draws a classifier's. */
  public static ModelWeights initial(ModelSpec spec, int hidden, int dim, boolean predictor, long seed) {
    return initial(spec, hidden, dim, predictor, 0, seed);
  }

  /** The same with SwAV's prototypes (their rows drawn like a linear layer's, then made unit length by training). */
  public static ModelWeights initial(ModelSpec spec, int hidden, int dim, boolean predictor, int prototypes, long seed) {
    return ModelWeights.initial(newBlock(spec, hidden, dim, predictor, prototypes), spec.inputShape(1), seed,
        ModelWeights.INIT_DEFAULT);
  }

  /**
   * A classifier of {@code spec} with the encoder of {@code trained} (weights of this network for the
   * same spec, with or without predictor) and the classifier of {@link ModelWeights#initial(ModelSpec,
   * long) initial(spec, seed)}: the heads are dropped, as SimCLR and BYOL do before fine-tuning.
   *
   * @throws IllegalArgumentException if {@code trained} lacks an encoder tensor of {@code spec} or has
   *     it in another shape (weights of another architecture)
   */
  public static ModelWeights classifierWeights(ModelWeights trained, ModelSpec spec, long seed) {
    ModelWeights fresh = ModelWeights.initial(spec, seed);
    List<String> names = fresh.names();
    // The classifier is the network's only linear layer, its last two tensors.
    String head = names.get(names.size() - 2);
    if (!head.endsWith("Linear_weight")) {
      throw new IllegalStateException("expected the classifier's linear weight last but one, found " + head + " (a bug)");
    }
    ModelWeights.Builder out = ModelWeights.builder();
    for (int i = 0; i < names.size(); i++) {
      String name = names.get(i);
      if (i >= names.size() - 2) {
        out.addOwned(name, fresh.shape(name), fresh.values(name));
        continue;
      }
      String encoderName = ENCODER_PREFIX + name;
      if (!trained.contains(encoderName)) {
        throw new IllegalArgumentException("the self-supervised weights have no tensor '" + encoderName + "': they were"
            + " not trained for " + spec);
      }
      if (!java.util.Arrays.equals(trained.shape(encoderName), fresh.shape(name))) {
        throw new IllegalArgumentException("the self-supervised tensor '" + encoderName + "' has shape "
            + java.util.Arrays.toString(trained.shape(encoderName)) + ", the classifier's " + java.util.Arrays.toString(
                fresh.shape(name)) + ": they were not trained for " + spec);
      }
      out.addOwned(name, fresh.shape(name), trained.values(encoderName));
    }
    return out.build();
  }
}
