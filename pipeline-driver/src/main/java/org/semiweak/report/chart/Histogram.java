package org.semiweak.report.chart;

/**
 * Counts of equal-width bins over {@code [lo, hi]}, as adjacent bars on a count axis from 0. The
 * counts come computed (e.g. by a Spark aggregation); the chart only draws them.
 *
 * <pre>{@code
 * String svg = new Histogram("top-1 probability", 0, 1, new long[] {3, 10, 42, 7}).toSvg();
 * }</pre>
 */
public final class Histogram {
  private final String title;
  private final double lo;
  private final double hi;
  private final long[] counts;
  private int width = 640;
  private int height = 240;
  private String xTitle = "";

  public Histogram(String title, double lo, double hi, long[] counts) {
    if (!(hi > lo) || counts.length == 0) {
      throw new IllegalArgumentException("a histogram needs lo < hi and at least one bin, found [" + lo + ", " + hi
          + "] with " + counts.length + " bins");
    }
    this.title = title;
    this.lo = lo;
    this.hi = hi;
    this.counts = counts.clone();
  }

  /** The chart's size in pixels (default 640 x 240); small multiples use a smaller one. */
  public Histogram size(int w, int h) {
    this.width = w;
    this.height = h;
    return this;
  }

  /** The title under the x axis. */
  public Histogram xTitle(String t) {
    this.xTitle = t;
    return this;
  }

  double axisMax() {
    long m = 0;
    for (long c : counts) {
      m = Math.max(m, c);
    }
    return Svg.niceMax(m);
  }

  public String toSvg() {
    double left = 52;
    double right = width - 10;
    double top = 26;
    double bottom = height - (xTitle.isEmpty() ? 22 : 36);
    double axis = axisMax();
    StringBuilder sb = Svg.open("histogram", width, height, title);
    Svg.valueAxis(sb, left, top, right, bottom, axis, "", "");
    double bin = (right - left) / counts.length;
    for (int i = 0; i < counts.length; i++) {
      double h = counts[i] / axis * (bottom - top);
      double from = lo + (hi - lo) * i / counts.length;
      double to = lo + (hi - lo) * (i + 1) / counts.length;
      sb.append("<rect class=\"bar\" x=\"").append(Svg.n(left + i * bin)).append("\" y=\"").append(Svg.n(bottom - h))
          .append("\" width=\"").append(Svg.n(Math.max(0.5, bin - 1))).append("\" height=\"").append(Svg.n(h))
          .append("\" fill=\"").append(Svg.PALETTE[0]).append("\"><title>").append(Svg.escape("[" + Svg.tick(from) + ", "
              + Svg.tick(to) + (i == counts.length - 1 ? "]" : ")") + ": " + Svg.tick(counts[i])))
          .append("</title></rect>");
    }
    int ticks = Math.min(5, counts.length);
    for (int i = 0; i <= ticks; i++) {
      double x = left + (right - left) * i / ticks;
      Svg.text(sb, x, bottom + 13, "middle", Svg.tick(lo + (hi - lo) * i / ticks));
    }
    if (!xTitle.isEmpty()) {
      Svg.text(sb, (left + right) / 2, height - 6, "middle", xTitle);
    }
    return sb.append("</svg>").toString();
  }
}
