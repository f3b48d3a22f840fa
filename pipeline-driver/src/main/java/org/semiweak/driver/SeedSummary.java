package org.semiweak.driver;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.semiweak.run.StageKind;
import org.semiweak.run.result.EvaluationResult;
import org.semiweak.run.result.SelectionResult;

/**
 * The results of one pipeline run per seed, as mean ± sample standard deviation of every row, so
 * that a claim of one model beating another rests on more than one run. When prep wrote a validation
 * split, a second block gives every model's validation top-1 the same way.
 */
public final class SeedSummary {
  /** One row: a model's top-1 (test or validation) or a selection's precision, in percent, per seed in seed order. */
  public record Row(String name, String role, List<Double> values) {
    public double mean() {
      return values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    /** Sample standard deviation (n - 1); NaN for a single seed. */
    public double std() {
      int n = values.size();
      if (n < 2) {
        return Double.NaN;
      }
      double m = mean();
      return Math.sqrt(values.stream().mapToDouble(v -> (v - m) * (v - m)).sum() / (n - 1));
    }
  }

  private final List<Long> seeds;
  private final List<Row> models;
  private final List<Row> validation;
  private final List<Row> selections;

  private SeedSummary(List<Long> seeds, List<Row> models, List<Row> validation, List<Row> selections) {
    this.seeds = seeds;
    this.models = models;
    this.validation = validation;
    this.selections = selections;
  }

  /** Summarizes the outcomes of one run per seed (same config but the seeds). */
  public static SeedSummary of(Map<Long, List<StageOutcome>> runs) {
    Map<String, List<Double>> top1 = new LinkedHashMap<>();
    Map<String, List<Double>> validationTop1 = new LinkedHashMap<>();
    Map<String, String> roles = new LinkedHashMap<>();
    Map<String, List<Double>> precision = new LinkedHashMap<>();
    for (List<StageOutcome> outcomes : runs.values()) {
      for (StageOutcome o : outcomes) {
        if (o.id().kind() == StageKind.EVALUATE) {
          for (EvaluationResult.ModelEvaluation m : o.manifest().result(EvaluationResult.class).models()) {
            top1.computeIfAbsent(m.model(), k -> new ArrayList<>()).add(100 * m.top1());
            if (m.validation() != null) {
              validationTop1.computeIfAbsent(m.model(), k -> new ArrayList<>()).add(100 * m.validation().top1());
            }
            roles.put(m.model(), m.role());
          }
        } else if (o.id().kind() == StageKind.SELECT) {
          Double p = o.manifest().result(SelectionResult.class).precision();
          if (p != null) {
            precision.computeIfAbsent(o.id().path(), k -> new ArrayList<>()).add(100 * p);
          }
        }
      }
    }
    List<Row> models = new ArrayList<>();
    top1.forEach((k, v) -> models.add(new Row(k, roles.get(k), List.copyOf(v))));
    List<Row> validation = new ArrayList<>();
    validationTop1.forEach((k, v) -> validation.add(new Row(k, roles.get(k), List.copyOf(v))));
    List<Row> selections = new ArrayList<>();
    precision.forEach((k, v) -> selections.add(new Row(k, "selection", List.copyOf(v))));
    return new SeedSummary(List.copyOf(runs.keySet()), models, validation, selections);
  }

  public List<Row> models() {
    return models;
  }

  /** Every model's top-1 on the validation split; empty when prep wrote none. */
  public List<Row> validation() {
    return validation;
  }

  public List<Row> selections() {
    return selections;
  }

  /** The table a person reads: mean ± std and every seed's value. */
  public String table() {
    StringBuilder sb = new StringBuilder();
    String seedList = String.join(" ", seeds.stream().map(s -> String.format(Locale.ROOT, "%7s", "s" + s)).toList());
    sb.append(String.format(Locale.ROOT, "%-44s %-10s %8s %7s  %s%n", "model (test set, top-1 %)", "role", "mean",
        "± std", seedList));
    models.forEach(r -> sb.append(line(r)));
    if (!validation.isEmpty()) {
      sb.append('\n').append(String.format(Locale.ROOT, "%-44s %-10s %8s %7s  %s%n", "model (validation set, top-1 %)",
          "role", "mean", "± std", seedList));
      validation.forEach(r -> sb.append(line(r)));
    }
    if (!selections.isEmpty()) {
      sb.append('\n').append(String.format(Locale.ROOT, "%-44s %-10s %8s %7s  %s%n", "selection (precision %)", "",
          "mean", "± std", seedList));
      selections.forEach(r -> sb.append(line(r)));
    }
    sb.append(String.format(Locale.ROOT, "%n%d seeds; std is the sample standard deviation (n - 1).%n", seeds.size()));
    return sb.toString();
  }

  private static String line(Row r) {
    String values = String.join(" ", r.values().stream().map(v -> String.format(Locale.ROOT, "%7.2f", v)).toList());
    return String.format(Locale.ROOT, "%-44s %-10s %8.2f %7.2f  %s%n", r.name(), r.role().equals("selection") ? ""
        : r.role(), r.mean(), r.std(), values);
  }
}
