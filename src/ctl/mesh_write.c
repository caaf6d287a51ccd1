/* SPDX-License-Identifier: MIT */
/*
 * `vwirectl mesh FILE -o DIR`, the file side of mesh.c: reads FILE and the keys an
 * earlier run kept in DIR/keys, makes the keys still missing, and only once every
 * file could be made writes any: the keys first, then the configs, each whole (a
 * temporary file renamed into place), mode 0600.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "core/parse.h"
#include "crypto/crypto.h"
#include "crypto/x25519.h"
#include "mesh.h"

#define PROG "vwirectl mesh"

/* One file to write: a host's key, config or script. */
struct out_file {
	char path[PATH_MAX];
	char *text;
	size_t len;
};

struct outputs {
	struct out_file *files;
	uint32_t n;
};

static void outputs_free(struct outputs *o)
{
	for (uint32_t i = 0; i < o->n; i++) {
		if (o->files[i].text)
			crypto_wipe(o->files[i].text, o->files[i].len);
		free(o->files[i].text);
	}
	free(o->files);
}

static bool path_join(char out[PATH_MAX], const char *dir, const char *name, const char *ext)
{
	if ((size_t)snprintf(out, PATH_MAX, "%s/%s%s", dir, name, ext) < PATH_MAX)
		return true;
	fprintf(stderr, "%s: %s: path too long\n", PROG, dir);
	return false;
}

/* A key file as `wg genkey > NAME.key` leaves it: base64 and a newline. */
static int load_key(const char *path, uint8_t key[WG_KEY_LEN])
{
	char err[PATH_MAX + 64], *data, *text;
	size_t len;
	bool ok;

	if (vw_read_file(path, 256, &data, &len, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		return -1;
	}
	data[len] = '\0';
	for (char *nl = strchr(data, '\n'); nl; nl = strchr(nl, '\n'))
		*nl = ' ';
	text = vw_trim(data);
	ok = key_from_base64(key, text) && !key_is_zero(key);
	crypto_wipe(data, len);
	free(data);
	if (!ok)
		fprintf(stderr, "%s: %s: not a key: %s\n", PROG, path, KEY_BASE64_HELP);
	return ok ? 0 : -1;
}

/*
 * The hosts the mesh file gives no key: the one kept from an earlier run, or a new
 * one, added to outs to be written.
 */
static int fill_keys(struct mesh *m, const char *dir, struct outputs *outs, bool *fresh)
{
	char keydir[PATH_MAX];

	if (!path_join(keydir, dir, "keys", ""))
		return -1;
	for (uint32_t i = 0; i < m->n_hosts; i++) {
		struct mesh_host *h = &m->hosts[i];
		struct out_file *f = &outs->files[outs->n];
		uint8_t key[WG_KEY_LEN];
		struct stat st;

		fresh[i] = false;
		if (!mesh_needs_key(h))
			continue;
		if (!path_join(f->path, keydir, h->name, ".key"))
			return -1;
		if (lstat(f->path, &st) == 0 || errno != ENOENT) {
			if (load_key(f->path, key))
				return -1;
		} else {
			char b64[WG_KEY_LEN_BASE64 + 1];

			x25519_generate(key);
			key_to_base64(b64, key);
			f->len = WG_KEY_LEN_BASE64 + 1;
			f->text = malloc(f->len + 1);
			if (!f->text) {
				crypto_wipe(key, sizeof(key));
				fprintf(stderr, "%s: out of memory\n", PROG);
				return -1;
			}
			snprintf(f->text, f->len + 1, "%s\n", b64);
			crypto_wipe(b64, sizeof(b64));
			outs->n++;
			fresh[i] = true;
		}
		mesh_set_private_key(h, key);
		crypto_wipe(key, sizeof(key));
	}
	return 0;
}

static int render(const struct mesh *m, uint32_t i, enum mesh_output what, const char *dir,
		  struct outputs *outs)
{
	struct out_file *f = &outs->files[outs->n];
	size_t need = mesh_render(m, i, what, NULL, 0);

	if (!need)
		return 0;
	if (!path_join(f->path, dir, m->hosts[i].name, what == MESH_SCRIPT ? ".sh" : ".conf"))
		return -1;
	f->text = malloc(need + 1);
	if (!f->text) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		return -1;
	}
	f->len = mesh_render(m, i, what, f->text, need + 1);
	outs->n++;
	return 0;
}

static int make_dir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	fprintf(stderr, "%s: %s: %s\n", PROG, path,
		errno == EEXIST ? "exists and is not a directory" : strerror(errno));
	return -1;
}

/* Whole or not at all: a temporary file beside it, renamed over the old one. */
static int write_file(const struct out_file *f)
{
	char tmp[PATH_MAX];
	size_t done = 0;
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", f->path) >= sizeof(tmp)) {
		fprintf(stderr, "%s: %s: path too long\n", PROG, f->path);
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", PROG, tmp, strerror(errno));
		return -1;
	}
	/* mkostemp's 0600 is narrowed by the umask, never widened: make it exactly that. */
	if (fchmod(fd, 0600) < 0)
		goto fail;
	while (done < f->len) {
		ssize_t n = write(fd, f->text + done, f->len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, f->path) == 0)
		return 0;
	fd = -1;
fail:
	fprintf(stderr, "%s: %s: %s\n", PROG, f->path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

static void report(const struct mesh *m, const char *dir, const bool *fresh)
{
	uint32_t wires = 0;

	for (uint32_t a = 0; a < m->n_hosts; a++)
		for (uint32_t b = a + 1; b < m->n_hosts; b++)
			wires += mesh_wired(m, a, b);
	printf("%u hosts, %u wires, in %s:\n", m->n_hosts, wires, dir);
	for (uint32_t i = 0; i < m->n_hosts; i++) {
		const struct mesh_host *h = &m->hosts[i];

		if (h->kind == MESH_VWIRED)
			printf("  %s.conf: vwired -c %s.conf\n", h->name, h->name);
		else
			printf("  %s.conf, %s.sh: wg-quick up %s (the file as "
			       "/etc/wireguard/%s.conf), then sh %s.sh\n",
			       h->name, h->name, h->ifname, h->ifname, h->name);
		if (fresh[i])
			printf("  keys/%s.key: %s's new private key\n", h->name, h->name);
		if (!h->has_private_key)
			printf("  %s.conf: PrivateKey is a placeholder, the mesh file gives only "
			       "%s's public key: put its private key there\n",
			       h->name, h->name);
	}
}

int mesh_main(int argc, char **argv)
{
	const char *file = NULL, *dir = NULL;
	char err[PATH_MAX + 512], keydir[PATH_MAX], *text = NULL;
	struct outputs outs = {0};
	struct mesh m;
	bool *fresh = NULL, any_fresh = false;
	size_t len;
	int ret = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc && !dir) {
			dir = argv[++i];
		} else if (argv[i][0] != '-' && !file) {
			file = argv[i];
		} else {
			file = NULL;
			break;
		}
	}
	if (!file || !dir) {
		fprintf(stderr, "Usage: vwirectl mesh FILE -o DIR\n");
		return 1;
	}
	if (vw_read_file(file, MESH_MAX_FILE_SIZE, &text, &len, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		return 1;
	}
	ret = mesh_parse(text, len, file, &m, err, sizeof(err));
	/* The mesh file may hold private keys. */
	crypto_wipe(text, len);
	free(text);
	if (ret) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	ret = 1;
	/* At most a key, a config and a script per host. */
	outs.files = calloc(3 * (size_t)m.n_hosts, sizeof(*outs.files));
	fresh = calloc(m.n_hosts, sizeof(*fresh));
	if (!outs.files || !fresh) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		goto out;
	}
	if (fill_keys(&m, dir, &outs, fresh))
		goto out;
	if (mesh_check_keys(&m, file, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	any_fresh = outs.n > 0;
	for (uint32_t i = 0; i < m.n_hosts; i++)
		if (render(&m, i, MESH_CONF, dir, &outs) || render(&m, i, MESH_SCRIPT, dir, &outs))
			goto out;
	if (make_dir(dir) ||
	    (any_fresh && (!path_join(keydir, dir, "keys", "") || make_dir(keydir))))
		goto out;
	for (uint32_t i = 0; i < outs.n; i++)
		if (write_file(&outs.files[i]))
			goto out;
	report(&m, dir, fresh);
	ret = 0;
out:
	outputs_free(&outs);
	free(fresh);
	mesh_free(&m);
	return ret;
}
