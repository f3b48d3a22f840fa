package org.semiweak.stage;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.lit;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.semiweak.data.SelectionSchema;
import org.semiweak.run.RunDir;
import org.semiweak.run.StageId;
import org.semiweak.run.StageManifest;
import org.semiweak.run.result.SelectionResult;

/**
 * A committed pseudo-label selection as the stages after select read it, whichever layout it was
 * written in: its manifest says the version ({@link SelectionResult#schemaVersion()}), the files are
 * checked against that version's schema, and the rows come back with the columns of {@link
 * SelectionSchema#SCHEMA}. A selection of version 1 (column {@code class}) gets its class names from
 * its own manifest.
 *
 * <pre>{@code
 * Dataset<Row> picks = SelectionInput.require(run, RunLayout.selection("semi-weak", "k4000-p10"), id()).read(spark);
 * picks.select(SelectionSchema.IMAGE_ID, SelectionSchema.CLASS_INDEX, SelectionSchema.CLASS_NAME);
 * }</pre>
 */
public final class SelectionInput {
  private final RunDir run;
  private final StageId stage;
  private final SelectionResult result;

  private SelectionInput(RunDir run, StageId stage, SelectionResult result) {
    this.run = run;
    this.stage = stage;
    this.result = result;
  }

  /** The committed selection {@code stage}, or a clear error saying that {@code neededBy} needs it. */
  public static SelectionInput require(RunDir run, StageId stage, StageId neededBy) {
    StageManifest m = run.require(stage, neededBy.path());
    return new SelectionInput(run, stage, m.result(SelectionResult.class));
  }

  public SelectionResult result() {
    return result;
  }

  /** The layout of the selection's files. */
  public int schemaVersion() {
    return result.schemaVersion();
  }

  /**
   * Checks every file of the selection against the schema of its version ({@link ParquetInput}),
   * then reads it with the columns of {@link SelectionSchema#SCHEMA}.
   *
   * @throws IllegalStateException naming the folder and the reason: a version this semiweak does not
   *     know, or a file that does not have the version's columns
   */
  public Dataset<Row> read(SparkSession spark) {
    int version = schemaVersion();
    StructType schema;
    try {
      schema = SelectionSchema.schema(version);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(run.dataPath(stage) + ": its manifest says " + e.getMessage()
          + ". Read it with that semiweak, or select again with this one.", e);
    }
    String name = version == SelectionSchema.VERSION ? "SelectionSchema" : "SelectionSchema (version " + version + ")";
    Dataset<Row> rows = new ParquetInput(run.dataPath(stage), schema, name, stage).read(spark);
    if (version == SelectionSchema.VERSION) {
      return rows;
    }
    // Version 1: the class index is in 'class'; its names are those of the manifest's classes.
    return rows.select(col(SelectionSchema.IMAGE_ID),
        col(SelectionSchema.V1_CLASS).as(SelectionSchema.CLASS_INDEX),
        element_at(lit(result.classNames().toArray(String[]::new)), col(SelectionSchema.V1_CLASS).plus(1))
            .as(SelectionSchema.CLASS_NAME),
        col(SelectionSchema.SCORE), col(SelectionSchema.RANK));
  }
}
