package org.semiweak.driver;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.semiweak.run.RunDir;
import org.semiweak.run.Stage;
import org.semiweak.run.StageKind;
import org.semiweak.run.StageId;
import org.semiweak.teacher.SelectPseudoLabels;

/**
 * The whole method as an ordered list of stages, built from a run configuration:
 * prep, then per teacher recipe train-teacher, score, select, pretrain, finetune, then the
 * supervised baseline and the evaluation of every model. Stages are ordered by kind, in pipeline
 * order, so {@code --from KIND} reruns that kind and everything after it.
 */
public final class Pipeline {
  public static final List<String> DEFAULT_TEACHERS = List.of("semi-weak");

  /** The architecture keys the baseline takes from the student (pretrain) unless its section sets them. */
  static final List<String> ARCHITECTURE_KEYS = List.of("widths", "blocks", "stem", "norm-mean", "norm-std");

  private Pipeline() {}

  public static List<Stage> build(RunConfig config, RunDir run) {
    List<Stage> all = new ArrayList<>();
    List<StageId> models = new ArrayList<>();
    all.add(StageCatalog.PREP.create(run, config.section(StageKind.PREP)));
    for (String teacher : config.teachers(DEFAULT_TEACHERS)) {
      Map<String, Object> t = config.section(StageKind.TRAIN_TEACHER);
      t.put("recipe", teacher);
      Stage trainTeacher = StageCatalog.TRAIN_TEACHER.create(run, t);
      all.add(trainTeacher);
      models.add(trainTeacher.id());

      Map<String, Object> s = config.section(StageKind.SCORE);
      s.put("teacher", teacher);
      all.add(StageCatalog.SCORE.create(run, s));

      Map<String, Object> sel = config.section(StageKind.SELECT);
      sel.put("teacher", teacher);
      SelectPseudoLabels select = (SelectPseudoLabels) StageCatalog.SELECT.create(run, sel);
      all.add(select);

      Map<String, Object> pre = config.section(StageKind.PRETRAIN);
      pre.put("teacher", teacher);
      pre.put("selection", select.name());
      all.add(StageCatalog.PRETRAIN.create(run, pre));

      Map<String, Object> fin = config.section(StageKind.FINETUNE);
      fin.put("teacher", teacher);
      fin.put("selection", select.name());
      Stage finetune = StageCatalog.FINETUNE.create(run, fin);
      all.add(finetune);
      models.add(finetune.id());
    }
    // The baseline is the student architecture: take it from the pretrain section unless set.
    Map<String, Object> base = config.section(StageKind.BASELINE);
    Map<String, Object> pre = config.section(StageKind.PRETRAIN);
    for (String key : ARCHITECTURE_KEYS) {
      if (!base.containsKey(key) && pre.containsKey(key)) {
        base.put(key, pre.get(key));
      }
    }
    Stage baseline = StageCatalog.BASELINE.create(run, base);
    all.add(baseline);
    models.add(baseline.id());

    Map<String, Object> ev = config.section(StageKind.EVALUATE);
    ev.putIfAbsent("models", String.join(",", models.stream().map(StageId::path).toList()));
    all.add(StageCatalog.EVALUATE.create(run, ev));
    // Stable: within a kind, the teachers keep the config's order.
    all.sort(Comparator.comparing(st -> st.id().kind()));
    return all;
  }
}
