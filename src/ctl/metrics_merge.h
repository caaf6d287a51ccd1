/* SPDX-License-Identifier: MIT */
#ifndef VW_CTL_METRICS_MERGE_H
#define VW_CTL_METRICS_MERGE_H

#include <stddef.h>
#include <stdio.h>

/*
 * Several Prometheus text expositions (one per vwired instance) as one: each family's
 * HELP and TYPE once, then its samples from every text in text order, the families in
 * order of first appearance. A sample belongs to the family of the HELP or TYPE line
 * above it (else to its own name). Other comments and blank lines go. 0, or -1 when
 * memory ran out.
 */
int metrics_merge(FILE *out, const char *const *texts, size_t n);

#endif
