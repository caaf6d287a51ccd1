/* SPDX-License-Identifier: MIT */
#ifndef VW_TUNNEL_TIMERS_H
#define VW_TUNNEL_TIMERS_H

/*
 * The whitepaper's timers (section 6), driven by events named as the kernel
 * names them. Each peer keeps one deadline per timer; the device keeps its
 * peers in a min-heap ordered by their earliest deadline, so an event costs
 * O(log peers) at worst and finding what is due costs O(1): nothing ever
 * scans all peers.
 */
#include <stdbool.h>
#include <stdint.h>

struct wg_device;
struct wg_peer;

void wg_timers_init(struct wg_peer *peer);
/* Cancels every timer of the peer and takes it out of the heap. */
void wg_timers_stop(struct wg_peer *peer);

void wg_timer_mod(struct wg_peer *peer, int kind, uint64_t deadline);
void wg_timer_del(struct wg_peer *peer, int kind);
bool wg_timer_pending(const struct wg_peer *peer, int kind);

/* After an authenticated data packet is sent. */
void wg_timers_data_sent(struct wg_peer *peer, uint64_t now_ns);
/* After an authenticated data packet is received. */
void wg_timers_data_received(struct wg_peer *peer, uint64_t now_ns);
/* After any authenticated packet (keepalive, data, handshake) is sent. */
void wg_timers_any_authenticated_packet_sent(struct wg_peer *peer);
/* After any authenticated packet is received (it also notes when: the peer is alive). */
void wg_timers_any_authenticated_packet_received(struct wg_peer *peer, uint64_t now_ns);
/* After a handshake initiation is sent. */
void wg_timers_handshake_initiated(struct wg_peer *peer, uint64_t now_ns);
/* After a handshake response is consumed, or the first data packet confirms a session. */
void wg_timers_handshake_complete(struct wg_peer *peer, uint64_t now_ns);
/* After new transport keys are derived. */
void wg_timers_session_derived(struct wg_peer *peer, uint64_t now_ns);
/* Before an authenticated packet is sent or after one is received. */
void wg_timers_any_authenticated_packet_traversal(struct wg_peer *peer, uint64_t now_ns);

/* Runs the handlers of every timer due at now_ns. */
void wg_timers_expire(struct wg_device *dev, uint64_t now_ns);
/* The earliest peer deadline, WG_TIMER_OFF when none. */
uint64_t wg_timers_next(const struct wg_device *dev);

#endif
