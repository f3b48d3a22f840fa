package org.semiweak.run;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.semiweak.config.ConfigException;
import org.semiweak.run.result.Publication;

/**
 * What the stages of a run directory publish, whether committed or only planned earlier in the same
 * pipeline. The pipeline folds every stage's {@link Stage#plan(Upstream)} over it before the first
 * Spark job, so that a stage whose input does not exist or does not fit fails at once.
 */
public final class Upstream {
  /** An upstream stage: where its output is, its fingerprint, and what it publishes. */
  public record Known(StageId id, String path, String fingerprint, Publication publication, boolean committed) {}

  private final RunDir run;
  private final Map<StageId, Known> planned = new LinkedHashMap<>();
  private final Map<StageId, Optional<Known>> committed = new java.util.HashMap<>();

  public Upstream(RunDir run) {
    this.run = run;
  }

  /** Records a stage planned to run before the ones planned after it. */
  public void planned(StagePlan plan) {
    planned.put(plan.id(), new Known(plan.id(), run.stagePath(plan.id()).toString(), plan.fingerprint(),
        plan.publication(), false));
  }

  /** The stage as planned earlier in this pipeline, else as committed, else empty. */
  public Optional<Known> find(StageId id) {
    Known p = planned.get(id);
    if (p != null) {
      return Optional.of(p);
    }
    // Planning asks for the same upstream stage several times: read each manifest once.
    return committed.computeIfAbsent(id, k -> run.committed(k).map(m -> new Known(k, run.stagePath(k).toString(),
        m.fingerprint(), m.typedResult().publication(), true)));
  }

  /** The stage {@code neededBy} reads; a {@link ConfigException} naming the stage and what to run if it is neither planned nor committed. */
  public Known require(StageId id, StageId neededBy) {
    return find(id).orElseThrow(() -> new ConfigException(
        neededBy + " needs the output of stage '" + id + "', which is neither committed in " + run.root()
            + " nor planned before it. Run that stage first (semiweak status " + run.root()
            + " lists what is committed)."));
  }

  /** The publication of an upstream stage, of the type its kind publishes. */
  public <P extends Publication> P require(StageId id, Class<P> type, StageId neededBy) {
    Known k = require(id, neededBy);
    if (!type.isInstance(k.publication())) {
      throw new ConfigException(neededBy + " needs a " + type.getSimpleName().toLowerCase(java.util.Locale.ROOT)
          + " stage, but '" + id + "' is a " + id.kind().command() + " stage");
    }
    return type.cast(k.publication());
  }

  /**
   * Every model stage planned in this pipeline or committed, in path order; a damaged model stage
   * that this pipeline does not rebuild is an error naming the repair, not a model silently left out.
   */
  public List<Known> models() {
    Map<StageId, Known> all = new java.util.TreeMap<>();
    for (StageStatus st : run.statuses(false)) {
      StageId id = RunLayout.parse(st.stage());
      if (!id.kind().producesModel() || planned.containsKey(id)) {
        continue;
      }
      if (st.state() == StageStatus.State.DAMAGED) {
        throw new ConfigException("model stage '" + id + "' in " + run.root() + " is damaged: "
            + String.join("; ", st.problems()) + ". Repair it with: " + st.repair());
      }
      if (st.usable()) {
        find(id).ifPresent(k -> all.put(id, k));
      }
    }
    planned.values().stream().filter(k -> k.id().kind().producesModel()).forEach(k -> all.put(k.id(), k));
    return new ArrayList<>(all.values());
  }

  /**
   * Every stage planned in this pipeline or committed and usable, in path order, except {@code except}'s
   * own kind (the report does not report on itself). Damaged stages are left out: {@link RunDir#statuses}
   * lists them with their repair.
   */
  public List<Known> stages(StageKind except) {
    Map<StageId, Known> all = new java.util.TreeMap<>();
    for (StageStatus st : run.statuses(false)) {
      StageId id = RunLayout.parse(st.stage());
      if (id.kind() != except && st.usable() && !planned.containsKey(id)) {
        find(id).ifPresent(k -> all.put(id, k));
      }
    }
    planned.values().stream().filter(k -> k.id().kind() != except).forEach(k -> all.put(k.id(), k));
    return new ArrayList<>(all.values());
  }
}
