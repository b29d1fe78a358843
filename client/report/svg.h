/*
 * svg.h — the HTML page's line charts (svg.c), inside client/report only: one
 * cairn_report_chart_t becomes a <figure> holding an inline SVG (axes, ticks,
 * one path per series, target and baseline lines) and its legend. The numbers
 * behind the drawing (the axis scale, which x labels fit, the path of a series
 * with gaps) are separate functions, so tests check them on numbers, not on
 * pixels.
 */
#ifndef CAIRN_REPORT_SVG_H
#define CAIRN_REPORT_SVG_H

#include <stddef.h>
#include <stdio.h>

#include "out.h"
#include "report.h"


/* A value axis: ticks lo, lo + step, ... hi (n of them), each printed with
 * decimals places. */
typedef struct cairn__axis {
  double lo, hi, step;
  size_t n;
  int decimals;
} cairn__axis_t;

/*
 * A readable axis covering [lo, hi]: steps of 1, 2, 2.5 or 5 times a power of
 * ten, about `want` ticks (at least 2), the ends on ticks. A range of one value
 * is widened around it; a range starting at or above 0 and reaching below a
 * third of its top starts at 0; otherwise the lowest value stays above the
 * bottom tick (a line or a target on the x axis would hide in it). lo and hi
 * must be finite.
 */
void cairn__axis_nice(double lo, double hi, int want, cairn__axis_t *out);

/* The tick value i of a (lo + i * step, exact at the ends, never "-0"). */
double cairn__axis_tick(const cairn__axis_t *a, size_t i);

/*
 * Which x labels to print so that none overlaps the next: every step-th,
 * counted back from the last (the latest period is always labelled). nx
 * labels spread evenly over width pixels, each about label_w pixels wide.
 * @return the step (1: every label), at least 1.
 */
size_t cairn__label_step(size_t nx, double width, double label_w);

/* Where a chart's points go: x of period i, y of a value. */
typedef struct cairn__plot {
  double left, right, top, bottom; /* the plot area, in SVG units */
  size_t nx;
  cairn__axis_t axis;
} cairn__plot_t;

double cairn__plot_x(const cairn__plot_t *p, size_t i);
double cairn__plot_y(const cairn__plot_t *p, double v);

/*
 * The path data of a series of p->nx values: "M x y" where a run of values
 * starts, " L x y" for the next value of the run; a NAN (or an infinity) ends
 * a run (a gap, not a line through it). Coordinates with one decimal. Writes "" for no value.
 */
void cairn__series_path(FILE *f, const cairn__plot_t *p, const double *y);

/*
 * The chart as a <figure>: title (<h3>), the SVG (role="img", aria-label, a
 * <title> and a <desc> summing it up; every text escaped), its legend (a
 * colour and a marker shape per series), its caption. Each series is one
 * <path class="series" data-series="NAME">. index makes the element ids
 * unique on the page.
 */
void cairn__svg_chart(cairn__out_t *o, const cairn_report_chart_t *c, size_t index);

#endif
