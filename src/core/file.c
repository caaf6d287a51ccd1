/* SPDX-License-Identifier: MIT */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int vw_read_fd(int fd, const char *name, size_t max, char **out, size_t *outlen, char *err,
	       size_t errlen)
{
	const char *why = NULL;
	struct stat st;
	char *data;
	size_t got = 0;

	if (fstat(fd, &st) < 0)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if ((uint64_t)st.st_size > max)
		why = "too large";
	if (why) {
		snprintf(err, errlen, "%s: %s", name, why);
		return -1;
	}
	data = malloc((size_t)st.st_size + 1);
	if (!data) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = pread(fd, data + got, (size_t)st.st_size - got, (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "%s: %s", name, r ? strerror(errno) : "short read");
			/* A partial read of a file of keys is still keys. */
			explicit_bzero(data, got);
			free(data);
			return -1;
		}
		got += (size_t)r;
	}
	*out = data;
	*outlen = got;
	return 0;
}

int vw_read_file(const char *path, size_t max, char **out, size_t *outlen, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = vw_read_fd(fd, path, max, out, outlen, err, errlen);
	close(fd);
	return rc;
}
