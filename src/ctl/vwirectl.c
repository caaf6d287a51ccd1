/* SPDX-License-Identifier: MIT */
/*
 * vwirectl: key tools that behave exactly as `wg genkey|pubkey|genpsk`, the
 * client of vwired's control socket (show, metrics, showstp, showmacs, dot, mcheck, reload), and
 * `mesh`, every host's config from one file for the whole network (mesh.c, mesh_write.c).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "crypto/keys.h"
#include "crypto/x25519.h"
#include "mesh.h"
#include "metrics_merge.h"

#define PROG_NAME "vwirectl"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: %s <cmd> [<args>]\n\n"
		"Available subcommands:\n"
		"  genkey    Generates a new private key and writes it to stdout\n"
		"  genpsk    Generates a new preshared key and writes it to stdout\n"
		"  pubkey    Reads a private key from stdin and writes a public key to stdout\n"
		"  show [NAME] [--json]   Shows vwired instances: peers, wires, counters\n"
		"  metrics [NAME]  The same counters for Prometheus (text exposition format)\n"
		"  showstp BRIDGE [--json]   Spanning tree state, as brctl showstp\n"
		"  showmacs BRIDGE [--json]  Learned MAC addresses, as brctl showmacs\n"
		"  dot BRIDGE    The bridge's spanning tree as a graphviz graph\n"
		"  mcheck BRIDGE PORT   RSTP tries again on PORT (its 802.1D neighbour gone)\n"
		"  reload NAME [FILE]   vwired applies its changed config file (as wg syncconf)\n"
		"  mesh FILE -o DIR   Writes each host's config from one file for the network\n"
		"  --version     Prints vwirectl's version\n\n"
		"Options before the subcommand:\n"
		"  --run-dir DIR   where vwired's sockets are (default /run)\n",
		PROG_NAME);
}

static const char *run_dir = "/run";

/* The request line, with pass_fd (>= 0) handed over alongside its first byte. */
static int send_request(int fd, const char *request, int pass_fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	char line[600];
	int len = snprintf(line, sizeof(line), "%s\n", request);
	struct iovec iov = {line, (size_t)len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (len < 0 || (size_t)len >= sizeof(line)) {
		errno = E2BIG;
		return -1;
	}
	if (pass_fd >= 0) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL) == len ? 0 : -1;
}

/*
 * The control protocol: one request line ("show --json\n"), then vwired writes
 * the answer and closes. An answer that starts with "error: " is a failure.
 */
static int ctl_request_to(FILE *out, const char *name, const char *suffix, const char *request,
			  bool quiet_missing, int pass_fd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char buf[4096];
	bool first = true, error = false;
	ssize_t n;
	int fd;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/vwire/%s%s", run_dir, name,
			     suffix) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "%s: run directory path too long: %s\n", PROG_NAME, run_dir);
		return 1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (!quiet_missing)
			fprintf(stderr, "%s: cannot reach vwired '%s' at %s: %s\n", PROG_NAME, name,
				sa.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	if (send_request(fd, request, pass_fd)) {
		fprintf(stderr, "%s: %s: %s\n", PROG_NAME, sa.sun_path, strerror(errno));
		close(fd);
		return 1;
	}
	shutdown(fd, SHUT_WR);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (first && n >= 7 && !memcmp(buf, "error: ", 7))
			error = true;
		first = false;
		fwrite(buf, 1, (size_t)n, error ? stderr : out);
	}
	close(fd);
	if (n < 0) {
		fprintf(stderr, "%s: reading from vwired '%s': %s\n", PROG_NAME, name,
			strerror(errno));
		return 1;
	}
	return error ? 1 : 0;
}

static int ctl_request(const char *name, const char *suffix, const char *request,
		       bool quiet_missing)
{
	return ctl_request_to(stdout, name, suffix, request, quiet_missing, -1);
}

/* The instances with a control socket under the run dir, in name order; -1: *rc says why. */
static int ctl_instances(struct dirent ***names, int *rc)
{
	char dir[PATH_MAX];
	int n;

	snprintf(dir, sizeof(dir), "%s/vwire", run_dir);
	n = scandir(dir, names, NULL, alphasort);
	if (n < 0) {
		*rc = errno == ENOENT ? 0 : 1;
		if (*rc)
			fprintf(stderr, "%s: %s: %s\n", PROG_NAME, dir, strerror(errno));
	}
	return n;
}

/* Every instance with a control socket under the run dir, in name order. */
static int ctl_show_all(bool json)
{
	struct dirent **names;
	int n, rc = 0, shown = 0;

	n = ctl_instances(&names, &rc);
	if (n < 0) {
		if (json && !rc)
			puts("[]");
		return rc;
	}
	if (json)
		fputs("[", stdout);
	for (int i = 0; i < n; i++) {
		char *dot = strrchr(names[i]->d_name, '.');

		if (dot && !strcmp(dot, ".ctl")) {
			*dot = '\0';
			if (json && shown)
				fputs(",", stdout);
			else if (!json && shown)
				putchar('\n');
			fflush(stdout);
			rc |= ctl_request(names[i]->d_name, ".ctl", json ? "show --json" : "show",
					  false);
			shown++;
		}
		free(names[i]);
	}
	free(names);
	if (json)
		puts("]");
	return rc;
}

/*
 * metrics without NAME: every instance's answer, merged so that each family's HELP and TYPE
 * come once with all its series together (vwired labels each with instance="NAME").
 */
static int ctl_metrics_all(void)
{
	struct dirent **names;
	char **texts = NULL;
	size_t ntexts = 0;
	int n, rc = 0;

	n = ctl_instances(&names, &rc);
	if (n < 0)
		return rc;
	texts = calloc((size_t)n + 1, sizeof(*texts));
	for (int i = 0; i < n; i++) {
		char *dot = strrchr(names[i]->d_name, '.'), request[sizeof(names[i]->d_name) + 8];
		size_t len = 0;
		FILE *f;

		if (texts && dot && !strcmp(dot, ".ctl")) {
			*dot = '\0';
			snprintf(request, sizeof(request), "metrics %s", names[i]->d_name);
			f = open_memstream(&texts[ntexts], &len);
			/* An instance that failed says so on stderr and is left out. */
			if (!f || ctl_request_to(f, names[i]->d_name, ".ctl", request, false, -1) |
					  fclose(f)) {
				rc = 1;
				free(texts[ntexts]);
				texts[ntexts] = NULL;
			} else {
				ntexts++;
			}
		}
		free(names[i]);
	}
	free(names);
	if (!texts || metrics_merge(stdout, (const char *const *)texts, ntexts) < 0) {
		fprintf(stderr, "%s: out of memory\n", PROG_NAME);
		rc = 1;
	}
	for (size_t i = 0; i < ntexts; i++)
		free(texts[i]);
	free(texts);
	return rc;
}

/* show/metrics/showstp/showmacs/dot: "CMD [NAME] [--json]" forwarded as one request line. */
static int cmd_ctl(int argc, char **argv, bool name_required)
{
	const char *name = NULL;
	bool json = false;
	char request[256];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!name && argv[i][0] != '-')
			name = argv[i];
		else {
			fprintf(stderr, "Usage: %s %s %s\n", PROG_NAME, argv[0],
				name_required		      ? "BRIDGE [--json]"
				: !strcmp(argv[0], "metrics") ? "[NAME]"
							      : "[NAME] [--json]");
			return 1;
		}
	}
	if (json && !strcmp(argv[0], "metrics")) {
		fprintf(stderr, "Usage: %s metrics [NAME]\n", PROG_NAME);
		return 1;
	}
	if (!name) {
		if (name_required) {
			fprintf(stderr, "Usage: %s %s BRIDGE [--json]\n", PROG_NAME, argv[0]);
			return 1;
		}
		if (!strcmp(argv[0], "metrics"))
			return ctl_metrics_all();
		return ctl_show_all(json);
	}
	if (strlen(name) > 64 || strchr(name, '/')) {
		fprintf(stderr, "%s: invalid name '%s'\n", PROG_NAME, name);
		return 1;
	}
	snprintf(request, sizeof(request), "%s %s%s", argv[0], name, json ? " --json" : "");
	/* A bridge answers on its own socket, BRIDGE.bridge, beside its instance's NAME.ctl. */
	return ctl_request(name, name_required ? ".bridge" : ".ctl", request, false);
}

/* mcheck BRIDGE PORT: one request on the bridge's socket; vwired answers "ok". */
static int cmd_mcheck(int argc, char **argv)
{
	char request[256];

	if (argc != 3) {
		fprintf(stderr, "Usage: %s mcheck BRIDGE PORT\n", PROG_NAME);
		return 1;
	}
	for (int i = 1; i < 3; i++)
		if (strlen(argv[i]) > 64 || strchr(argv[i], '/') || argv[i][0] == '-' ||
		    strpbrk(argv[i], " \t\r\n")) {
			fprintf(stderr, "%s: invalid name '%s'\n", PROG_NAME, argv[i]);
			return 1;
		}
	snprintf(request, sizeof(request), "mcheck %s %s", argv[1], argv[2]);
	return ctl_request(argv[1], ".bridge", request, false);
}

/*
 * reload NAME [FILE]: vwired reads its config file again (or FILE, which this process
 * opens and hands over: vwired under systemd may not read /etc/vwire itself) and applies
 * what changed. It answers the summary, or "error: FILE:LINE: ..." with the running
 * config kept.
 */
static int cmd_reload(int argc, char **argv)
{
	char request[PATH_MAX + 16], path[PATH_MAX];
	int fd = -1, rc;

	if (argc < 2 || argc > 3 || strlen(argv[1]) > 64 || strchr(argv[1], '/') ||
	    argv[1][0] == '-' || strpbrk(argv[1], " \t\r\n")) {
		fprintf(stderr, "Usage: %s reload NAME [FILE]\n", PROG_NAME);
		return 1;
	}
	snprintf(request, sizeof(request), "reload");
	if (argc == 3) {
		if (!realpath(argv[2], path) || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			fprintf(stderr, "%s: %s: %s\n", PROG_NAME, argv[2], strerror(errno));
			return 1;
		}
		if (strpbrk(path, " \t\r\n") || strlen(path) > 400) {
			fprintf(stderr, "%s: %s: a path without blanks, of 400 bytes at most\n",
				PROG_NAME, path);
			close(fd);
			return 1;
		}
		snprintf(request, sizeof(request), "reload %s", path);
	}
	rc = ctl_request_to(stdout, argv[1], ".ctl", request, false, fd);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* genkey and genpsk: 32 random bytes, clamped for a private key. */
static int cmd_genkey(int argc, char **argv, bool clamp)
{
	uint8_t key[WG_KEY_LEN];
	char b64[WG_KEY_LEN_BASE64 + 1];
	struct stat st;

	if (argc != 1) {
		fprintf(stderr, "Usage: %s %s\n", PROG_NAME, argv[0]);
		return 1;
	}
	/* A key written to a file others can read is a leaked key: say so, as wg does. */
	if (!fstat(STDOUT_FILENO, &st) && S_ISREG(st.st_mode) && (st.st_mode & S_IRWXO))
		fputs("Warning: writing to world accessible file.\n"
		      "Consider setting the umask to 077 and trying again.\n",
		      stderr);
	crypto_random(key, sizeof(key));
	if (clamp)
		x25519_clamp(key);
	key_to_base64(b64, key);
	crypto_wipe(key, sizeof(key));
	puts(b64);
	crypto_wipe(b64, sizeof(b64));
	return 0;
}

static int cmd_pubkey(int argc, char **argv)
{
	uint8_t key[WG_KEY_LEN];
	char b64[WG_KEY_LEN_BASE64 + 1];
	int c;

	if (argc != 1) {
		fprintf(stderr, "Usage: %s %s\n", PROG_NAME, argv[0]);
		return 1;
	}
	if (fread(b64, 1, WG_KEY_LEN_BASE64, stdin) != WG_KEY_LEN_BASE64) {
		fprintf(stderr, "%s: Key is not the correct length or format\n", PROG_NAME);
		return 1;
	}
	b64[WG_KEY_LEN_BASE64] = '\0';
	/* Whitespace (a newline from `genkey`) and NULs may follow the key; nothing else. */
	while ((c = getchar()) != EOF) {
		if (c && !isspace(c)) {
			fprintf(stderr, "%s: Trailing characters found after key\n", PROG_NAME);
			crypto_wipe(b64, sizeof(b64));
			return 1;
		}
	}
	if (!key_from_base64(key, b64)) {
		fprintf(stderr, "%s: Key is not the correct length or format\n", PROG_NAME);
		crypto_wipe(b64, sizeof(b64));
		return 1;
	}
	x25519_public(key, key);
	key_to_base64(b64, key);
	puts(b64);
	crypto_wipe(key, sizeof(key));
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (!crypto_init()) {
		fprintf(stderr, "%s: cannot initialise libsodium\n", PROG_NAME);
		return 1;
	}
	while (argc > 2 && !strcmp(argv[1], "--run-dir")) {
		run_dir = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "genkey"))
		return cmd_genkey(argc - 1, argv + 1, true);
	if (!strcmp(cmd, "genpsk"))
		return cmd_genkey(argc - 1, argv + 1, false);
	if (!strcmp(cmd, "pubkey"))
		return cmd_pubkey(argc - 1, argv + 1);
	if (!strcmp(cmd, "mesh"))
		return mesh_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "show") || !strcmp(cmd, "metrics"))
		return cmd_ctl(argc - 1, argv + 1, false);
	if (!strcmp(cmd, "showstp") || !strcmp(cmd, "showmacs") || !strcmp(cmd, "dot"))
		return cmd_ctl(argc - 1, argv + 1, true);
	if (!strcmp(cmd, "mcheck"))
		return cmd_mcheck(argc - 1, argv + 1);
	if (!strcmp(cmd, "reload"))
		return cmd_reload(argc - 1, argv + 1);
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		puts(PROG_NAME " " VWIRE_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "%s: invalid subcommand '%s'\n", PROG_NAME, cmd);
	usage(stderr);
	return 1;
}
