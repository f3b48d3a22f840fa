package org.semiweak.report.chart;

import java.util.List;

/**
 * A matrix of counts as coloured cells, each row's shade its share of the row's total (for a
 * confusion matrix: of the true class's images, the share predicted as each class), with the count
 * written in the cell.
 *
 * <pre>{@code
 * String svg = new Heatmap("confusion", classes, classes, counts).axes("true class", "predicted class").toSvg();
 * }</pre>
 */
public final class Heatmap {
  static final int CELL = 36;
  static final int LEFT = 110;
  static final int TOP = 30;

  private final String title;
  private final List<String> rows;
  private final List<String> columns;
  private final long[][] counts;
  private String rowTitle = "";
  private String columnTitle = "";

  public Heatmap(String title, List<String> rows, List<String> columns, long[][] counts) {
    if (counts.length != rows.size()) {
      throw new IllegalArgumentException(counts.length + " rows of counts for " + rows.size() + " row labels");
    }
    for (long[] r : counts) {
      if (r.length != columns.size()) {
        throw new IllegalArgumentException("a row of " + r.length + " counts for " + columns.size() + " columns");
      }
    }
    this.title = title;
    this.rows = List.copyOf(rows);
    this.columns = List.copyOf(columns);
    this.counts = new long[counts.length][];
    for (int i = 0; i < counts.length; i++) {
      this.counts[i] = counts[i].clone();
    }
  }

  /** The titles of the row axis (left) and the column axis (bottom). */
  public Heatmap axes(String rowAxis, String columnAxis) {
    this.rowTitle = rowAxis;
    this.columnTitle = columnAxis;
    return this;
  }

  /** The fill of a cell holding {@code share} of its row: white to dark blue. */
  static String shade(double share) {
    double s = Math.max(0, Math.min(1, Double.isFinite(share) ? share : 0));
    int r = (int) Math.round(255 + (8 - 255) * s);
    int g = (int) Math.round(255 + (69 - 255) * s);
    int b = (int) Math.round(255 + (148 - 255) * s);
    return String.format(java.util.Locale.ROOT, "#%02x%02x%02x", r, g, b);
  }

  public String toSvg() {
    int width = LEFT + CELL * columns.size() + 16;
    int height = TOP + CELL * rows.size() + 96;
    StringBuilder sb = Svg.open("heatmap", width, height, title);
    for (int r = 0; r < rows.size(); r++) {
      long total = 0;
      for (long c : counts[r]) {
        total += c;
      }
      double y = TOP + r * CELL;
      Svg.text(sb, LEFT - 4, y + CELL / 2.0 + 4, "end", rows.get(r));
      for (int c = 0; c < columns.size(); c++) {
        double share = total == 0 ? 0 : (double) counts[r][c] / total;
        double x = LEFT + c * CELL;
        sb.append("<rect class=\"cell\" x=\"").append(Svg.n(x)).append("\" y=\"").append(Svg.n(y))
            .append("\" width=\"").append(CELL).append("\" height=\"").append(CELL).append("\" fill=\"")
            .append(shade(share)).append("\" stroke=\"#fff\"><title>").append(Svg.escape(rows.get(r) + " → "
                + columns.get(c) + ": " + Svg.tick(counts[r][c]) + " (" + Svg.tick(Math.rint(share * 1000) / 10)
                + "% of the row)")).append("</title></rect>");
        if (counts[r][c] != 0) {
          sb.append("<text x=\"").append(Svg.n(x + CELL / 2.0)).append("\" y=\"").append(Svg.n(y + CELL / 2.0 + 4))
              .append("\" text-anchor=\"middle\" font-size=\"10\" fill=\"").append(share > 0.5 ? "#fff" : "#222")
              .append("\">").append(Svg.escape(Svg.tick(counts[r][c]))).append("</text>");
        }
      }
    }
    double bottom = TOP + rows.size() * CELL;
    for (int c = 0; c < columns.size(); c++) {
      Svg.xLabel(sb, LEFT + c * CELL + CELL / 2.0 + 3, bottom + 12, columns.get(c), true);
    }
    if (!columnTitle.isEmpty()) {
      Svg.text(sb, LEFT + CELL * columns.size() / 2.0, height - 6, "middle", columnTitle);
    }
    if (!rowTitle.isEmpty()) {
      double cy = TOP + CELL * rows.size() / 2.0;
      sb.append("<text x=\"10\" y=\"").append(Svg.n(cy)).append("\" text-anchor=\"middle\" transform=\"rotate(-90 10 ")
          .append(Svg.n(cy)).append(")\">").append(Svg.escape(rowTitle)).append("</text>");
    }
    return sb.append("</svg>").toString();
  }
}
