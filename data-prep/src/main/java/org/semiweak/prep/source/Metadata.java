package org.semiweak.prep.source;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.semiweak.config.ConfigException;
import org.semiweak.data.Vocabulary;
import org.semiweak.prep.SourceRecords;
import org.semiweak.prep.Reason;
import org.semiweak.util.CsvLine;

/**
 * The metadata of a folder source, one row per image: CSV with a header or JSON lines.
 *
 * <ul>
 *   <li>CSV ({@code .csv}): header {@code path,tags,label,split,eval_label} (only {@code path} is
 *       required, columns in any order, other columns ignored); fields may be double-quoted (RFC 4180
 *       quoting within one line; multi-line fields are not supported); tags are separated by
 *       {@code |} or white space.
 *   <li>JSON lines ({@code .jsonl}, {@code .ndjson}, {@code .json}):
 *       {@code {"path": "a/b.png", "tags": ["#x", "#y"], "label": "Coat" or 4, "split": "unlabeled"}};
 *       {@code tags} may also be one string separated like CSV; other fields are ignored.
 * </ul>
 *
 * <p>{@code label} is a class name of the vocabulary (exact, then case-insensitive) or a class
 * index; empty means unknown. The split comes from the input's {@link SplitRule}: its own split, or
 * the column it names ({@code split} unless set), then its default split. Labeled and test rows need
 * a label. {@code eval_label} is for unlabeled rows only: the true class, kept in the {@code label}
 * column of {@code prep/unlabeled}, which no training reads, and used to measure pseudo-label
 * precision. Paths are relative to the input folder; absolute paths and paths with a {@code ..}
 * segment are refused.
 */
public final class Metadata implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final boolean csv;
  private final int pathCol;
  private final int tagsCol;
  private final int labelCol;
  private final int splitCol;
  private final int evalLabelCol;
  private final SplitRule rule;
  private final List<String> columns;

  /** The field of an unlabeled record that holds its true class for evaluation only. */
  public static final String EVAL_LABEL = "eval_label";

  private Metadata(boolean csv, List<String> columns, SplitRule rule) {
    this.csv = csv;
    this.columns = columns;
    this.rule = rule;
    this.pathCol = columns.indexOf("path");
    this.tagsCol = columns.indexOf("tags");
    this.labelCol = columns.indexOf("label");
    this.splitCol = columns.indexOf(rule.column().toLowerCase(Locale.ROOT));
    this.evalLabelCol = columns.indexOf(EVAL_LABEL);
  }

  /** CSV: the header's column names (lower case); JSON lines: empty (fields are per row). */
  public List<String> columns() {
    return columns;
  }

  public boolean isCsv() {
    return csv;
  }

  public boolean hasHeader() {
    return csv;
  }

  /** Opens a metadata file: checks it exists and parses its header (CSV) or first row (JSON lines). */
  public static Metadata open(FileSystem fs, Path p, SplitRule rule) {
    String ext = InputFiles.extension(p.getName());
    boolean isCsv = ext.equals("csv");
    if (!isCsv && !List.of("jsonl", "ndjson", "json").contains(ext)) {
      throw new ConfigException("prep.metadata: " + p + " has extension '." + ext
          + "'; expected .csv (header path,tags,label,split) or .jsonl (one JSON object per line)");
    }
    String first;
    try {
      if (!fs.exists(p) || fs.getFileStatus(p).isDirectory()) {
        throw new ConfigException("prep.metadata: " + p + " does not exist or is a folder; check the 'metadata' option");
      }
      try (BufferedReader r = new BufferedReader(new InputStreamReader(fs.open(p), StandardCharsets.UTF_8))) {
        first = r.readLine();
        while (first != null && first.isBlank() && !isCsv) {
          first = r.readLine();
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + p + ": " + e.getMessage(), e);
    }
    if (first == null) {
      throw new ConfigException("prep.metadata: " + p + " is empty; expected " + (isCsv ? "a header line path,tags,label,split" : "JSON lines"));
    }
    first = stripBom(first);
    if (!isCsv) {
      try {
        JsonNode n = JSON.readTree(first);
        if (n == null || !n.isObject() || !n.has("path")) {
          throw new ConfigException("prep.metadata: the first row of " + p + " is not a JSON object with a \"path\": " + abbreviate(first));
        }
      } catch (IOException e) {
        throw new ConfigException("prep.metadata: the first row of " + p + " is not valid JSON (" + e.getMessage().split("\n")[0]
            + "); expected one object per line like {\"path\": \"a.png\", \"tags\": [\"#x\"]}");
      }
      return new Metadata(false, List.of(), rule);
    }
    List<String> header;
    try {
      header = parseCsvLine(first).stream().map(h -> h.strip().toLowerCase(Locale.ROOT)).toList();
    } catch (IllegalArgumentException e) {
      throw new ConfigException("prep.metadata: cannot parse the header of " + p + ": " + e.getMessage());
    }
    if (!header.contains("path")) {
      throw new ConfigException("prep.metadata: the header of " + p + " is " + header
          + "; it needs a 'path' column (columns: path, tags, label, split)");
    }
    return new Metadata(true, header, rule);
  }

  /** A parsed row: the image's path and attributes, or why the row is rejected. */
  public record Row(String path, List<String> tags, Integer label, String split, Reason reason, String detail)
      implements Serializable {
    static Row rejected(String path, Reason reason, String detail) {
      return new Row(path, null, null, null, reason, detail);
    }
  }

  /** Parses one line (not the header); returns null for a blank line. */
  public Row parse(String line, Vocabulary vocabulary) {
    line = stripBom(line);
    if (line.isBlank()) {
      return null;
    }
    String path;
    String tagsText = null;
    List<String> tagList = null;
    String label;
    String split;
    String evalLabel;
    if (csv) {
      List<String> f;
      try {
        f = parseCsvLine(line);
      } catch (IllegalArgumentException e) {
        return Row.rejected(null, Reason.BAD_METADATA, e.getMessage() + ": " + abbreviate(line));
      }
      path = field(f, pathCol);
      tagsText = field(f, tagsCol);
      label = field(f, labelCol);
      split = field(f, splitCol);
      evalLabel = field(f, evalLabelCol);
    } else {
      JsonNode n;
      try {
        n = JSON.readTree(line);
      } catch (IOException e) {
        return Row.rejected(null, Reason.BAD_METADATA, "not valid JSON (" + e.getMessage().split("\n")[0] + "): " + abbreviate(line));
      }
      if (n == null || !n.isObject()) {
        return Row.rejected(null, Reason.BAD_METADATA, "not a JSON object: " + abbreviate(line));
      }
      path = text(n.get("path"));
      JsonNode t = n.get("tags");
      if (t != null && t.isArray()) {
        tagList = new ArrayList<>();
        for (JsonNode e : t) {
          if (!e.isTextual()) {
            return Row.rejected(path, Reason.BAD_METADATA, "\"tags\" must be an array of strings: " + abbreviate(line));
          }
          tagList.add(e.asText());
        }
      } else if (t != null && !t.isNull()) {
        tagsText = text(t);
      }
      label = text(n.get("label"));
      split = text(n.get(rule.column()));
      evalLabel = text(n.get(EVAL_LABEL));
    }
    if (path == null || path.isBlank()) {
      return Row.rejected(null, Reason.BAD_METADATA, "no path: " + abbreviate(line));
    }
    String normalized = normalizePath(path);
    if (normalized == null) {
      return Row.rejected(path, Reason.UNSAFE_PATH,
          "path '" + path + "' is absolute or leaves the input folder; paths must be relative to it");
    }
    List<String> tags = tagList != null ? tagList : splitTags(tagsText);
    return resolve(normalized, tags, label, evalLabel, split, vocabulary, rule);
  }

  /** Checks label, evaluation label and split; shared with WebDataset samples. */
  static Row resolve(String path, List<String> tags, String label, String evalLabel, String split,
      Vocabulary vocabulary, SplitRule rule) {
    SplitRule.Decision d = rule.decide(split);
    if (d.problem() != null) {
      return Row.rejected(path, Reason.BAD_METADATA, d.problem());
    }
    String s = d.split();
    if (evalLabel != null && !evalLabel.isBlank()) {
      if (!s.equals(SourceRecords.UNLABELED)) {
        return Row.rejected(path, Reason.BAD_METADATA, EVAL_LABEL + " is for unlabeled images only (kept out of "
            + "training, used to measure pseudo-label precision); a " + s + " image takes its class from label");
      }
      if (label != null && !label.isBlank() && !label.strip().equals(evalLabel.strip())) {
        return Row.rejected(path, Reason.BAD_METADATA, "label '" + label + "' and " + EVAL_LABEL + " '" + evalLabel
            + "' differ; an unlabeled image has one true class");
      }
      label = evalLabel;
    }
    Integer cls = null;
    if (label != null && !label.isBlank()) {
      cls = classIndex(label.strip(), vocabulary);
      if (cls == null) {
        return Row.rejected(path, Reason.BAD_LABEL, "label '" + label + "' is neither a class name nor a class index of "
            + vocabulary.classes());
      }
    } else if (!s.equals(SourceRecords.UNLABELED)) {
      return Row.rejected(path, Reason.MISSING_LABEL, "a " + s + " image needs a label");
    }
    return new Row(path, tags, cls, s, null, null);
  }

  /**
   * The labels of the rows this metadata puts in {@code split}, with their row counts, read on the
   * driver (for checking a labeled set against the vocabulary before any Spark job).
   */
  public java.util.Map<String, Long> labelsOf(FileSystem fs, Path p, String split) {
    java.util.Map<String, Long> out = new java.util.TreeMap<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(fs.open(p), StandardCharsets.UTF_8))) {
      String line;
      boolean header = csv;
      while ((line = r.readLine()) != null) {
        if (header) {
          header = false;
          continue;
        }
        line = stripBom(line);
        if (line.isBlank()) {
          continue;
        }
        String label;
        String named;
        try {
          if (csv) {
            List<String> f = parseCsvLine(line);
            label = field(f, labelCol);
            named = field(f, splitCol);
          } else {
            JsonNode n = JSON.readTree(line);
            if (n == null || !n.isObject()) {
              continue;
            }
            label = text(n.get("label"));
            named = text(n.get(rule.column()));
          }
        } catch (IOException | IllegalArgumentException e) {
          continue; // quarantined as bad-metadata when the stage reads it
        }
        if (label != null && !label.isBlank() && split.equals(rule.decide(named).split())) {
          out.merge(label.strip(), 1L, Long::sum);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + p + ": " + e.getMessage(), e);
    }
    return out;
  }

  /** The class index of a label (a class name, exact then case-insensitive, or an index), or null. */
  public static Integer classIndex(String label, Vocabulary vocabulary) {
    int i = vocabulary.indexOfClass(label);
    if (i >= 0) {
      return i;
    }
    for (int c = 0; c < vocabulary.numClasses(); c++) {
      if (vocabulary.classes().get(c).equalsIgnoreCase(label)) {
        return c;
      }
    }
    if (label.matches("\\d{1,9}")) {
      int idx = Integer.parseInt(label);
      if (idx < vocabulary.numClasses()) {
        return idx;
      }
    }
    return null;
  }

  /** The path relative to the input folder without '.' segments, or null when it is unsafe. */
  public static String normalizePath(String path) {
    String p = path.strip();
    if (p.startsWith("/") || p.startsWith("\\") || p.matches("^[A-Za-z]:.*") || p.contains("://")) {
      return null;
    }
    List<String> parts = new ArrayList<>();
    for (String part : p.split("[/\\\\]")) {
      if (part.equals("..")) {
        return null;
      }
      if (!part.isEmpty() && !part.equals(".")) {
        parts.add(part);
      }
    }
    return parts.isEmpty() ? null : String.join("/", parts);
  }

  static List<String> splitTags(String text) {
    if (text == null || text.isBlank()) {
      return List.of();
    }
    return Arrays.stream(text.strip().split("[|\\s]+")).filter(t -> !t.isEmpty()).toList();
  }

  private static String field(List<String> f, int col) {
    if (col < 0 || col >= f.size()) {
      return null;
    }
    String v = f.get(col);
    return v.isBlank() ? null : v;
  }

  private static String text(JsonNode n) {
    return n == null || n.isNull() ? null : n.asText();
  }

  static String stripBom(String s) {
    return CsvLine.stripBom(s);
  }

  static String abbreviate(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }

  static List<String> parseCsvLine(String line) {
    return CsvLine.split(line);
  }
}
