package org.semiweak.prep.source;

import java.io.Serializable;
import java.util.List;
import java.util.Locale;
import org.semiweak.prep.SourceRecords;

/**
 * How the records of one input get their split: every record to one split ({@code forced}), or the
 * split named in a metadata column or sidecar field ({@code column}), with {@code defaultSplit} for
 * records that name none (null: such a record is quarantined as {@code bad-metadata}). A record's
 * value is one of {@link #SPLITS}, case-insensitive; {@code val} stands for {@code validation}.
 *
 * <p>With a forced split the column is still read: a record that names another split is
 * quarantined, never silently moved.
 *
 * @param forced the split of every record, or null
 * @param column the metadata column / JSON field naming a record's split
 * @param defaultSplit the split of records whose column is empty, or null
 */
public record SplitRule(String forced, String column, String defaultSplit) implements Serializable {
  /** The metadata column and sidecar field naming a record's split, unless an input names another. */
  public static final String DEFAULT_COLUMN = "split";
  public static final List<String> SPLITS = List.of(SourceRecords.LABELED, SourceRecords.UNLABELED,
      SourceRecords.VALIDATION, SourceRecords.TEST);
  /** Also accepted for {@code validation} in a metadata column or sidecar field (not in options). */
  public static final String VALIDATION_ALIAS = "val";

  public static SplitRule forced(String split) {
    return new SplitRule(split, DEFAULT_COLUMN, null);
  }

  public static SplitRule byColumn(String column, String defaultSplit) {
    return new SplitRule(null, column, defaultSplit);
  }

  /** A resolved split, or why the record has none. */
  public record Decision(String split, String problem) {}

  /** The split of a record whose column holds {@code value} (null or blank when empty). */
  public Decision decide(String value) {
    String named = value == null || value.isBlank() ? null : value.strip().toLowerCase(Locale.ROOT);
    if (VALIDATION_ALIAS.equals(named)) {
      named = SourceRecords.VALIDATION;
    }
    if (named != null && !SPLITS.contains(named)) {
      return new Decision(null, column + " '" + value + "' is not one of " + String.join(", ", SPLITS)
          + " (or " + VALIDATION_ALIAS + " for " + SourceRecords.VALIDATION + ")");
    }
    if (forced != null) {
      return named == null || named.equals(forced) ? new Decision(forced, null)
          : new Decision(null, "the record names split '" + named + "' but its input's split is '" + forced
              + "'; list it under an input of that split, or drop the '" + column + "' field");
    }
    if (named != null) {
      return new Decision(named, null);
    }
    if (defaultSplit != null) {
      return new Decision(defaultSplit, null);
    }
    return new Decision(null, "no split: '" + column + "' is empty and the input has no default-split");
  }
}
