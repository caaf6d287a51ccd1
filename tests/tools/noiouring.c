/* SPDX-License-Identifier: MIT */
/*
 * noiouring [--errno EPERM|ENOSYS|N] PROG [ARGS...]
 *
 * Runs PROG with io_uring refused, as Docker's default seccomp profile (EPERM)
 * or qemu-user and old kernels (ENOSYS) do: a seccomp filter makes
 * io_uring_setup, io_uring_enter and io_uring_register fail with that errno.
 * Everything else is allowed. The filter is inherited by children and kept
 * across exec, so tests can check that the automatic epoll fallback works.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__i386__)
#define NATIVE_ARCH AUDIT_ARCH_I386
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#elif defined(__arm__) && defined(__ARMEL__)
#define NATIVE_ARCH AUDIT_ARCH_ARM
#elif defined(__riscv) && __riscv_xlen == 64
#define NATIVE_ARCH AUDIT_ARCH_RISCV64
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_ARCH AUDIT_ARCH_PPC64LE
#elif defined(__s390x__)
#define NATIVE_ARCH AUDIT_ARCH_S390X
#else
#error "noiouring: add this architecture's AUDIT_ARCH value"
#endif

/* The same numbers on every architecture (they came after the syscall table unification). */
#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef __NR_io_uring_enter
#define __NR_io_uring_enter 426
#endif
#ifndef __NR_io_uring_register
#define __NR_io_uring_register 427
#endif

/* x32 system calls on x86_64 set this bit; strip it so they are refused too. */
#define X32_SYSCALL_BIT 0x40000000u

static void usage(void)
{
	fprintf(stderr, "usage: noiouring [--errno EPERM|ENOSYS|N] PROG [ARGS...]\n");
	exit(2);
}

static int parse_errno(const char *s)
{
	char *end;
	long v;

	if (!strcmp(s, "EPERM"))
		return EPERM;
	if (!strcmp(s, "ENOSYS"))
		return ENOSYS;
	v = strtol(s, &end, 10);
	if (*s && !*end && v > 0 && v < 4096)
		return (int)v;
	usage();
	return 0;
}

static int refuse_io_uring(int err)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		/* Other ABIs (none expected) pass untouched. */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, ~X32_SYSCALL_BIT),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_enter, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_register, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA)),
	};
	struct sock_fprog prog = {
		.len = (unsigned short)(sizeof(filter) / sizeof(filter[0])),
		.filter = filter,
	};

	/* Lets an unprivileged process install the filter; root keeps its powers otherwise. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		perror("noiouring: PR_SET_NO_NEW_PRIVS");
		return -1;
	}
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
		perror("noiouring: PR_SET_SECCOMP");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int err = ENOSYS, i = 1;

	if (i < argc && !strcmp(argv[i], "--errno")) {
		if (i + 1 >= argc)
			usage();
		err = parse_errno(argv[i + 1]);
		i += 2;
	}
	if (i >= argc || argv[i][0] == '-')
		usage();
	if (refuse_io_uring(err))
		return 1;
	execvp(argv[i], argv + i);
	fprintf(stderr, "noiouring: %s: %s\n", argv[i], strerror(errno));
	return 127;
}
