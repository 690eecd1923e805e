/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Drawing a PlotModel with cairo, as SVG or PNG (chosen by the file name's extension).
 *
 * The SVG carries what a program needs to read the picture back:
 *   - <metadata> holds <plot xmlns="urn:memtide:plot:1"> with one <x-axis> element: the data
 *     range (min, max, in the model's x unit) and the pixels it spans (px-min, px-max), so
 *     that x_px = px-min + (x − min) / (max − min) · (px-max − px-min);
 *   - every mark is a <g> with id "mark-N", class "mark KIND [CLASS…]" (KIND as
 *     plot_mark_kind_to_string(), CLASS the mark's own words) and data-x (its x in data units)
 *     and data-label attributes; inside it, cairo's own drawing of the mark (a <use> of the
 *     group cairo defines under <defs>, whose path is the line at that x).
 */

#include <stddef.h>

#include "plot-model.h"

typedef enum PlotFormat {
        PLOT_FORMAT_SVG,
        PLOT_FORMAT_PNG,
        _PLOT_FORMAT_MAX,
        _PLOT_FORMAT_INVALID = -22,
} PlotFormat;

/* By the extension, case-insensitive: ".svg", ".png"; _PLOT_FORMAT_INVALID otherwise. */
PlotFormat plot_format_from_path(const char *path);

/* Draws m into path, written whole or not at all (a temporary file next to it, renamed).
 * Returns 0; -EINVAL for an unknown extension or a model without data; -ENOMEM; -EPROTO when
 * cairo's SVG is not shaped as expected (the marks cannot be labelled); -errno from writing.
 * ret_error (size bytes) receives the reason. */
int plot_render(const PlotModel *m, const char *path, char *ret_error, size_t size);

/* At exit, after the last plot_render(): frees what cairo and fontconfig keep for the whole
 * process (font caches), so that leak checkers (ASan, valgrind) see a clean exit. A no-op when
 * nothing was drawn. */
void plot_render_exit(void);
