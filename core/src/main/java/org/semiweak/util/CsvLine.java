package org.semiweak.util;

import java.util.ArrayList;
import java.util.List;

/** One line of CSV (RFC 4180 quoting within the line; multi-line fields are not supported). */
public final class CsvLine {
  private CsvLine() {}

  /**
   * Splits one CSV line: comma separated, fields optionally double-quoted with "" as an escaped
   * quote, each field stripped of surrounding white space.
   *
   * @throws IllegalArgumentException for an unterminated quote or text after a closing quote
   */
  public static List<String> split(String line) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    int i = 0;
    int n = line.length();
    while (true) {
      cur.setLength(0);
      if (i < n && line.charAt(i) == '"') {
        i++;
        while (true) {
          if (i >= n) {
            throw new IllegalArgumentException("unterminated quoted field");
          }
          char c = line.charAt(i++);
          if (c == '"') {
            if (i < n && line.charAt(i) == '"') {
              cur.append('"');
              i++;
            } else {
              break;
            }
          } else {
            cur.append(c);
          }
        }
        while (i < n && line.charAt(i) != ',') {
          if (!Character.isWhitespace(line.charAt(i))) {
            throw new IllegalArgumentException("text after a closing quote at column " + (i + 1));
          }
          i++;
        }
      } else {
        while (i < n && line.charAt(i) != ',') {
          cur.append(line.charAt(i++));
        }
      }
      out.add(cur.toString().strip());
      if (i >= n) {
        return out;
      }
      i++; // comma
    }
  }

  /** The line without a leading byte order mark. */
  public static String stripBom(String s) {
    return s.startsWith("\uFEFF") ? s.substring(1) : s;
  }
}
