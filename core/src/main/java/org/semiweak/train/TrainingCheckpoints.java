package org.semiweak.train;

import org.semiweak.util.HadoopFiles;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.semiweak.model.ModelIO;
import org.semiweak.model.ModelWeights;
import org.semiweak.util.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Round checkpoints in a folder: {@code round-NNNNNN/} holding {@code weights.bin}, {@code
 * optimizer.bin} and {@code checkpoint.json} (round, step, learning curve, run fingerprint).
 *
 * <p>A checkpoint is written into {@code _tmp-round-NNNNNN-<uuid>/} and renamed when complete, so
 * a {@code round-*} folder is always whole. Only the newest {@link #KEEP} of this run are kept;
 * checkpoints of another run (other fingerprint) are ignored with a warning, and removed once
 * this run has written its own.
 */
final class TrainingCheckpoints {
  private static final Logger LOG = LoggerFactory.getLogger(TrainingCheckpoints.class);
  static final int KEEP = 2;
  static final String WEIGHTS = "weights.bin";
  static final String OPTIMIZER = "optimizer.bin";
  static final String META = "checkpoint.json";
  private static final Pattern ROUND_DIR = Pattern.compile("round-(\\d{6,})");

  private final FileSystem fs;
  private final Path dir;
  private final String runFingerprint;

  TrainingCheckpoints(FileSystem fs, Path dir, String runFingerprint) {
    this.fs = fs;
    this.dir = dir;
    this.runFingerprint = runFingerprint;
  }

  /** A restored training state after {@code round}. */
  record State(int round, long globalStep, ModelWeights weights, ModelWeights optimizerState,
      List<CurvePoint> curve, long examplesSeen) {}

  /** Contents of {@code checkpoint.json}. */
  record Meta(
      @JsonProperty("round") int round,
      @JsonProperty("globalStep") long globalStep,
      @JsonProperty("examplesSeen") long examplesSeen,
      @JsonProperty("runFingerprint") String runFingerprint,
      @JsonProperty("learningCurve") List<CurvePoint> learningCurve) {}

  /** The newest complete checkpoint of this run, if any; warns about checkpoints of other runs. */
  Optional<State> latest() {
    try {
      if (!fs.exists(dir)) {
        return Optional.empty();
      }
      List<Path> rounds = roundDirs();
      for (int i = rounds.size() - 1; i >= 0; i--) {
        Path p = rounds.get(i);
        Meta meta;
        try {
          meta = Json.read(new String(ModelIO.readFully(fs, new Path(p, META)), StandardCharsets.UTF_8), Meta.class);
        } catch (RuntimeException e) {
          LOG.warn("ignoring unreadable checkpoint {}: {}", p, e.getMessage());
          continue;
        }
        if (!runFingerprint.equals(meta.runFingerprint())) {
          LOG.warn("ignoring checkpoint {}: it belongs to another run (options, model spec or initial weights"
              + " differ: fingerprint {} vs {}); starting fresh, it will be replaced", p, meta.runFingerprint(),
              runFingerprint);
          continue;
        }
        ModelWeights weights = ModelWeights.fromBytes(ModelIO.readFully(fs, new Path(p, WEIGHTS)));
        ModelWeights optimizer = ModelWeights.fromBytes(ModelIO.readFully(fs, new Path(p, OPTIMIZER)));
        return Optional.of(new State(meta.round(), meta.globalStep(), weights, optimizer, meta.learningCurve(),
            meta.examplesSeen()));
      }
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list checkpoints in " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Writes the state after a round, then removes older checkpoints and checkpoints of other runs. */
  void write(State s) {
    String name = String.format(Locale.ROOT, "round-%06d", s.round());
    Path tmp = new Path(dir, "_tmp-" + name + "-" + UUID.randomUUID());
    Path target = new Path(dir, name);
    try {
      fs.mkdirs(tmp);
      HadoopFiles.writeAtomically(fs, new Path(tmp, WEIGHTS), s.weights().toBytes());
      HadoopFiles.writeAtomically(fs, new Path(tmp, OPTIMIZER), s.optimizerState().toBytes());
      Meta meta = new Meta(s.round(), s.globalStep(), s.examplesSeen(), runFingerprint, s.curve());
      HadoopFiles.writeAtomically(fs, new Path(tmp, META), Json.write(meta).getBytes(StandardCharsets.UTF_8));
      if (fs.exists(target)) {
        fs.delete(target, true);
      }
      if (!fs.rename(tmp, target)) {
        throw new IOException("cannot rename " + tmp + " to " + target);
      }
      prune();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write checkpoint " + target + ": " + e.getMessage(), e);
    }
  }

  private void prune() throws IOException {
    List<Path> rounds = roundDirs();
    int kept = 0;
    for (int i = rounds.size() - 1; i >= 0; i--) {
      Path p = rounds.get(i);
      boolean ours = isOurs(p);
      if (ours && kept < KEEP) {
        kept++;
      } else {
        fs.delete(p, true);
      }
    }
    for (FileStatus st : fs.listStatus(dir)) {
      if (st.getPath().getName().startsWith("_tmp-round-")) {
        fs.delete(st.getPath(), true); // left behind by a crash mid-write
      }
    }
  }

  private boolean isOurs(Path p) {
    try {
      Meta meta = Json.read(new String(ModelIO.readFully(fs, new Path(p, META)), StandardCharsets.UTF_8), Meta.class);
      return runFingerprint.equals(meta.runFingerprint());
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static long roundOf(Path p) {
    Matcher m = ROUND_DIR.matcher(p.getName());
    return m.matches() ? Long.parseLong(m.group(1)) : -1;
  }

  /** Complete checkpoint folders, oldest round first. */
  private List<Path> roundDirs() throws IOException {
    List<Path> out = new ArrayList<>();
    for (FileStatus st : fs.listStatus(dir)) {
      if (st.isDirectory() && ROUND_DIR.matcher(st.getPath().getName()).matches()) {
        out.add(st.getPath());
      }
    }
    out.sort((a, b) -> Long.compare(roundOf(a), roundOf(b)));
    return out;
  }
}
