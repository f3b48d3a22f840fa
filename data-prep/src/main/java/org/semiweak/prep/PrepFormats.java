package org.semiweak.prep;

import java.util.List;
import java.util.stream.Collectors;

/**
 * The input formats of prep, by example: one per source kind, the vocabulary in its three formats
 * and a config that combines several inputs. {@code semiweak help prep} prints them, the README
 * shows them, and {@code PrepFormatsTest} ingests them as written, so none of the three drifts.
 */
public final class PrepFormats {
  private PrepFormats() {}

  /** A file of an example: its name and text, or null text for an image (any PNG, JPEG, GIF, BMP or WebP). */
  public record ExampleFile(String name, String text) {}

  /** WebDataset: the entries of one tar shard, in tar order; a sample is the entries sharing a key. */
  public static final List<ExampleFile> WEBDATASET_SHARD = List.of(
      new ExampleFile("000001.jpg", null),
      new ExampleFile("000001.json", "{\"tags\": [\"#parka\", \"#winter\"]}"),
      new ExampleFile("000002.png", null),
      new ExampleFile("000002.txt", "#tote #leather"),
      new ExampleFile("000003.png", null),
      new ExampleFile("000003.json", "{\"tags\": [\"#sneakers\", \"#run\"], \"eval_label\": \"Sneaker\"}"));

  /** Folder + CSV metadata: the labeled images. */
  public static final String LABELED_CSV = """
      path,tags,label
      coats/c1.png,#coat|#wool,Coat
      bags/b1.png,#bag,Bag
      shoes/s1.jpg,,Sneaker
      """;

  /** Folder + JSON lines metadata: the test images. */
  public static final String TEST_JSONL = """
      {"path": "t1.png", "label": "Coat"}
      {"path": "t2.png", "label": "Bag"}
      {"path": "t3.png", "label": "Sneaker"}
      """;

  /** The vocabulary as CSV: a header line (recognized by its names), then tag,class lines. */
  public static final String VOCABULARY_CSV = """
      tag,class_name
      #coat,Coat
      #parka,Coat
      #bag,Bag
      #tote,Bag
      #sneakers,Sneaker
      """;

  /** The same vocabulary as JSON: the classes in index order, each tag's class by name (or index). */
  public static final String VOCABULARY_JSON = """
      {"classes": ["Coat", "Bag", "Sneaker"],
       "tags": {"#coat": "Coat", "#parka": "Coat", "#bag": "Bag", "#tote": "Bag", "#sneakers": "Sneaker"}}
      """;

  /** The same vocabulary as YAML: each class in index order with its tags. */
  public static final String VOCABULARY_YAML = """
      classes:
        Coat: ["#coat", "#parka"]
        Bag: ["#bag", "#tote"]
        Sneaker: ["#sneakers"]
      """;

  /** The folder that every path of {@link #PREP_CONFIG} lies under. */
  public static final String EXAMPLE_ROOT = "/data/shop";

  /** A run config's prep section that reads the three inputs above in one prep. */
  public static final String PREP_CONFIG = """
      prep:
        vocabulary: /data/shop/vocabulary.csv
        image-size: 32
        channels: 3
        inputs:
          - name: web
            source: webdataset
            path: /data/shop/shards          # part-000.tar, part-001.tar, ...
            split: unlabeled
          - source: folder
            path: /data/shop/labeled         # coats/c1.png, bags/b1.png, shoes/s1.jpg
            metadata: /data/shop/labeled.csv
            split: labeled
          - source: folder
            path: /data/shop/test            # t1.png, t2.png, t3.png
            metadata: /data/shop/test.jsonl
            split: test
      """;

  /**
   * IDX (the MNIST family): the four files of one folder, raw or .gz; prep draws the labeled subset,
   * then the validation split.
   */
  public static final String IDX_CONFIG = """
      prep:                                # train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
        source: idx                        # t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz
        input: /usr/share/datasets/fashion-mnist
        labeled-per-class: 100
        validation-per-class: 100          # optional (default 0): the next 100 per class are the validation split
      """;

  /** The shard example as the help and the README show it. */
  public static String webDatasetListing() {
    return WEBDATASET_SHARD.stream()
        .map(f -> String.format("%-12s %s", f.name(), f.text() == null ? "(image)" : f.text()))
        .collect(Collectors.joining("\n", "", "\n"));
  }

  /** The examples, each a block of text exactly as a user writes it. */
  public static List<String> blocks() {
    return List.of(webDatasetListing(), LABELED_CSV, TEST_JSONL, VOCABULARY_CSV, VOCABULARY_JSON, VOCABULARY_YAML,
        PREP_CONFIG, IDX_CONFIG);
  }

  /** The part of {@code semiweak help prep} after the options. */
  public static String help() {
    return "\nInputs and formats\n\n"
        + "One input: the options source, input, metadata, default-split, unlisted-files. Several inputs: 'inputs', a\n"
        + "list whose items have source (folder|webdataset), path, split (every record goes there) or split-column\n"
        + "(the metadata column / sidecar field naming each record's split) with an optional default-split, metadata\n"
        + "(folder), unlisted-files (folder) and name (image ids are <name>/<id>). Splits: labeled, unlabeled,\n"
        + "validation, test (a metadata value may also say val for validation). Duplicates across inputs: test is\n"
        + "kept before validation before labeled before unlabeled, then the input listed first, then the first read.\n\n"
        + "Validation images need a label, like labeled and test ones; no stage trains on them (not even on their\n"
        + "pixels), and evaluate reports every model's top-1/top-5 on them besides the test split, so that options\n"
        + "can be chosen without looking at the test set. An idx input draws them with validation-per-class.\n\n"
        + "A webdataset input is a folder of .tar shards. A sample is the entries sharing a key; sidecars:\n"
        + "<key>.json {\"tags\": [...], \"label\": class, \"split\": ..., \"eval_label\": class}, <key>.txt (tags),\n"
        + "<key>.cls (class). Example shard /data/shop/shards/part-000.tar:\n\n"
        + indent(webDatasetListing())
        + "\nA folder input is a folder of images and a metadata file, CSV (header: path required; tags separated\n"
        + "by | or spaces; label = class name or index; split; eval_label) or JSON lines. /data/shop/labeled.csv:\n\n"
        + indent(LABELED_CSV)
        + "\n/data/shop/test.jsonl:\n\n"
        + indent(TEST_JSONL)
        + "\neval_label (unlabeled images only): the true class, kept in prep/unlabeled's label column, which no\n"
        + "training reads; selection measures pseudo-label precision on it (else precision is n/a).\n"
        + "\nThe vocabulary maps tags to classes. CSV (a header is recognized by its names, or set\n"
        + "vocabulary-header: yes|no):\n\n"
        + indent(VOCABULARY_CSV)
        + "\nJSON:\n\n"
        + indent(VOCABULARY_JSON)
        + "\nYAML:\n\n"
        + indent(VOCABULARY_YAML)
        + "\nThe three inputs in one prep (a run config's section; on the command line --inputs takes the list as\n"
        + "YAML flow text, e.g. '[{source: folder, path: /x, split: unlabeled}]'):\n\n"
        + indent(PREP_CONFIG)
        + "\nAn idx input (the demo's; validation-per-class takes, per class, the train images that follow the labeled\n"
        + "ones in the same seeded order, so the labeled subset stays as it was, and removes them from unlabeled):\n\n"
        + indent(IDX_CONFIG);
  }

  private static String indent(String block) {
    return block.lines().map(l -> "  " + l).collect(Collectors.joining("\n", "", "\n"));
  }
}
