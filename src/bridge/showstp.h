/* SPDX-License-Identifier: MIT */
#ifndef VW_BRIDGE_SHOWSTP_H
#define VW_BRIDGE_SHOWSTP_H

#include <stddef.h>
#include <stdint.h>

#include "bridge.h"

/*
 * Text in the fields and layout of `brctl showstp BRIDGE` and `brctl showmacs
 * BRIDGE` (bridge-utils 1.7), and the same data as JSON. Timers are the time
 * left at `now`. Each function writes at most size bytes including the final
 * NUL (output is cut, never overrun) and returns the length the whole text
 * needs, as snprintf does.
 *
 * Differences from a kernel bridge: the local port is number 0 in showmacs,
 * and "gc timer" is the time until the next FDB entry expires.
 */
size_t br_showstp(const struct bridge *br, uint64_t now, char *buf, size_t size);
size_t br_showstp_json(const struct bridge *br, uint64_t now, char *buf, size_t size);
size_t br_showmacs(const struct bridge *br, uint64_t now, char *buf, size_t size);
size_t br_showmacs_json(const struct bridge *br, uint64_t now, char *buf, size_t size);

/* "8000.0242ac110002": the form brctl prints bridge ids in; buf holds 18 bytes. */
void br_format_bridge_id(uint64_t id, char buf[18]);

#endif
