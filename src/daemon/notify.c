/* SPDX-License-Identifier: MIT */
/*
 * sd_notify(3) by hand (notify.h says why).
 */
#include "daemon/notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int vwired_notify(const char *state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = getenv("NOTIFY_SOCKET");
	size_t len = strlen(state);
	socklen_t salen;
	ssize_t sent;
	int fd, err;

	if (!path || !*path)
		return 0;
	/* systemd also knows vsock: addresses, for virtual machines; a host daemon never gets one.
	 */
	if (path[0] != '/' && path[0] != '@')
		return -EAFNOSUPPORT;
	/* A path needs its NUL in sun_path; an abstract name's NUL is the '@' it replaces. */
	if (strlen(path) >= sizeof(sa.sun_path) + (path[0] == '@'))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	else
		salen++;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* systemd learns the sender's pid from the kernel (SO_PASSCRED): none to attach. */
	sent = sendto(fd, state, len, MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
	err = sent < 0 ? -errno : (size_t)sent != len ? -EMSGSIZE : 1;
	close(fd);
	return err;
}
