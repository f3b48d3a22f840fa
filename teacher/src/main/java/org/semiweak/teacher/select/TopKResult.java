package org.semiweak.teacher.select;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.semiweak.data.SelectionSchema;

/**
 * The outcome of a selection: the selected rows and what happened per class.
 *
 * <p>{@link #selection()} is materialized: persisted ({@code MEMORY_AND_DISK}) by the second pass,
 * so writing it reads the persisted rows, not the scores. {@link #close()} releases it; the
 * statistics stay valid after closing.
 */
public final class TopKResult implements AutoCloseable {
  private final Dataset<Row> selection;
  private final Runnable release;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final List<ClassStats> classStats;
  private final TopKOptions options;
  private final int numClasses;
  private final long images;
  private final int scoreBinsPerClass;
  private final double pass1Seconds;
  private final double pass2Seconds;

  TopKResult(Dataset<Row> selection, Runnable release, List<ClassStats> classStats, TopKOptions options, int numClasses,
      long images, int scoreBinsPerClass, double pass1Seconds, double pass2Seconds) {
    this.selection = selection;
    this.release = release;
    this.classStats = List.copyOf(classStats);
    this.options = options;
    this.numClasses = numClasses;
    this.images = images;
    this.scoreBinsPerClass = scoreBinsPerClass;
    this.pass1Seconds = pass1Seconds;
    this.pass2Seconds = pass2Seconds;
  }

  /**
   * The selection, {@link SelectionSchema} rows (image_id, class_index, class_name, score, rank), partitioned by
   * class and sorted by class and rank within each partition.
   */
  public Dataset<Row> selection() {
    return selection;
  }

  /** Statistics of every class {@code 0 .. numClasses-1}, in class order. */
  public List<ClassStats> classStats() {
    return classStats;
  }

  public TopKOptions options() {
    return options;
  }

  public int numClasses() {
    return numClasses;
  }

  /** Score rows read. */
  public long images() {
    return images;
  }

  /** Bins per class of the first pass's histogram. */
  public int scoreBinsPerClass() {
    return scoreBinsPerClass;
  }

  public double pass1Seconds() {
    return pass1Seconds;
  }

  public double pass2Seconds() {
    return pass2Seconds;
  }

  /** Every (image, class) pair looked at: {@code images x min(p, maxClassesPerImage)}. */
  public long considered() {
    return classStats.stream().mapToLong(ClassStats::considered).sum();
  }

  public long candidates() {
    return classStats.stream().mapToLong(ClassStats::candidates).sum();
  }

  public long selected() {
    return classStats.stream().mapToLong(ClassStats::selected).sum();
  }

  public long nanRejected() {
    return classStats.stream().mapToLong(ClassStats::nanRejected).sum();
  }

  public long belowMinScore() {
    return classStats.stream().mapToLong(ClassStats::belowMinScore).sum();
  }

  public long notInTags() {
    return classStats.stream().mapToLong(ClassStats::notInTags).sum();
  }

  /** Candidates ranked exactly by the second pass (at or above their class's threshold). */
  public long survivors() {
    return classStats.stream().mapToLong(ClassStats::survivors).sum();
  }

  public long classesWithFewerThanK() {
    return classStats.stream().filter(ClassStats::fewerThanK).count();
  }

  /** The totals by name, sorted: what a manifest or the CLI reports. */
  public Map<String, Object> totals() {
    Map<String, Object> out = new TreeMap<>();
    out.put("images", images);
    out.put("considered", considered());
    out.put("candidates", candidates());
    out.put("selected", selected());
    out.put("nan_rejected", nanRejected());
    out.put("below_min_score", belowMinScore());
    out.put("not_in_tags", notInTags());
    out.put("survivors_ranked", survivors());
    out.put("classes", numClasses);
    out.put("classes_with_fewer_than_k", classesWithFewerThanK());
    return out;
  }

  /** Releases the persisted selection. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      release.run();
    }
  }
}
