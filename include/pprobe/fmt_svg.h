/* fmt_svg.h - a self-contained interactive flame graph (one SVG file).
 *
 * Frames are merged from the root (outermost) up; inlined frames are their
 * own boxes.  The file embeds its own script and style: no network.  Hover
 * shows function, value and share; a click zooms into a frame; a search box
 * highlights matches; colours are by module.  Pure: reads the profile.
 */
#ifndef PPROBE_FMT_SVG_H
#define PPROBE_FMT_SVG_H

#include <stdio.h>

struct profile;

/* Write the flame graph of sample value index vi, titled title. */
int fmt_svg_flamegraph(const struct profile *p, int vi, const char *title, FILE *out);

#endif
