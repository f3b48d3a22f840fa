package org.semiweak.prep;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.semiweak.config.ConfigException;
import org.semiweak.config.OptionSpec;
import org.semiweak.config.Options;
import org.semiweak.prep.source.SplitRule;

/**
 * One input of a prep: a folder read by one source kind, its metadata, and how its records get
 * their split. A prep reads one input (the single-source options {@code source}, {@code input},
 * {@code metadata}, ...) or several (the list {@code inputs}); every input goes through the same
 * decoding, deduplication and accounting.
 *
 * <pre>
 * prep:
 *   vocabulary: /data/shop/vocabulary.csv
 *   inputs:
 *     - {source: webdataset, path: /data/shop/shards, split: unlabeled}
 *     - {source: folder, path: /data/shop/labeled, metadata: /data/shop/labeled.csv, split: labeled}
 *     - {source: folder, path: /data/shop/test, metadata: /data/shop/test.csv, split: test}
 * </pre>
 *
 * @param index position in the config (deduplication keeps the first input's copy among equals)
 * @param name the input's name; with several inputs its image ids are {@code <name>/<id in the input>}
 * @param source {@code idx}, {@code folder} or {@code webdataset}
 * @param path the input folder
 * @param metadata the folder source's metadata file, or null
 * @param splitRule how records get their split
 * @param unlistedAsUnlabeled folder source: image files without a metadata row become unlabeled
 * @param prefixIds whether image ids and source files start with the input's name (several inputs)
 */
public record PrepInput(int index, String name, String source, String path, String metadata, SplitRule splitRule,
    boolean unlistedAsUnlabeled, boolean prefixIds) implements Serializable {

  public static final OptionSpec<String> NAME = OptionSpec.stringOption("name", null,
      "the input's name, the first part of its image ids (<name>/<id>); default: its split, else input-<n>");
  public static final OptionSpec<String> SOURCE = OptionSpec.choiceOption("source", null, List.of("folder", "webdataset"),
      "folder (images + metadata CSV/JSONL) or webdataset (folder of .tar shards with sidecars)");
  public static final OptionSpec<String> PATH = OptionSpec.stringOption("path", null,
      "the input folder (any Hadoop file system URI)");
  public static final OptionSpec<String> METADATA = OptionSpec.stringOption("metadata", "none",
      "folder inputs: metadata .csv (header path,tags,label,split,eval_label) or .jsonl; none = every image is unlisted");
  public static final OptionSpec<String> SPLIT = OptionSpec.choiceOption("split", null, SplitRule.SPLITS,
      "the split of every record of this input (give this or split-column)");
  public static final OptionSpec<String> SPLIT_COLUMN = OptionSpec.stringOption("split-column", null,
      "the metadata column (or sidecar JSON field) naming each record's split (give this or split)");
  public static final OptionSpec<String> DEFAULT_SPLIT = OptionSpec.choiceOption("default-split", null, SplitRule.SPLITS,
      "with split-column: the split of records whose column is empty (default: such records are quarantined)");
  public static final OptionSpec<String> UNLISTED_FILES = OptionSpec.choiceOption("unlisted-files", null,
      List.of("quarantine", "unlabeled"), "folder inputs: image files without a metadata row are quarantined "
          + "(no-metadata) or become unlabeled; default: quarantine with metadata, unlabeled without");

  /** The keys of one item of {@code inputs}. */
  public static final List<OptionSpec<?>> KEYS = List.of(NAME, SOURCE, PATH, METADATA, SPLIT, SPLIT_COLUMN,
      DEFAULT_SPLIT, UNLISTED_FILES);

  /** Whether this input has a metadata file. */
  public boolean hasMetadata() {
    return metadata != null;
  }

  /** {@code prep.inputs[2]}, or {@code prep} for the single-source options: where messages point. */
  public String scope() {
    return prefixIds ? "prep.inputs[" + index + "]" : "prep";
  }

  /** The one input of the single-source options ({@code source}, {@code input}, {@code metadata}, ...). */
  static PrepInput single(String source, String path, String metadata, String defaultSplit, boolean unlistedAsUnlabeled) {
    return new PrepInput(0, "input", source, path, metadata,
        SplitRule.byColumn(SplitRule.DEFAULT_COLUMN, defaultSplit), unlistedAsUnlabeled, false);
  }

  /** The items of {@code inputs}, each checked; every problem of every item in one message. */
  static List<PrepInput> parseList(List<Map<String, Object>> items) {
    List<PrepInput> out = new ArrayList<>();
    List<String> errors = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < items.size(); i++) {
      String scope = "prep.inputs[" + i + "]";
      try {
        PrepInput in = parse(i, scope, Options.parse(scope, KEYS, items.get(i)));
        if (!names.add(in.name())) {
          errors.add(scope + ": another input is also named '" + in.name() + "'; give each input its own 'name'");
        }
        out.add(in);
      } catch (ConfigException e) {
        errors.add(e.getMessage());
      }
    }
    if (!errors.isEmpty()) {
      throw new ConfigException(String.join("\n", errors));
    }
    return List.copyOf(out);
  }

  private static PrepInput parse(int index, String scope, Options o) {
    List<String> errors = new ArrayList<>();
    String source = o.getOrNull(SOURCE);
    String path = o.getOrNull(PATH);
    String split = o.getOrNull(SPLIT);
    String splitColumn = o.getOrNull(SPLIT_COLUMN);
    String defaultSplit = o.getOrNull(DEFAULT_SPLIT);
    String metadata = o.get(METADATA).equals("none") ? null : o.get(METADATA);
    if (source == null) {
      errors.add(scope + ".source: required: folder or webdataset (idx inputs are read with the single-source "
          + "options: source: idx, input: DIR)");
    }
    if (path == null) {
      errors.add(scope + ".path: required: the input folder");
    }
    if (split == null && splitColumn == null) {
      errors.add(scope + ": give 'split' (every record of this input goes there: labeled, unlabeled, validation or "
          + "test) or "
          + "'split-column' (the metadata column or sidecar field that names each record's split)");
    }
    if (split != null && splitColumn != null) {
      errors.add(scope + ": give 'split' or 'split-column', not both");
    }
    if (defaultSplit != null && splitColumn == null) {
      errors.add(scope + ".default-split: applies with split-column only; with 'split' every record goes to that split");
    }
    if ("webdataset".equals(source) && metadata != null) {
      errors.add(scope + ".metadata: a webdataset input carries its metadata in sidecars (<key>.json, <key>.txt, "
          + "<key>.cls); remove 'metadata'");
    }
    if ("webdataset".equals(source) && o.getOrNull(UNLISTED_FILES) != null) {
      errors.add(scope + ".unlisted-files: applies to folder inputs only");
    }
    boolean unlistedAsUnlabeled;
    if (o.getOrNull(UNLISTED_FILES) != null) {
      unlistedAsUnlabeled = o.get(UNLISTED_FILES).equals("unlabeled");
    } else {
      unlistedAsUnlabeled = metadata == null;
    }
    if ("folder".equals(source) && metadata == null && !SourceRecords.UNLABELED.equals(split)) {
      errors.add(scope + ".metadata: a folder input without metadata is a folder of unlabeled images (split: "
          + "unlabeled); labeled, validation and test images need their labels from a metadata file (.csv or .jsonl)");
    }
    String name = o.getOrNull(NAME);
    if (name == null) {
      name = split != null ? split : "input-" + (index + 1);
    }
    if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
      errors.add(scope + ".name: expected letters, digits, '.', '_' or '-', found '" + name + "'");
    }
    if (!errors.isEmpty()) {
      throw new ConfigException(String.join("\n", errors));
    }
    SplitRule rule = split != null ? SplitRule.forced(split) : SplitRule.byColumn(splitColumn, defaultSplit);
    return new PrepInput(index, name, source, path, metadata, rule, unlistedAsUnlabeled, true);
  }
}
