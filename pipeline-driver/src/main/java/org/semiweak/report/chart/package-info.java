/**
 * Small SVG charts for the run report (bar chart, histogram, line chart, heatmap): each a value
 * class whose {@code toSvg()} returns one standalone {@code <svg>} element, with every text escaped
 * and the same output for the same input, so that a report is a page without scripts or network.
 */
package org.semiweak.report.chart;
