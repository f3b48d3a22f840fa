package org.semiweak.report.chart;

import java.util.ArrayList;
import java.util.List;

/**
 * Vertical bars: one group per category, one bar per series in each group, on a value axis from 0;
 * optionally a dashed reference line (e.g. K). A missing value ({@code NaN}) draws no bar.
 *
 * <pre>{@code
 * String svg = new BarChart("selected per class", List.of("Coat", "Bag"))
 *     .series("selected", new double[] {400, 250}).reference(400, "K = 400").toSvg();
 * }</pre>
 */
public final class BarChart {
  static final int WIDTH = 640;
  /** Height of the plot area; the chart adds the title, legend and labels around it. */
  static final double PLOT = 190;
  static final double LEFT = 56;
  static final double RIGHT = WIDTH - 12;
  static final double TOP = 26;

  private final String title;
  private final List<String> categories;
  private final List<String> names = new ArrayList<>();
  private final List<double[]> values = new ArrayList<>();
  private String valueTitle = "";
  private String unit = "";
  private double max = Double.NaN;
  private double reference = Double.NaN;
  private String referenceLabel = "";

  public BarChart(String title, List<String> categories) {
    this.title = title;
    this.categories = List.copyOf(categories);
  }

  /** A series of values, one per category (NaN for none). */
  public BarChart series(String name, double[] v) {
    if (v.length != categories.size()) {
      throw new IllegalArgumentException("series '" + name + "' has " + v.length + " values for "
          + categories.size() + " categories");
    }
    names.add(name);
    values.add(v.clone());
    return this;
  }

  /** The title of the value axis and the unit after each tick (e.g. {@code %}). */
  public BarChart valueAxis(String axisTitle, String tickUnit) {
    this.valueTitle = axisTitle;
    this.unit = tickUnit;
    return this;
  }

  /** The top of the value axis (default: a round number at or above the largest value and the reference). */
  public BarChart max(double axisMax) {
    this.max = axisMax;
    return this;
  }

  /** A dashed horizontal line at {@code value}, labelled. */
  public BarChart reference(double value, String label) {
    this.reference = value;
    this.referenceLabel = label;
    return this;
  }

  /** The top of the value axis this chart draws. */
  double axisMax() {
    if (!Double.isNaN(max)) {
      return max;
    }
    double m = Double.isNaN(reference) ? 0 : reference;
    for (double[] s : values) {
      for (double v : s) {
        if (Double.isFinite(v)) {
          m = Math.max(m, v);
        }
      }
    }
    return Svg.niceMax(m);
  }

  /** Category labels longer than this are cut at the start ("…k4000-p2/finetune"): the end tells them apart. */
  static final int MAX_LABEL = 28;

  static String label(String category) {
    return category.length() <= MAX_LABEL ? category : "…" + category.substring(category.length() - MAX_LABEL + 1);
  }

  public String toSvg() {
    int longest = categories.stream().mapToInt(c -> label(c).length()).max().orElse(0);
    boolean rotate = categories.size() > 6 || longest > 9;
    // Rotated labels hang below and to the left of their bar: make room for the longest.
    double labelSpace = rotate ? 16 + longest * 3.7 : 22;
    double group0 = (RIGHT - LEFT) / Math.max(1, categories.size());
    double left = rotate ? Math.max(LEFT, longest * 5.2 - group0 / 2 + 6) : LEFT;
    double top = TOP + (names.size() > 1 ? 14 : 0);
    double bottom = top + PLOT;
    int height = (int) Math.ceil(bottom + labelSpace + 6);
    double axis = axisMax();
    StringBuilder sb = Svg.open("bar-chart", WIDTH, height, title);
    Svg.valueAxis(sb, left, top, RIGHT, bottom, axis, valueTitle, unit);
    if (names.size() > 1) {
      Svg.legend(sb, left, TOP + 8, names);
    }
    double group = (RIGHT - left) / Math.max(1, categories.size());
    double barWidth = group * 0.8 / Math.max(1, names.size());
    for (int c = 0; c < categories.size(); c++) {
      double x0 = left + c * group + group * 0.1;
      for (int s = 0; s < names.size(); s++) {
        double v = values.get(s)[c];
        if (!Double.isFinite(v)) {
          continue;
        }
        double h = Math.max(0, Math.min(v, axis)) / axis * (bottom - top);
        sb.append("<rect class=\"bar\" data-series=\"").append(s).append("\" x=\"").append(Svg.n(x0 + s * barWidth))
            .append("\" y=\"").append(Svg.n(bottom - h)).append("\" width=\"").append(Svg.n(barWidth))
            .append("\" height=\"").append(Svg.n(h)).append("\" fill=\"").append(Svg.PALETTE[s % Svg.PALETTE.length])
            .append("\"><title>").append(Svg.escape(categories.get(c) + (names.size() > 1 ? " · " + names.get(s) : "")
                + ": " + Svg.tick(v) + unit)).append("</title></rect>");
      }
      Svg.xLabel(sb, left + c * group + group / 2 + (rotate ? 4 : 0), bottom + 14, label(categories.get(c)), rotate);
    }
    if (Double.isFinite(reference)) {
      double y = bottom - Math.min(reference, axis) / axis * (bottom - top);
      Svg.line(sb, left, y, RIGHT, y, "#c00", " class=\"reference\" stroke-dasharray=\"5 3\"");
      Svg.text(sb, RIGHT, y - 3, "end", referenceLabel);
    }
    return sb.append("</svg>").toString();
  }
}
