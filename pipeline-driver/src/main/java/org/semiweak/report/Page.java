package org.semiweak.report;

import java.util.ArrayList;
import java.util.List;
import org.semiweak.report.chart.Svg;

/**
 * The HTML of the report as it is built: sections, notes, tables and charts, escaped. No script,
 * no link, no font or style sheet from elsewhere: the page opens from a file on any machine.
 */
final class Page {
  static final String CSS = String.join("\n",
      "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;max-width:1180px;"
          + "padding:0 16px 48px;color:#222;background:#fff}",
      "h1{font-size:24px;margin:20px 0 4px}h2{font-size:19px;border-bottom:2px solid #0072b2;padding-bottom:3px;"
          + "margin-top:34px}h3{font-size:15px;margin:20px 0 6px}",
      "nav a{margin-right:12px}p.note{color:#666;font-size:13px;margin:4px 0}",
      "table{border-collapse:collapse;font-size:13px;margin:6px 0 12px}th,td{border:1px solid #ddd;padding:3px 8px}"
          + "th{background:#f3f6f9;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}",
      "figure{display:inline-block;margin:6px 10px 6px 0;vertical-align:top}",
      "details{margin:2px 0}pre{font-size:12px;background:#f7f7f7;padding:6px;overflow-x:auto}",
      ".thumbs img{width:56px;height:56px;image-rendering:pixelated;margin:1px;border:1px solid #ccc}",
      ".thumbs td{vertical-align:top}section.omitted h2{color:#888;border-color:#ccc}");

  private final StringBuilder body = new StringBuilder(1 << 16);
  private final List<String> sections = new ArrayList<>();
  private final List<String> omitted = new ArrayList<>();
  private final List<String[]> toc = new ArrayList<>();
  private int charts;

  static String esc(String s) {
    return Svg.escape(s);
  }

  /** Opens a section (closed by the next one or by {@link #html}). */
  void section(String anchor, String title) {
    closeSection();
    sections.add(title);
    toc.add(new String[] {anchor, title});
    body.append("<section id=\"").append(esc(anchor)).append("\"><h2>").append(esc(title)).append("</h2>\n");
    open = true;
  }

  /** A section the run has nothing for: its title and one line saying why. */
  void omitted(String anchor, String title, String reason) {
    closeSection();
    omitted.add(title + ": " + reason);
    body.append("<section id=\"").append(esc(anchor)).append("\" class=\"omitted\"><h2>").append(esc(title))
        .append("</h2><p class=\"note\">").append(esc(reason)).append("</p></section>\n");
  }

  private boolean open;

  private void closeSection() {
    if (open) {
      body.append("</section>\n");
      open = false;
    }
  }

  void h3(String text) {
    body.append("<h3>").append(esc(text)).append("</h3>\n");
  }

  void note(String text) {
    body.append("<p class=\"note\">").append(esc(text)).append("</p>\n");
  }

  void p(String text) {
    body.append("<p>").append(esc(text)).append("</p>\n");
  }

  /** An inline SVG chart, as the chart classes return it. */
  void chart(String svg) {
    charts++;
    body.append("<figure>").append(svg).append("</figure>\n");
  }

  /** Raw markup this class built (e.g. a table of thumbnails); the caller escaped its text. */
  void raw(String html) {
    body.append(html);
  }

  /**
   * A table; cells that look like numbers are right-aligned.
   *
   * @param header the column titles
   * @param rows the cells, as text (escaped here)
   */
  void table(List<String> header, List<List<String>> rows) {
    body.append("<table><thead><tr>");
    header.forEach(h -> body.append("<th>").append(esc(h)).append("</th>"));
    body.append("</tr></thead><tbody>\n");
    for (List<String> row : rows) {
      body.append("<tr>");
      for (String cell : row) {
        boolean numeric = cell != null && cell.matches("[-+]?[0-9][0-9,]*(\\.[0-9]+)?%?|n/a");
        body.append(numeric ? "<td class=\"n\">" : "<td>").append(esc(cell)).append("</td>");
      }
      body.append("</tr>\n");
    }
    body.append("</tbody></table>\n");
  }

  /** A collapsed block of preformatted text (options as JSON). */
  void details(String summary, String text) {
    body.append("<details><summary>").append(esc(summary)).append("</summary><pre>").append(esc(text))
        .append("</pre></details>\n");
  }

  List<String> sections() {
    return List.copyOf(sections);
  }

  List<String> omitted() {
    return List.copyOf(omitted);
  }

  int charts() {
    return charts;
  }

  /** The whole page. */
  String html(String title, String subtitle) {
    closeSection();
    StringBuilder sb = new StringBuilder(body.length() + 4096);
    sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        .append("<title>").append(esc(title)).append("</title><style>\n").append(CSS).append("\n</style></head>\n")
        .append("<body><h1>").append(esc(title)).append("</h1><p class=\"note\">").append(esc(subtitle))
        .append("</p>\n<nav>");
    for (String[] t : toc) {
      sb.append("<a href=\"#").append(esc(t[0])).append("\">").append(esc(t[1])).append("</a>");
    }
    sb.append("</nav>\n").append(body).append("</body></html>\n");
    return sb.toString();
  }
}
