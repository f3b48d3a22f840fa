package org.semiweak.driver;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.StageKind;
import org.semiweak.run.StageStatus;
import org.semiweak.run.Versions;
import org.semiweak.run.StageManifest;
import org.semiweak.run.result.EvaluationResult;
import org.semiweak.run.result.SelectionResult;

/** The text a person reads at the end of a run: what each stage did and what the pipeline bought. */
public final class Report {
  private Report() {}

  /** Why a selection's precision can be n/a, and how to measure it. */
  static final String PRECISION_UNKNOWN = "precision n/a: the unlabeled images carry no true label; give them an "
      + "eval_label (metadata column or sidecar field; never trained on) to measure it. See 'semiweak help prep'.";

  /** What the validation column is, under the accuracy table that has one. */
  static final String VALIDATION_NOTE = "val %: top-1 on prep's validation split (labeled images no stage trains on); "
      + "choose options on it, report the test set.";

  static String countsLine(StageManifest m) {
    return countsLine(m.counts());
  }

  static String countsLine(java.util.Map<String, Long> counts) {
    if (counts.isEmpty()) {
      return "no record counts";
    }
    return counts.entrySet().stream()
        .filter(e -> !e.getKey().contains(".") || e.getKey().startsWith("written."))
        .map(e -> e.getKey() + "=" + String.format(Locale.ROOT, "%,d", e.getValue()))
        .collect(Collectors.joining(", "));
  }

  /** The end-of-run table: accuracy of every evaluated model, selection precision, wall time per stage. */
  public static String table(List<StageOutcome> outcomes) {
    StringBuilder sb = new StringBuilder();
    for (StageOutcome o : outcomes) {
      if (o.id().kind() == StageKind.EVALUATE) {
        EvaluationResult result = o.manifest().result(EvaluationResult.class);
        // The validation column only when prep wrote a validation split: otherwise the table is as it always was.
        boolean validation = result.hasValidation();
        sb.append(String.format(Locale.ROOT, "%-44s %-10s %8s %8s", "model (test set)", "role", "top-1 %", "top-5 %"));
        sb.append(validation ? String.format(Locale.ROOT, " %8s%n", "val %") : "\n");
        for (EvaluationResult.ModelEvaluation row : result.models()) {
          sb.append(String.format(Locale.ROOT, "%-44s %-10s %8.2f %8.2f",
              row.model(), row.role(), 100 * row.top1(), 100 * row.top5()));
          if (validation) {
            sb.append(row.validation() == null ? String.format(Locale.ROOT, " %8s", "n/a")
                : String.format(Locale.ROOT, " %8.2f", 100 * row.validation().top1()));
          }
          sb.append('\n');
        }
        if (validation) {
          sb.append(VALIDATION_NOTE).append('\n');
        }
        sb.append('\n');
      }
    }
    boolean header = false;
    boolean precisionUnknown = false;
    for (StageOutcome o : outcomes) {
      if (o.id().kind() == StageKind.SELECT) {
        if (!header) {
          sb.append(String.format(Locale.ROOT, "%-44s %10s %12s%n", "selection", "selected", "precision %"));
          header = true;
        }
        Double p = o.manifest().result(SelectionResult.class).precision();
        precisionUnknown |= p == null;
        Long sel = o.manifest().counts().get("selected");
        sb.append(String.format(Locale.ROOT, "%-44s %,10d %12s%n", o.id(), sel == null ? 0 : sel,
            p == null ? "n/a" : String.format(Locale.ROOT, "%.2f", 100 * p)));
      }
    }
    if (precisionUnknown) {
      sb.append(PRECISION_UNKNOWN).append('\n');
    }
    if (header) {
      sb.append('\n');
    }
    sb.append(String.format(Locale.ROOT, "%-44s %-8s %10s%n", "stage", "action", "wall s"));
    for (StageOutcome o : outcomes) {
      double secs = o.action() == StageOutcome.Action.RAN ? o.seconds() : o.manifest().seconds();
      sb.append(String.format(Locale.ROOT, "%-44s %-8s %10.1f%n", o.id(),
          o.action().label(), secs));
    }
    return sb.toString();
  }

  /**
   * {@code SUMMARY.md}: the table a command prints, with the run's other committed stages added (as
   * {@code earlier}), so that one file tells the state of the whole run when each stage is its own
   * command (Airflow tasks, cluster-mode drivers whose console nobody reads).
   */
  static String summary(RunDir run, List<StageOutcome> outcomes) {
    Set<String> here = outcomes.stream().map(o -> o.id().path()).collect(Collectors.toSet());
    List<StageOutcome> all = new ArrayList<>(outcomes);
    for (StageStatus st : run.statuses(false)) {
      if (st.usable() && !here.contains(st.stage())) {
        all.add(new StageOutcome(RunLayout.parse(st.stage()), StageOutcome.Action.COMMITTED_EARLIER, st.manifest(), 0));
      }
    }
    // Pipeline order; within a kind, this command's stages first, in their order.
    all.sort(Comparator.comparing(o -> o.id().kind()));
    long ran = outcomes.stream().filter(o -> o.action() == StageOutcome.Action.RAN).count();
    return "# semiweak run " + run.root() + "\n\n"
        + "Written " + Instant.now() + " by semiweak " + Versions.semiweak() + " at the end of a command that ran "
        + ran + " and reused " + (outcomes.size() - ran) + " of its " + outcomes.size() + " stages. Rows marked"
        + " `earlier` are other stages committed in this run directory; `semiweak status` tells whether each is"
        + " still current.\n\n```\n" + table(all) + "```\n";
  }
}
