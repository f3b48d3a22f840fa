package org.semiweak.driver;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.semiweak.run.RunDir;
import org.semiweak.run.Stage;

/**
 * The whole method as an ordered list of stages, built from a run configuration:
 * prep, then per teacher recipe train-teacher, score, select, pretrain, finetune, then the
 * supervised baseline and the evaluation of every model. Stages are grouped by kind, in pipeline
 * order, so {@code --from KIND} reruns that kind and everything after it.
 */
public final class Pipeline {
  public static final List<String> DEFAULT_TEACHERS = List.of("semi-weak");

  private Pipeline() {}

  public static List<Stage> build(RunConfig config, RunDir run) {
    List<String> teachers = config.teachers(DEFAULT_TEACHERS);
    List<Stage> prep = new ArrayList<>();
    List<Stage> teach = new ArrayList<>();
    List<Stage> score = new ArrayList<>();
    List<Stage> select = new ArrayList<>();
    List<Stage> pretrain = new ArrayList<>();
    List<Stage> finetune = new ArrayList<>();
    List<String> models = new ArrayList<>();

    prep.add(StageCatalog.PREP.create(run, config.section("prep")));
    for (String teacher : teachers) {
      Map<String, Object> t = config.section("train-teacher");
      t.put("recipe", teacher);
      Stage trainTeacher = StageCatalog.TRAIN_TEACHER.create(run, t);
      teach.add(trainTeacher);
      models.add(trainTeacher.path());

      Map<String, Object> s = config.section("score");
      s.put("teacher", teacher);
      score.add(StageCatalog.SCORE.create(run, s));

      Map<String, Object> sel = config.section("select");
      sel.put("teacher", teacher);
      Stage selectStage = StageCatalog.SELECT.create(run, sel);
      select.add(selectStage);
      String selection = selectStage.path().substring(selectStage.path().lastIndexOf('/') + 1);

      Map<String, Object> pre = config.section("pretrain");
      pre.put("teacher", teacher);
      pre.put("selection", selection);
      pretrain.add(StageCatalog.PRETRAIN.create(run, pre));

      Map<String, Object> fin = config.section("finetune");
      fin.put("teacher", teacher);
      fin.put("selection", selection);
      Stage finetuneStage = StageCatalog.FINETUNE.create(run, fin);
      finetune.add(finetuneStage);
      models.add(finetuneStage.path());
    }
    // The baseline is the student architecture: take it from the pretrain section unless set.
    Map<String, Object> base = config.section("baseline");
    Map<String, Object> pre = config.section("pretrain");
    for (String archKey : List.of("widths", "blocks", "stem")) {
      if (!base.containsKey(archKey) && pre.containsKey(archKey)) {
        base.put(archKey, pre.get(archKey));
      }
    }
    Stage baseline = StageCatalog.BASELINE.create(run, base);
    models.add(baseline.path());

    Map<String, Object> ev = config.section("evaluate");
    ev.putIfAbsent("models", String.join(",", models));
    Stage evaluate = StageCatalog.EVALUATE.create(run, ev);

    List<Stage> all = new ArrayList<>();
    all.addAll(prep);
    all.addAll(teach);
    all.addAll(score);
    all.addAll(select);
    all.addAll(pretrain);
    all.addAll(finetune);
    all.add(baseline);
    all.add(evaluate);
    return all;
  }
}
