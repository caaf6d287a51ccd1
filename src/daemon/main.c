/* SPDX-License-Identifier: MIT */
/*
 * vwired -c FILE [--run-dir DIR] [--io auto|uring|epoll] [--user USER] [--workers N]
 *        [--no-offload] [-v]
 * vwired [-f] IFNAME      (wireguard-go compatible: for wg-quick and `wg`)
 * vwired --version
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "daemon/notify.h"
#include "daemon/vwired.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: vwired -c FILE [--run-dir DIR] [--io auto|uring|epoll] [--user USER]\n"
		"              [--workers N] [--no-offload] [-v]\n"
		"       vwired [-f] [--run-dir DIR] [--io ...] [-v] IFNAME\n"
		"       vwired --version\n"
		"\n"
		"  -c, --config FILE   the interface, its peers, bridge and wires (wg setconf "
		"format\n"
		"                      plus vwire's keys); runs in the foreground\n"
		"  IFNAME              wireguard-go compatible: create TUN IFNAME and wait for\n"
		"                      configuration on RUNDIR/wireguard/IFNAME.sock (wg, "
		"wg-quick)\n"
		"  -f, --foreground    with IFNAME: do not daemonize\n"
		"  --run-dir DIR       where the sockets go (default /run): root's or yours, and\n"
		"                      not writable by group or others unless sticky\n"
		"  --io BACKEND        auto (default: io_uring, else epoll), uring or epoll\n"
		"  --user USER         drop to USER once devices and sockets are set up (a\n"
		"                      root process stays to remove the sockets at exit)\n"
		"  --no-offload        no TUN TSO/GRO and UDP GSO/GRO offloads (on by default:\n"
		"                      64 KiB super-packets, one system call per run of packets)\n"
		"  --workers N         threads, each with its own ring, UDP socket and TUN/TAP\n"
		"                      queue (default: one per online core, at most 16)\n"
		"  -v, --verbose       debug logging\n"
		"  --version           print vwired's version and exit\n");
}

/*
 * wireguard-go mode without -f: the parent returns once the child is ready
 * (TUN and UAPI socket exist), so `wg setconf` right after it finds the socket.
 */
static int daemonize(int *ready_fd)
{
	int fds[2];
	pid_t pid;
	char c;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		perror("vwired: pipe");
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		perror("vwired: fork");
		return -1;
	}
	if (pid > 0) {
		close(fds[1]);
		if (read(fds[0], &c, 1) == 1)
			exit(0);
		waitpid(pid, NULL, 0);
		exit(1);
	}
	close(fds[0]);
	setsid();
	*ready_fd = fds[1];
	return 0;
}

static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"run-dir", required_argument, NULL, 'r'},
		{"io", required_argument, NULL, 'i'},
		{"user", required_argument, NULL, 'u'},
		{"foreground", no_argument, NULL, 'f'},
		{"verbose", no_argument, NULL, 'v'},
		{"offload", no_argument, NULL, 'o'},
		{"no-offload", no_argument, NULL, 'O'},
		{"workers", required_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	struct vwired_options opt = {.io = IO_AUTO, .offload = true, .version = VWIRE_VERSION};
	static struct vwired d;
	bool foreground = false;
	int ready_fd = -1, c, rc;

	vw_log_set_prefix("vwired");
	while ((c = getopt_long(argc, argv, "c:fvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opt.config_path = optarg;
			break;
		case 'r':
			opt.run_dir = optarg;
			break;
		case 'i':
			if (!io_backend_parse(optarg, &opt.io)) {
				fprintf(stderr, "vwired: --io %s: expected auto, uring or epoll\n",
					optarg);
				return 2;
			}
			break;
		case 'u':
			opt.user = optarg;
			break;
		case 'o':
			opt.offload = true;
			break;
		case 'O':
			opt.offload = false;
			break;
		case 'w': {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);

			if (*optarg < '0' || *optarg > '9' || *end || n < 1 ||
			    n > VWIRED_MAX_WORKERS) {
				fprintf(stderr, "vwired: --workers %s: expected 1 to %u\n", optarg,
					VWIRED_MAX_WORKERS);
				return 2;
			}
			opt.workers = (uint32_t)n;
			break;
		}
		case 'f':
			foreground = true;
			break;
		case 'v':
			opt.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("vwired " VWIRE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (opt.config_path ? optind != argc : optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	if (!opt.config_path) {
		opt.ifname = argv[optind];
		if (strlen(opt.ifname) > CONFIG_NAME_MAX || strchr(opt.ifname, '/')) {
			fprintf(stderr, "vwired: invalid interface name '%s'\n", opt.ifname);
			return 2;
		}
		/* wireguard-go's switch for the same thing. */
		if (getenv("WG_PROCESS_FOREGROUND") &&
		    !strcmp(getenv("WG_PROCESS_FOREGROUND"), "1"))
			foreground = true;
		if (!foreground && daemonize(&ready_fd))
			return 1;
	}
	vw_log_set_level(opt.verbose ? VW_LOG_DEBUG : VW_LOG_INFO);

	if (vwired_init(&d, &opt)) {
		vwired_free(&d);
		return 1;
	}
	if (ready_fd >= 0) {
		(void)!write(ready_fd, "", 1);
		close(ready_fd);
		detach_stdio();
	}
	/* A Type=notify unit (vwired@.service) counts vwired as started from here on. */
	if ((rc = vwired_notify("READY=1")) < 0)
		vw_warn("cannot tell systemd vwired is ready (NOTIFY_SOCKET=%s): %s",
			getenv("NOTIFY_SOCKET"), strerror(-rc));
	rc = vwired_run(&d);
	/* Also when vwired stops on its own (its TUN went away), not at a signal from systemd. */
	vwired_notify("STOPPING=1");
	vwired_free(&d);
	return rc ? 1 : 0;
}
