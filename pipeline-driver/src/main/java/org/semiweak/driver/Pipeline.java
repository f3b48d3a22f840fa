package org.semiweak.driver;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.semiweak.run.RunDir;
import org.semiweak.run.Stage;
import org.semiweak.run.StageKind;
import org.semiweak.run.StageId;
import org.semiweak.student.DistillStudent;
import org.semiweak.teacher.SelectPseudoLabels;

/**
 * The whole method as an ordered list of stages, built from a run configuration:
 * prep, then per teacher recipe train-teacher, score, select, pretrain, finetune, then the
 * supervised baseline and the evaluation of every model. Stages are ordered by kind, in pipeline
 * order, so {@code --from KIND} reruns that kind and everything after it.
 *
 * <p>Opt-in: when the config has a {@code distill} section (even an empty one), every teacher also
 * gets distill (from its scores) and a finetune of the distilled student, which evaluate reports.
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

      if (config.hasSection(StageKind.DISTILL)) {
        // The distilled student is the student architecture too: take it from pretrain unless set.
        Map<String, Object> dis = withStudentArchitecture(config.section(StageKind.DISTILL), config);
        dis.put("teacher", teacher);
        DistillStudent distill = (DistillStudent) StageCatalog.DISTILL.create(run, dis);
        all.add(distill);
        Map<String, Object> dfin = config.section(StageKind.FINETUNE);
        dfin.put("teacher", teacher);
        dfin.put("selection", distill.name());
        Stage distilledFinetune = StageCatalog.FINETUNE.create(run, dfin);
        all.add(distilledFinetune);
        models.add(distilledFinetune.id());
      }
    }
    // The baseline is the student architecture: take it from the pretrain section unless set.
    Map<String, Object> base = withStudentArchitecture(config.section(StageKind.BASELINE), config);
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

  /** {@code section} with the architecture keys of the pretrain section that it does not set itself. */
  private static Map<String, Object> withStudentArchitecture(Map<String, Object> section, RunConfig config) {
    Map<String, Object> pre = config.section(StageKind.PRETRAIN);
    for (String key : ARCHITECTURE_KEYS) {
      if (!section.containsKey(key) && pre.containsKey(key)) {
        section.put(key, pre.get(key));
      }
    }
    return section;
  }
}
