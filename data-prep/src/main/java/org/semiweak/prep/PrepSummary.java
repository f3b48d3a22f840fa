package org.semiweak.prep;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.semiweak.run.StageManifest;
import org.semiweak.run.result.PrepResult;
import org.semiweak.util.Progress;

/**
 * The end summary of a prep, as people read it: images per split and class (the validation split
 * only when it holds images), tag coverage, known and unknown tags, evaluation labels, quarantine by
 * reason, duplicates and the accounting of each input. Printed when prep ends and by {@code semiweak status}, from the committed manifest.
 */
public final class PrepSummary {
  /** The class column value of images without a label (unlabeled images without an evaluation label). */
  public static final String NO_LABEL = "(no label)";

  private PrepSummary() {}

  /** The summary of a committed prep stage. */
  public static String text(StageManifest prep) {
    return text(prep.counts(), prep.result(PrepResult.class));
  }

  /** The summary from a prep's record counts and result. */
  public static String text(Map<String, Long> counts, PrepResult r) {
    StringBuilder sb = new StringBuilder();
    // A prep without validation images (and every prep from before the split existed) reads as it always did.
    List<String> splits = PrepareImages.SPLITS.stream()
        .filter(s -> !s.equals(SourceRecords.VALIDATION) || count(counts, "written." + s) > 0).toList();
    sb.append(String.format(Locale.ROOT, "  splits: %s (in %,d = written %,d + quarantined %,d + duplicates %,d)%n",
        splits.stream().map(s -> s + " " + String.format(Locale.ROOT, "%,d", count(counts, "written." + s)))
            .collect(Collectors.joining(", ")),
        count(counts, "in"), count(counts, "written"), count(counts, "quarantined"), count(counts, "duplicates")));
    int nameWidth = Math.max(30, r.classes().stream().mapToInt(String::length).max().orElse(0) + 4);
    sb.append(pad(String.format(Locale.ROOT, "  classes (%d)", r.classes().size()), 4 + nameWidth));
    for (String s : splits) {
      sb.append(String.format(Locale.ROOT, " %10s", s));
    }
    sb.append('\n');
    List<String> rows = new ArrayList<>();
    for (int c = 0; c < r.classes().size(); c++) {
      rows.add(r.classes().get(c));
    }
    rows.add(NO_LABEL);
    for (int c = 0; c < rows.size(); c++) {
      String cls = rows.get(c);
      String label = c < r.classes().size() ? String.format(Locale.ROOT, "%2d %s", c, cls) : "   " + cls;
      sb.append(pad("    " + label, 4 + nameWidth));
      for (String s : splits) {
        sb.append(String.format(Locale.ROOT, " %,10d", r.perClass().getOrDefault(s, Map.of()).getOrDefault(cls, 0L)));
      }
      sb.append('\n');
    }
    long labeled = count(counts, "written.labeled");
    List<String> without = PrepareImages.classesWithoutLabeledImages(r.classes(), r.perClass());
    if (labeled > 0 && !without.isEmpty()) {
      sb.append("  classes without a labeled image: ").append(without).append('\n');
    }
    long unlabeled = count(counts, "written.unlabeled");
    sb.append(String.format(Locale.ROOT, "  tags: %,d known, %,d unknown (not in the vocabulary, ignored);"
            + " unlabeled images with a known tag: %s%n", count(counts, "tags.known"), count(counts, "tags.unknown"),
        r.unlabeledTagCoverage() == null ? "n/a" : String.format(Locale.ROOT, "%.1f%%", 100 * r.unlabeledTagCoverage())));
    Long evalLabels = counts.get("unlabeled.with-eval-label");
    if (evalLabels != null && unlabeled > 0) {
      sb.append(evalLabels > 0
          ? String.format(Locale.ROOT, "  evaluation labels: %,d of %,d unlabeled images carry one (never trained on;"
              + " pseudo-label precision is measured on them)%n", evalLabels, unlabeled)
          : "  evaluation labels: none, so selection precision will be n/a (give unlabeled images an eval_label"
              + " to measure it)\n");
    }
    if (r.simulatedTagAccuracy() != null) {
      sb.append(String.format(Locale.ROOT, "  simulated tags: %.1f%% name the true class%n",
          100 * r.simulatedTagAccuracy()));
    }
    String reasons = counts.entrySet().stream()
        .filter(e -> e.getKey().startsWith("quarantined.") && e.getValue() > 0)
        .map(e -> e.getKey().substring("quarantined.".length()) + " " + String.format(Locale.ROOT, "%,d", e.getValue()))
        .collect(Collectors.joining(", "));
    sb.append("  quarantine: ").append(reasons.isEmpty() ? "none" : reasons).append(" (prep/quarantine)\n");
    sb.append(String.format(Locale.ROOT, "  duplicates: %,d dropped (prep/duplicates lists each with the image id it"
        + " duplicated)%n", count(counts, "duplicates")));
    if (r.inputs() != null) {
      for (PrepResult.InputAccount in : r.inputs()) {
        // One input needs no name: its ids are as in the input; several are told apart by name.
        sb.append(String.format(Locale.ROOT, "  input%s (%s %s, %s): in %,d = written %,d (%s) + quarantined %,d%s"
                + " + duplicates %,d%n", r.inputs().size() == 1 ? "" : " " + in.name(), in.source(), in.path(),
            Progress.formatBytes(in.bytes()), in.in(),
            sum(in.written()),
            in.written().entrySet().stream().filter(e -> e.getValue() > 0)
                .map(e -> e.getKey() + " " + String.format(Locale.ROOT, "%,d", e.getValue()))
                .collect(Collectors.joining(", ")),
            sum(in.quarantined()),
            in.quarantined().isEmpty() ? "" : " (" + in.quarantined().entrySet().stream()
                .map(e -> e.getKey() + " " + String.format(Locale.ROOT, "%,d", e.getValue()))
                .collect(Collectors.joining(", ")) + ")",
            in.duplicates()));
        if (in.skippedFiles() > 0) {
          sb.append(String.format(Locale.ROOT, "    skipped files (no data, not records): %,d: %s%s%n", in.skippedFiles(),
              String.join(", ", in.skipped()), in.skippedFiles() > in.skipped().size() ? ", ..." : ""));
        }
      }
    }
    return sb.toString();
  }

  private static String pad(String s, int width) {
    return s + " ".repeat(Math.max(1, width - s.length()));
  }

  private static long count(Map<String, Long> counts, String key) {
    return counts.getOrDefault(key, 0L);
  }

  private static long sum(Map<String, Long> m) {
    return m.values().stream().mapToLong(Long::longValue).sum();
  }
}
