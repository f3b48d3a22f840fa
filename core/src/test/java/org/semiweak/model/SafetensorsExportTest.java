package org.semiweak.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.semiweak.util.Json;

/**
 * The safetensors layout of an export: PyTorch's state_dict names in the order of the DJL block's
 * parameters, every tensor's bytes where its header entry says, and the architecture in the metadata.
 * (ModelExportTest in pipeline-driver loads an export in PyTorch and compares logits.)
 */
class SafetensorsExportTest {

  static byte[] export(ModelSpec spec, ModelWeights weights) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SafetensorsExport.write(out, spec, weights, Map.of("stage", "baseline"));
    return out.toByteArray();
  }

  @Test
  void everyTensorOfASmallAndALargeStemNetworkIsNamedAsInPyTorchAndStoredLittleEndianWhereTheHeaderSays()
      throws Exception {
    for (ModelSpec spec : List.of(ModelSpec.smallResNet(1, 28, 10, 2, 16, 32),
        new ModelSpec(ModelSpec.STEM_LARGE, new int[] {1, 1}, new int[] {16, 32}, 3, 32, 5,
            new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f}))) {
      ModelWeights weights = ModelWeights.initial(spec, 3);
      byte[] file = export(spec, weights);
      ByteBuffer buf = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
      long headerLength = buf.getLong();
      assertThat(headerLength % 8).as("the header is padded to 8 bytes").isZero();
      JsonNode header = Json.MAPPER.readTree(new String(file, 8, (int) headerLength, StandardCharsets.UTF_8));
      List<String> names = new ArrayList<>();
      header.fieldNames().forEachRemaining(names::add);
      assertThat(names.get(0)).isEqualTo("__metadata__");
      List<SafetensorsExport.Tensor> expected = SafetensorsExport.tensors(spec);
      assertThat(names.subList(1, names.size())).as("%s: tensors in the DJL order, with PyTorch's names", spec)
          .containsExactlyElementsOf(expected.stream().map(SafetensorsExport.Tensor::name).toList());
      assertThat(names).contains("features.0.weight", "features.1.running_var", "head.weight", "head.bias");
      long end = 0;
      for (int i = 0; i < expected.size(); i++) {
        JsonNode entry = header.get(expected.get(i).name());
        String djl = weights.names().get(i);
        assertThat(entry.get("dtype").asText()).isEqualTo("F32");
        assertThat(Json.MAPPER.convertValue(entry.get("shape"), long[].class)).isEqualTo(weights.shape(djl));
        long from = entry.get("data_offsets").get(0).asLong();
        assertThat(from).as("tensors back to back").isEqualTo(end);
        end = entry.get("data_offsets").get(1).asLong();
        float[] values = weights.values(djl);
        ByteBuffer data = ByteBuffer.wrap(file, (int) (8 + headerLength + from), values.length * 4)
            .order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
          assertThat(data.getFloat()).isEqualTo(v);
        }
      }
      assertThat(8 + headerLength + end).as("nothing after the last tensor").isEqualTo(file.length);
      JsonNode meta = header.get("__metadata__");
      assertThat(meta.get("stem").asText()).isEqualTo(spec.stem());
      assertThat(meta.get("widths").asText()).isEqualTo("[16,32]");
      assertThat(meta.get("num_classes").asText()).isEqualTo(String.valueOf(spec.numClasses()));
      assertThat(meta.get("stage").asText()).isEqualTo("baseline");
      assertThat(ModelSpec.fromJson(meta.get("spec").asText())).isEqualTo(spec);
    }
  }

  @Test
  void weightsOfAnotherArchitectureAreRefused() {
    ModelSpec spec = ModelSpec.smallResNet(1, 28, 10, 1, 16, 32);
    ModelWeights other = ModelWeights.initial(ModelSpec.smallResNet(1, 28, 10, 1, 16, 64), 3);
    assertThatThrownBy(() -> export(spec, other)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("but the PyTorch module expects");
  }
}
