/* SPDX-License-Identifier: MIT */
#ifndef VW_DAEMON_NOTIFY_H
#define VW_DAEMON_NOTIFY_H

/*
 * systemd's readiness protocol (sd_notify(3)) without linking libsystemd: a Type=notify
 * unit starts vwired with $NOTIFY_SOCKET, the path of a unix datagram socket ('@' first
 * for one in the abstract namespace), and waits for "READY=1" on it. Outside systemd the
 * variable is unset and nothing is sent.
 */

/*
 * Sends state ("READY=1", "STOPPING=1", lines joined by '\n') as one datagram to
 * $NOTIFY_SOCKET. 1 when sent, 0 when the variable is unset or empty, -errno when it
 * names no socket that takes the datagram (-EAFNOSUPPORT: neither a path nor '@').
 */
int vwired_notify(const char *state);

#endif
