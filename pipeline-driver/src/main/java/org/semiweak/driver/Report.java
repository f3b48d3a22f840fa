package org.semiweak.driver;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.semiweak.run.StageManifest;

/** The text a person reads at the end of a run: what each stage did and what the pipeline bought. */
public final class Report {
  private Report() {}

  static String countsLine(StageManifest m) {
    if (m.counts().isEmpty()) {
      return "no record counts";
    }
    return m.counts().entrySet().stream()
        .filter(e -> !e.getKey().contains(".") || e.getKey().startsWith("written."))
        .map(e -> e.getKey() + "=" + String.format(Locale.ROOT, "%,d", e.getValue()))
        .collect(Collectors.joining(", "));
  }

  /** The end-of-run table: accuracy of every evaluated model, selection precision, wall time per stage. */
  public static String table(List<StageOutcome> outcomes) {
    StringBuilder sb = new StringBuilder();
    StageManifest evaluate = null;
    for (StageOutcome o : outcomes) {
      if (o.kind().equals("evaluate")) {
        evaluate = o.manifest();
      }
    }
    if (evaluate != null && evaluate.metrics().get("models") instanceof List<?> models) {
      sb.append(String.format(Locale.ROOT, "%-44s %-10s %8s %8s%n", "model (test set)", "role", "top-1 %", "top-5 %"));
      for (Object o : models) {
        if (o instanceof Map<?, ?> row) {
          sb.append(String.format(Locale.ROOT, "%-44s %-10s %8.2f %8.2f%n",
              row.get("model"), row.get("role"), pct(row.get("top1")), pct(row.get("top5"))));
        }
      }
      sb.append('\n');
    }
    boolean header = false;
    for (StageOutcome o : outcomes) {
      if (o.kind().equals("select")) {
        if (!header) {
          sb.append(String.format(Locale.ROOT, "%-44s %10s %12s%n", "selection", "selected", "precision %"));
          header = true;
        }
        Object p = o.manifest().metrics().get("precision");
        Long sel = o.manifest().counts().get("selected");
        sb.append(String.format(Locale.ROOT, "%-44s %,10d %12s%n", o.path(), sel == null ? 0 : sel,
            p instanceof Number n ? String.format(Locale.ROOT, "%.2f", 100 * n.doubleValue()) : "n/a"));
      }
    }
    if (header) {
      sb.append('\n');
    }
    sb.append(String.format(Locale.ROOT, "%-44s %-8s %10s%n", "stage", "action", "wall s"));
    for (StageOutcome o : outcomes) {
      double secs = o.action() == StageOutcome.Action.RAN ? o.seconds() : o.manifest().seconds();
      sb.append(String.format(Locale.ROOT, "%-44s %-8s %10.1f%n", o.path(),
          o.action() == StageOutcome.Action.RAN ? "ran" : "reused", secs));
    }
    return sb.toString();
  }

  private static double pct(Object v) {
    return v instanceof Number n ? 100 * n.doubleValue() : Double.NaN;
  }
}
