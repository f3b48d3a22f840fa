package org.semiweak.data;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.semiweak.util.CsvLine;
import org.semiweak.util.Json;

/**
 * The target classes of a run and the mapping from weak tags to them (many tags to one class).
 *
 * <p>Stored as {@code vocabulary.json} beside the image shards. Tags are matched case-insensitively
 * after trimming; tags that map to no class are ignored (and counted by data-prep).
 */
public final class Vocabulary implements Serializable {
  private static final long serialVersionUID = 1L;

  private final List<String> classes;
  private final Map<String, Integer> tagToClass;

  @JsonCreator
  public Vocabulary(
      @JsonProperty("classes") List<String> classes,
      @JsonProperty("tags") Map<String, Integer> tagToClass) {
    if (classes == null || classes.isEmpty()) {
      throw new IllegalArgumentException("vocabulary: 'classes' must list at least one class name");
    }
    Set<String> seen = new HashSet<>();
    for (String c : classes) {
      if (c == null || c.isBlank() || !seen.add(c)) {
        throw new IllegalArgumentException("vocabulary: class names must be non-empty and unique, found '" + c + "'");
      }
    }
    this.classes = List.copyOf(classes);
    TreeMap<String, Integer> tags = new TreeMap<>();
    if (tagToClass != null) {
      for (Map.Entry<String, Integer> e : tagToClass.entrySet()) {
        int c = e.getValue() == null ? -1 : e.getValue();
        if (c < 0 || c >= classes.size()) {
          throw new IllegalArgumentException(
              "vocabulary: tag '" + e.getKey() + "' maps to class " + e.getValue()
                  + ", expected 0.." + (classes.size() - 1));
        }
        tags.put(normalize(e.getKey()), c);
      }
    }
    this.tagToClass = tags;
  }

  public static String normalize(String tag) {
    return tag.trim().toLowerCase(Locale.ROOT);
  }

  @JsonProperty("classes")
  public List<String> classes() {
    return classes;
  }

  @JsonProperty("tags")
  public Map<String, Integer> tagToClass() {
    return tagToClass;
  }

  public int numClasses() {
    return classes.size();
  }

  /** The class of a tag, or -1 when the tag is not in the vocabulary. */
  public int classOf(String tag) {
    Integer c = tagToClass.get(normalize(tag));
    return c == null ? -1 : c;
  }

  /** The distinct classes of the known tags, ascending. */
  public int[] classesOf(Collection<String> tags) {
    TreeSet<Integer> out = new TreeSet<>();
    for (String t : tags) {
      int c = classOf(t);
      if (c >= 0) {
        out.add(c);
      }
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  /** The index of a class name, or -1. */
  public int indexOfClass(String name) {
    return classes.indexOf(name);
  }

  public String toJson() {
    return Json.write(this);
  }

  public static Vocabulary fromJson(String json) {
    return Json.read(json, Vocabulary.class);
  }

  /** Whether the first line of a vocabulary CSV is a header. */
  public enum Header {
    /** A header when its column names are a tag-like and a class-like name ({@link #TAG_COLUMNS}, {@link #CLASS_COLUMNS}). */
    AUTO,
    /** The first line is a header; its tag and class columns are found by name. */
    YES,
    /** Every line is a mapping {@code tag,class}. */
    NO
  }

  /** Column names that a vocabulary CSV header may give the tag column (case and '-', '_', ' ' ignored). */
  public static final List<String> TAG_COLUMNS = List.of("tag", "tags", "hashtag", "hashtags", "keyword", "tagname");
  /** Column names that a vocabulary CSV header may give the class column (case and '-', '_', ' ' ignored). */
  public static final List<String> CLASS_COLUMNS = List.of("class", "classname", "classlabel", "label", "labelname",
      "category", "categoryname", "target");

  /** Parses a CSV tag mapping with header detection ({@link Header#AUTO}); see {@link #fromTagCsv(String, List, Header)}. */
  public static Vocabulary fromTagCsv(String csv, List<String> classes) {
    return fromTagCsv(csv, classes, Header.AUTO);
  }

  /**
   * Parses a CSV tag mapping, one {@code tag,class_name} per line ('#' at line start is a comment
   * only when followed by a space). The first line is a header when {@code header} says so, or,
   * with {@link Header#AUTO}, when its fields are column names: one of {@link #TAG_COLUMNS} and one
   * of {@link #CLASS_COLUMNS} (e.g. {@code tag,class_name}, {@code hashtag,label}). With a header
   * the two columns are found by name and other columns are ignored; without one every line has
   * exactly the tag and the class, split at the last comma. The classes are the distinct class
   * names in first-seen order, unless {@code classes} is given.
   */
  public static Vocabulary fromTagCsv(String csv, List<String> classes, Header header) {
    List<String> cls = classes == null ? new ArrayList<>() : new ArrayList<>(classes);
    Map<String, Integer> tags = new TreeMap<>();
    int lineNo = 0;
    int tagCol = -1;
    int classCol = -1;
    boolean first = true;
    for (String line : csv.split("\\R")) {
      lineNo++;
      String l = CsvLine.stripBom(line).strip();
      if (l.isEmpty() || l.startsWith("# ")) {
        continue;
      }
      if (first) {
        first = false;
        List<String> names = splitCsv(l, lineNo);
        int[] cols = headerColumns(names);
        if (header == Header.YES && cols == null) {
          throw new IllegalArgumentException("tag mapping line " + lineNo + ": the header " + names
              + " names no tag column " + TAG_COLUMNS + " and class column " + CLASS_COLUMNS
              + " (case, '-' and '_' ignored); rename the columns, or set the header option to no");
        }
        if (header != Header.NO && cols != null) {
          tagCol = cols[0];
          classCol = cols[1];
          continue;
        }
      }
      String tag;
      String cname;
      if (tagCol >= 0) {
        List<String> f = splitCsv(l, lineNo);
        tag = tagCol < f.size() ? f.get(tagCol) : "";
        cname = classCol < f.size() ? f.get(classCol) : "";
        if (tag.isEmpty() || cname.isEmpty()) {
          throw new IllegalArgumentException("tag mapping line " + lineNo + ": expected a tag and a class, found '" + l + "'");
        }
      } else {
        int comma = l.lastIndexOf(',');
        if (comma <= 0 || comma == l.length() - 1) {
          throw new IllegalArgumentException(
              "tag mapping line " + lineNo + ": expected 'tag,class_name', found '" + l + "'");
        }
        tag = l.substring(0, comma).strip();
        cname = l.substring(comma + 1).strip();
      }
      int idx = cls.indexOf(cname);
      if (idx < 0) {
        if (classes != null) {
          throw new IllegalArgumentException(
              "tag mapping line " + lineNo + ": class '" + cname + "' is not in the class list " + classes);
        }
        cls.add(cname);
        idx = cls.size() - 1;
      }
      tags.put(tag, idx);
    }
    if (cls.isEmpty()) {
      throw new IllegalArgumentException("the tag mapping has no 'tag,class' line");
    }
    return new Vocabulary(cls, tags);
  }

  /** The tag and class column of a header line, or null when its fields are not such names. */
  static int[] headerColumns(List<String> names) {
    int tag = -1;
    int cls = -1;
    for (int i = 0; i < names.size(); i++) {
      String n = names.get(i).toLowerCase(Locale.ROOT).replaceAll("[-_ ]", "");
      if (tag < 0 && TAG_COLUMNS.contains(n)) {
        tag = i;
      } else if (cls < 0 && CLASS_COLUMNS.contains(n)) {
        cls = i;
      }
    }
    return tag >= 0 && cls >= 0 ? new int[] {tag, cls} : null;
  }

  private static List<String> splitCsv(String line, int lineNo) {
    try {
      return CsvLine.split(line);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("tag mapping line " + lineNo + ": " + e.getMessage());
    }
  }

  /**
   * A vocabulary from a parsed JSON or YAML document, in one of two shapes:
   *
   * <ul>
   *   <li>{@code {classes: [Coat, Bag], tags: {"#coat": Coat, "#parka": 0, "#tote": Bag}}}: the
   *       class list in index order, and each tag's class by name or index ({@code classes} may be
   *       left out when every tag names its class: the classes are then taken in first-seen order);
   *   <li>{@code {classes: {Coat: ["#coat", "#parka"], Bag: ["#tote"]}}}: each class in index order
   *       with its tags.
   * </ul>
   *
   * @throws IllegalArgumentException naming what is wrong
   */
  public static Vocabulary fromDocument(Object doc) {
    if (!(doc instanceof Map<?, ?> map)) {
      throw new IllegalArgumentException("expected a mapping with 'classes' (and 'tags'), found " + kind(doc));
    }
    for (Object k : map.keySet()) {
      if (!"classes".equals(k) && !"tags".equals(k)) {
        throw new IllegalArgumentException("unknown key '" + k + "'; expected 'classes' and 'tags'");
      }
    }
    Object classesNode = map.get("classes");
    Object tagsNode = map.get("tags");
    List<String> classes = new ArrayList<>();
    Map<String, Integer> tags = new TreeMap<>();
    if (classesNode instanceof Map<?, ?> byClass) {
      if (tagsNode != null) {
        throw new IllegalArgumentException("'classes' maps each class to its tags, so 'tags' must not be given too");
      }
      for (Map.Entry<?, ?> e : byClass.entrySet()) {
        String name = String.valueOf(e.getKey());
        classes.add(name);
        Object list = e.getValue();
        if (list == null) {
          continue;
        }
        if (!(list instanceof List<?> l)) {
          throw new IllegalArgumentException("class '" + name + "': expected a list of tags, found " + kind(list));
        }
        for (Object t : l) {
          tags.put(String.valueOf(t), classes.size() - 1);
        }
      }
      return new Vocabulary(classes, tags);
    }
    boolean listed = classesNode != null;
    if (listed) {
      if (!(classesNode instanceof List<?> l)) {
        throw new IllegalArgumentException("'classes': expected a list of class names, found " + kind(classesNode));
      }
      l.forEach(c -> classes.add(String.valueOf(c)));
    }
    if (tagsNode != null) {
      if (!(tagsNode instanceof Map<?, ?> t)) {
        throw new IllegalArgumentException("'tags': expected a mapping of tag to class, found " + kind(tagsNode));
      }
      for (Map.Entry<?, ?> e : t.entrySet()) {
        String tag = String.valueOf(e.getKey());
        Object c = e.getValue();
        int idx;
        if (c instanceof Number n) {
          idx = n.intValue();
        } else if (c instanceof String name && !name.isBlank()) {
          idx = classes.indexOf(name);
          if (idx < 0 && listed) {
            throw new IllegalArgumentException("tag '" + tag + "' maps to class '" + name + "', which is not in 'classes' "
                + classes);
          }
          if (idx < 0) {
            classes.add(name);
            idx = classes.size() - 1;
          }
        } else {
          throw new IllegalArgumentException("tag '" + tag + "': expected a class name or index, found " + kind(c));
        }
        if (!listed && c instanceof Number) {
          throw new IllegalArgumentException("tag '" + tag + "' maps to class index " + c
              + " but no 'classes' list says which class that is");
        }
        tags.put(tag, idx);
      }
    }
    return new Vocabulary(classes, tags);
  }

  private static String kind(Object o) {
    return o == null ? "nothing" : o instanceof Map ? "a mapping" : o instanceof List ? "a list" : "'" + o + "'";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Vocabulary v && v.classes.equals(classes) && v.tagToClass.equals(tagToClass);
  }

  @Override
  public int hashCode() {
    return classes.hashCode() * 31 + tagToClass.hashCode();
  }
}
