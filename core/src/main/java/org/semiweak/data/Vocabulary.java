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

  /**
   * Parses a CSV tag mapping, one {@code tag,class_name} per line ('#' at line start is a comment
   * only when followed by a space). The classes are the distinct class names in first-seen order,
   * unless {@code classes} is given.
   */
  public static Vocabulary fromTagCsv(String csv, List<String> classes) {
    List<String> cls = classes == null ? new ArrayList<>() : new ArrayList<>(classes);
    Map<String, Integer> tags = new TreeMap<>();
    int lineNo = 0;
    for (String line : csv.split("\\R")) {
      lineNo++;
      String l = line.strip();
      if (l.isEmpty() || l.startsWith("# ")) {
        continue;
      }
      int comma = l.lastIndexOf(',');
      if (comma <= 0 || comma == l.length() - 1) {
        throw new IllegalArgumentException(
            "tag mapping line " + lineNo + ": expected 'tag,class_name', found '" + l + "'");
      }
      String tag = l.substring(0, comma).strip();
      String cname = l.substring(comma + 1).strip();
      if (lineNo == 1 && tag.equalsIgnoreCase("tag") && cname.equalsIgnoreCase("class")) {
        continue; // header
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
    return new Vocabulary(cls, tags);
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
