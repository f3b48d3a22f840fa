package org.semiweak.report.chart;

import java.util.Locale;

/** What the charts share: escaping, number formatting, the axis scale, colours and the frame of an {@code <svg>}. */
public final class Svg {
  /** Series colours, in order (colour-blind safe, from Okabe and Ito). */
  static final String[] PALETTE = {"#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442",
      "#000000"};
  static final String AXIS = "#555";
  static final String GRID = "#e4e4e4";
  static final int FONT = 11;

  private Svg() {}

  /** Text safe inside an element or an attribute value of XML and HTML. */
  public static String escape(String text) {
    if (text == null) {
      return "";
    }
    StringBuilder sb = new StringBuilder(text.length() + 8);
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '&' -> sb.append("&amp;");
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '"' -> sb.append("&quot;");
        case '\'' -> sb.append("&#39;");
        default -> {
          // Control characters are not allowed in XML 1.0: drop them rather than break the page.
          if (c >= 0x20 || c == '\n' || c == '\t') {
            sb.append(c);
          }
        }
      }
    }
    return sb.toString();
  }

  /** A coordinate: at most two decimals, no trailing zeros, never NaN; the same string on every machine. */
  static String n(double v) {
    if (!Double.isFinite(v)) {
      return "0";
    }
    String s = String.format(Locale.ROOT, "%.2f", v);
    s = s.contains(".") ? s.replaceAll("0+$", "").replaceAll("\\.$", "") : s;
    return s.equals("-0") ? "0" : s;
  }

  /** A tick label: integers without decimals, small numbers with up to three significant decimals. */
  static String tick(double v) {
    if (Math.abs(v - Math.rint(v)) < 1e-9 && Math.abs(v) < 1e15) {
      return String.format(Locale.ROOT, "%,d", (long) Math.rint(v));
    }
    String s = String.format(Locale.ROOT, Math.abs(v) >= 10 ? "%.1f" : "%.3f", v);
    return s.replaceAll("0+$", "").replaceAll("\\.$", "");
  }

  /** The smallest 1, 2 or 5 times a power of ten at or above {@code max} (1 for nothing positive). */
  static double niceMax(double max) {
    if (!(max > 0) || !Double.isFinite(max)) {
      return 1;
    }
    double p = Math.pow(10, Math.floor(Math.log10(max)));
    for (double m : new double[] {1, 2, 2.5, 5, 10}) {
      if (m * p >= max * (1 - 1e-12)) {
        return m * p;
      }
    }
    return 10 * p;
  }

  /** Opens an {@code <svg>} of the given size with its accessible title and the chart's kind as its class. */
  static StringBuilder open(String kind, int width, int height, String title) {
    StringBuilder sb = new StringBuilder(4096);
    sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart ").append(kind).append("\" width=\"")
        .append(width).append("\" height=\"").append(height).append("\" viewBox=\"0 0 ").append(width).append(' ')
        .append(height).append("\" role=\"img\" font-family=\"sans-serif\" font-size=\"").append(FONT)
        .append("\"><title>").append(escape(title)).append("</title>");
    if (title != null && !title.isEmpty()) {
      sb.append("<text class=\"chart-title\" x=\"").append(width / 2).append("\" y=\"15\" text-anchor=\"middle\""
          + " font-size=\"13\" font-weight=\"bold\">").append(escape(title)).append("</text>");
    }
    return sb;
  }

  static void text(StringBuilder sb, double x, double y, String anchor, String text) {
    sb.append("<text x=\"").append(n(x)).append("\" y=\"").append(n(y)).append("\" text-anchor=\"").append(anchor)
        .append("\">").append(escape(text)).append("</text>");
  }

  /** A label under an x position, rotated when the labels are many, so that they do not overlap. */
  static void xLabel(StringBuilder sb, double x, double y, String text, boolean rotate) {
    if (rotate) {
      sb.append("<text x=\"").append(n(x)).append("\" y=\"").append(n(y)).append("\" text-anchor=\"end\" transform=\"rotate(-35 ")
          .append(n(x)).append(' ').append(n(y)).append(")\">").append(escape(text)).append("</text>");
    } else {
      text(sb, x, y, "middle", text);
    }
  }

  static void line(StringBuilder sb, double x1, double y1, double x2, double y2, String stroke, String extra) {
    sb.append("<line x1=\"").append(n(x1)).append("\" y1=\"").append(n(y1)).append("\" x2=\"").append(n(x2))
        .append("\" y2=\"").append(n(y2)).append("\" stroke=\"").append(stroke).append('"').append(extra).append("/>");
  }

  /**
   * A left value axis from 0 to {@code max} with 5 grid lines, over the plot area
   * {@code (left, top)-(right, bottom)}; and its title, rotated.
   */
  static void valueAxis(StringBuilder sb, double left, double top, double right, double bottom, double max,
      String title, String unit) {
    for (int i = 0; i <= 5; i++) {
      double v = max * i / 5;
      double y = bottom - (bottom - top) * i / 5;
      line(sb, left, y, right, y, i == 0 ? AXIS : GRID, "");
      text(sb, left - 4, y + 4, "end", tick(v) + unit);
    }
    if (title != null && !title.isEmpty()) {
      double cy = (top + bottom) / 2;
      sb.append("<text x=\"12\" y=\"").append(n(cy)).append("\" text-anchor=\"middle\" transform=\"rotate(-90 12 ")
          .append(n(cy)).append(")\">").append(escape(title)).append("</text>");
    }
  }

  /** A legend in one row at {@code (x, y)}: a colour square and the name of each series. */
  static void legend(StringBuilder sb, double x, double y, java.util.List<String> names) {
    double at = x;
    for (int i = 0; i < names.size(); i++) {
      sb.append("<rect class=\"legend\" x=\"").append(n(at)).append("\" y=\"").append(n(y - 9)).append("\" width=\"10\""
          + " height=\"10\" fill=\"").append(PALETTE[i % PALETTE.length]).append("\"/>");
      text(sb, at + 14, y, "start", names.get(i));
      at += 24 + 6.5 * names.get(i).length();
    }
  }
}
