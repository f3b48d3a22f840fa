package org.semiweak.report.chart;

import java.util.ArrayList;
import java.util.List;

/**
 * Lines through {@code (x, y)} points, one per series, on a y axis from 0 (or from the smallest
 * value when it is negative) and an x axis over the points' range; points are marked when a series
 * has at most 40.
 *
 * <pre>{@code
 * String svg = new LineChart("training loss", "round", "loss")
 *     .series("labeled", new double[] {1, 2, 3}, new double[] {2.1, 1.4, 0.9}).toSvg();
 * }</pre>
 */
public final class LineChart {
  static final int WIDTH = 640;
  static final int HEIGHT = 260;

  private final String title;
  private final String xTitle;
  private final String yTitle;
  private final List<String> names = new ArrayList<>();
  private final List<double[]> xs = new ArrayList<>();
  private final List<double[]> ys = new ArrayList<>();

  public LineChart(String title, String xTitle, String yTitle) {
    this.title = title;
    this.xTitle = xTitle;
    this.yTitle = yTitle;
  }

  public LineChart series(String name, double[] x, double[] y) {
    if (x.length != y.length) {
      throw new IllegalArgumentException("series '" + name + "': " + x.length + " x values, " + y.length + " y values");
    }
    names.add(name);
    xs.add(x.clone());
    ys.add(y.clone());
    return this;
  }

  public String toSvg() {
    double left = 56;
    double right = WIDTH - 12;
    double top = 26 + (names.size() > 1 ? 14 : 0);
    double bottom = HEIGHT - 36;
    double xMin = Double.POSITIVE_INFINITY;
    double xMax = Double.NEGATIVE_INFINITY;
    double yMax = 0;
    for (int s = 0; s < names.size(); s++) {
      for (int i = 0; i < xs.get(s).length; i++) {
        if (Double.isFinite(xs.get(s)[i]) && Double.isFinite(ys.get(s)[i])) {
          xMin = Math.min(xMin, xs.get(s)[i]);
          xMax = Math.max(xMax, xs.get(s)[i]);
          yMax = Math.max(yMax, ys.get(s)[i]);
        }
      }
    }
    if (!(xMax > xMin)) {
      xMin = Double.isFinite(xMin) ? xMin - 1 : 0;
      xMax = xMin + 2;
    }
    double axis = Svg.niceMax(yMax);
    StringBuilder sb = Svg.open("line-chart", WIDTH, HEIGHT, title);
    Svg.valueAxis(sb, left, top, right, bottom, axis, yTitle, "");
    boolean integers = xs.stream().allMatch(x -> java.util.Arrays.stream(x).allMatch(v -> v == Math.rint(v)));
    for (int i = 0; i <= 5; i++) {
      double v = xMin + (xMax - xMin) * i / 5;
      // Whole x values (rounds, steps) get whole ticks, placed where that value is.
      double shown = integers ? Math.rint(v) : Math.rint(v * 100) / 100;
      double x = left + (shown - xMin) / (xMax - xMin) * (right - left);
      Svg.line(sb, x, bottom, x, bottom + 3, Svg.AXIS, "");
      Svg.text(sb, x, bottom + 13, "middle", Svg.tick(shown));
    }
    Svg.text(sb, (left + right) / 2, HEIGHT - 6, "middle", xTitle);
    if (names.size() > 1) {
      Svg.legend(sb, left, 34, names);
    }
    for (int s = 0; s < names.size(); s++) {
      String colour = Svg.PALETTE[s % Svg.PALETTE.length];
      StringBuilder points = new StringBuilder();
      StringBuilder marks = new StringBuilder();
      double[] x = xs.get(s);
      double[] y = ys.get(s);
      for (int i = 0; i < x.length; i++) {
        if (!Double.isFinite(x[i]) || !Double.isFinite(y[i])) {
          continue;
        }
        double px = left + (x[i] - xMin) / (xMax - xMin) * (right - left);
        double py = bottom - Math.min(y[i], axis) / axis * (bottom - top);
        points.append(points.length() == 0 ? "" : " ").append(Svg.n(px)).append(',').append(Svg.n(py));
        if (x.length <= 40) {
          marks.append("<circle class=\"point\" cx=\"").append(Svg.n(px)).append("\" cy=\"").append(Svg.n(py))
              .append("\" r=\"2.5\" fill=\"").append(colour).append("\"><title>")
              .append(Svg.escape(names.get(s) + ": " + xTitle + " " + Svg.tick(x[i]) + ", " + yTitle + " "
                  + Svg.tick(Math.rint(y[i] * 1000) / 1000))).append("</title></circle>");
        }
      }
      sb.append("<polyline class=\"line\" data-series=\"").append(s).append("\" fill=\"none\" stroke=\"")
          .append(colour).append("\" stroke-width=\"2\" points=\"").append(points).append("\"><title>")
          .append(Svg.escape(names.get(s))).append("</title></polyline>").append(marks);
    }
    return sb.append("</svg>").toString();
  }
}
