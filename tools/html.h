/*
 * `--html FILE` of `synack demo` and `synack transfer`: one self-contained
 * page (no scripts, no external resources) with the picture of svg.h
 * inline and a table of every event of the run, in time order.
 */
#ifndef SYNACK_TOOLS_HTML_H
#define SYNACK_TOOLS_HTML_H

#include <stddef.h>

#include "svg.h"

/* Writes the page to path.  Returns 0, or -1 with a sentence in err when
 * the file cannot be written. */
int html_file(const char *path, const struct picture *p, char *err, size_t errlen);
/* Writes the SVG and the page a command was asked for (a NULL path: not
 * asked).  Returns 0, or -1 with a sentence in err. */
int html_pictures(const struct picture *p, const char *svg_path, const char *html_path, char *err,
                  size_t errlen);

#endif
