package org.semiweak.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.Test;

/** SimCLR's network: the classifier's encoder with a projection head, and back to a classifier. */
class ProjectionNetTest {
  private static final ModelSpec SPEC = ModelSpec.smallResNet(1, 16, 4, 1, 16, 32);

  @Test
  void theNetworkProjectsEachImageToDimValues() {
    ModelWeights w = ProjectionNet.initial(SPEC, 24, 8, false, 5);
    assertThat(w).as("a pure function of spec, head and seed").isEqualTo(ProjectionNet.initial(SPEC, 24, 8, false, 5));
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      Block block = ProjectionNet.newInitializedBlock(SPEC, 24, 8, false, m);
      w.copyInto(block);
      NDArray out = block.forward(new ParameterStore(m, false), new NDList(m.ones(SPEC.inputShape(3))), false)
          .singletonOrThrow();
      assertThat(out.getShape().getShape()).containsExactly(3, 8);
    }
  }

  @Test
  void theClassifierKeepsTheEncoderAndGetsAFreshHead() {
    ModelWeights trained = ProjectionNet.initial(SPEC, 24, 8, false, 5);
    ModelWeights classifier = ProjectionNet.classifierWeights(trained, SPEC, 9);
    ModelWeights fresh = ModelWeights.initial(SPEC, 9);
    assertThat(classifier.names()).as("exactly the classifier's tensors").isEqualTo(fresh.names());
    int n = fresh.names().size();
    for (int i = 0; i < n; i++) {
      String name = fresh.names().get(i);
      if (i < n - 2) {
        assertThat(classifier.values(name)).as("%s comes from the self-supervised encoder", name)
            .containsExactly(trained.values(ProjectionNet.ENCODER_PREFIX + name));
      } else {
        assertThat(name).containsPattern("Linear_(weight|bias)$");
        assertThat(classifier.values(name)).as("%s: the new classifier", name).containsExactly(fresh.values(name));
      }
    }
    // Not carried over: the projection head, Linear (2 tensors, in place of the classifier's), BN (4), Linear (2).
    assertThat(trained.names().size()).isEqualTo(n + 6);
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      classifier.copyInto(Inference.newInitializedBlock(SPEC, m));
    }
  }

  @Test
  void byolsOnlineNetworkIsItsTargetNetworkFollowedByAPredictor() {
    ModelWeights target = ProjectionNet.initial(SPEC, 24, 8, false, 5);
    ModelWeights online = ProjectionNet.initial(SPEC, 24, 8, true, 5);
    assertThat(online.names().subList(0, target.names().size())).as("the target's tensors, by the same names, first")
        .isEqualTo(target.names());
    assertThat(online.names().size()).as("then the predictor: Linear, BN, Linear").isEqualTo(target.names().size() + 8);
    for (String name : target.names()) {
      assertThat(online.shape(name)).as(name).isEqualTo(target.shape(name));
    }
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      Block block = ProjectionNet.newInitializedBlock(SPEC, 24, 8, true, m);
      online.copyInto(block);
      NDArray out = block.forward(new ParameterStore(m, false), new NDList(m.ones(SPEC.inputShape(3))), false)
          .singletonOrThrow();
      assertThat(out.getShape().getShape()).as("a prediction of the projection").containsExactly(3, 8);
    }
    // Each tensor is drawn from a stream of (seed, name): the shared tensors start equal, so do the encoders.
    assertThat(ProjectionNet.classifierWeights(online, SPEC, 9)).as("the encoder is taken over the same way")
        .isEqualTo(ProjectionNet.classifierWeights(target, SPEC, 9));
  }

  @Test
  void weightsOfAnotherArchitectureAreRefusedByName() {
    ModelWeights other = ProjectionNet.initial(ModelSpec.smallResNet(1, 16, 4, 1, 16, 48), 24, 8, false, 5);
    assertThatThrownBy(() -> ProjectionNet.classifierWeights(other, SPEC, 9))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("has shape")
        .hasMessageContaining("they were not trained for " + SPEC);
  }
}
