/* SPDX-License-Identifier: MIT */
#ifndef VW_DAEMON_METRICS_H
#define VW_DAEMON_METRICS_H

#include <stdint.h>

#include "daemon/out.h"

struct vwired;

/*
 * The answer to "metrics NAME": every counter `vwirectl show --json` has, and the bridge
 * ports', in the Prometheus text exposition format 0.0.4, each series labelled
 * instance="NAME". Under the lock, as worker 0 (ctl.c), like show. now: monotonic ns.
 */
void vwired_metrics(struct vwired *d, struct out *o, uint64_t now);

/* v as a label value: backslash, double quote and newline escaped (the format's rule). */
void metrics_label_value(struct out *o, const char *v);

#endif
