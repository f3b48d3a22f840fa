package org.semiweak.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Small TorchScript models made with Debian's python3-torch, for tests that import a user's teacher:
 * a 3x3 convolution to 8 channels, global average pooling and a linear head, traced for
 * CHANNELS x 28 x 28 images. Broken ones too ({@link Kind}): NaN for every image, or only for images
 * whose normalized mean lies in (-0.9, -0.1) (dark images; none of the import check's probe images).
 */
public final class TorchScriptModels {
  /** The interpreter with torch: Debian's, as .ci/run installs it (python3-torch). */
  public static final String PYTHON = "/usr/bin/python3";

  private static final String MAKE_MODELS = String.join("\n",
      "import sys, torch",
      "class Net(torch.nn.Module):",
      "    def __init__(self, channels, classes, kind):",
      "        super().__init__()",
      "        self.conv = torch.nn.Conv2d(channels, 8, 3, padding=1)",
      "        self.fc = torch.nn.Linear(8, classes)",
      "        self.kind = kind",
      "    def forward(self, x):",
      "        logits = self.fc(torch.relu(self.conv(x)).mean(dim=(2, 3)))",
      "        if self.kind == 'nan':",
      "            return logits * float('nan')",
      "        if self.kind == 'nan-dark':",
      "            m = x.mean(dim=(1, 2, 3))",
      "            dark = ((m > -0.9) & (m < -0.1)).unsqueeze(1)",
      "            return torch.where(dark, torch.full_like(logits, float('nan')), logits)",
      "        return logits",
      "torch.manual_seed(0)",
      "for arg in sys.argv[1:]:",
      "    p = arg.split(':')",
      "    kind = 'plain' if p[-1].isdigit() else p.pop()",
      "    classes = int(p.pop()); channels = int(p.pop()); out = ':'.join(p)",
      "    net = Net(channels, classes, kind).eval()",
      "    torch.jit.trace(net, torch.zeros(1, channels, 28, 28)).save(out)",
      "");

  private TorchScriptModels() {}

  /** Whether {@link #PYTHON} can import torch. */
  public static boolean torchAvailable() throws IOException, InterruptedException {
    if (!Files.isExecutable(Path.of(PYTHON))) {
      return false;
    }
    Process p = new ProcessBuilder(PYTHON, "-c", "import torch").redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    return p.waitFor(180, TimeUnit.SECONDS) && p.exitValue() == 0;
  }

  /**
   * Makes one model per {@code FILE:CHANNELS:CLASSES} argument in one python3 process (importing
   * torch takes seconds); {@code workDir} holds the script. An error with python's output if it fails.
   */
  public static void make(Path workDir, String... fileChannelsClasses) throws IOException, InterruptedException {
    Path script = workDir.resolve("make_torchscript_models.py");
    Files.writeString(script, MAKE_MODELS);
    List<String> command = new ArrayList<>(List.of(PYTHON, script.toString()));
    command.addAll(List.of(fileChannelsClasses));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(180, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("making TorchScript models needs Debian's python3-torch (apt-get install"
          + " python3-torch; .ci/run installs it); python3 said: " + log);
    }
  }

  /** One model {@code dir/name} for {@code channels} x 28 x 28 images and {@code classes} outputs. */
  public static Path make(Path dir, String name, int channels, int classes) throws IOException, InterruptedException {
    Path out = dir.resolve(name);
    make(dir, out + ":" + channels + ":" + classes);
    return out;
  }

  /** What a model returns. */
  public enum Kind {
    /** Finite logits. */
    PLAIN("plain"),
    /** NaN for every image. */
    NAN("nan"),
    /** NaN for images whose normalized mean lies in (-0.9, -0.1), finite logits for the others. */
    NAN_FOR_DARK_IMAGES("nan-dark");

    private final String arg;

    Kind(String arg) {
      this.arg = arg;
    }
  }

  /** One model of a {@link Kind}. */
  public static Path make(Path dir, String name, int channels, int classes, Kind kind)
      throws IOException, InterruptedException {
    Path out = dir.resolve(name);
    make(dir, out + ":" + channels + ":" + classes + ":" + kind.arg);
    return out;
  }
}
