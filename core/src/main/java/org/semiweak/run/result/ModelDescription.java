package org.semiweak.run.result;

/**
 * A committed model as later stages and people see it.
 *
 * @param type {@code semiweak-resnet} (trained here) or {@code torchscript} (a user's file)
 * @param architecture the ResNet's description, or {@code external} for a TorchScript file whose
 *     architecture semiweak does not know
 * @param fingerprint SHA-256 of the weights, or of the TorchScript file
 * @param inputSize side of the square images it takes
 * @param channels channels of the images it takes
 * @param classes classes it predicts
 * @param importedFrom the file a TorchScript model was imported from; null for trained models
 */
public record ModelDescription(String type, String architecture, String fingerprint, int inputSize, int channels,
    int classes, String importedFrom) {

  public static final String EXTERNAL = "external";

  public Publication.Model publication() {
    return new Publication.Model(inputSize, channels, classes);
  }
}
