/* SPDX-License-Identifier: MIT */
#ifndef VW_DAEMON_RUNDIR_H
#define VW_DAEMON_RUNDIR_H

/*
 * The run dir and the socket files in it (rundir.c).
 *
 * vwired's sockets are its configuration interface: whoever can replace them, or the
 * folders they sit in, can talk to `wg` and vwirectl in vwired's place or make vwired
 * create files where it should not. So every folder on the way is one only root or the
 * user vwired runs as (its effective uid while it sets up: root, also with --user) can
 * change:
 *  - the run dir is owned by root or that user, and is not writable by group or others
 *    unless it is sticky (/tmp: 1777, root's): in a sticky folder nobody else can
 *    rename or remove what vwired made there;
 *  - its parents are not writable by group or others unless sticky;
 *  - wireguard/ and vwire/ (made 0755 when missing) are real folders, not symbolic
 *    links, owned by root or that user, and not writable by group or others at all;
 *  - the run dir itself may be reached through a symbolic link (/var/run -> /run) only
 *    if root or that user owns the link.
 * With --user, everything stays root's: the user vwired drops to owns nothing there
 * (a folder it owned would let it, once compromised, plant links for the next root
 * start). It cannot remove the sockets in a root folder at exit, so a small process
 * forked before the config is read (it never holds a key) stays root, waits for vwired
 * to exit, however it exits, and removes them (the cleaner, below).
 */

/*
 * Creates what is missing and checks the rules above for run_dir, its parents and its
 * wireguard/ and vwire/ subfolders. 0, or -1 after logging what is wrong and where.
 */
int vwired_rundir_check(const char *run_dir);

/*
 * Makes path, a socket vwired is about to create (owner names what serves it, for the
 * message), free: nothing there is fine; a socket nobody accepts on (its process died)
 * is removed; a socket something accepts on is "already running"; a symbolic link or
 * anything else is refused and left alone. 0, or -1 after logging why.
 */
int vwired_rundir_claim(const char *path, const char *owner);

/* --user: forks the cleaner (before any key is read). 0, or -1 after logging why. */
int vwired_cleaner_start(void);
/* Hands the cleaner a socket vwired just made (no-op without a cleaner). */
void vwired_cleaner_add(const char *path);
/*
 * vwired is done with its sockets: the cleaner removes those that are still the ones
 * it was given (not a newer vwired's), and this waits for it to finish.
 */
void vwired_cleaner_stop(void);

#endif
