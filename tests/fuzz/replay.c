/* SPDX-License-Identifier: MIT */
/*
 * Without libFuzzer (gcc builds), this main feeds each file named on the
 * command line to the target once: the seed corpus becomes a regression test.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		uint8_t *buf;
		long len;

		if (!f) {
			perror(argv[i]);
			return 1;
		}
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		fseek(f, 0, SEEK_SET);
		buf = malloc(len > 0 ? (size_t)len : 1);
		if (!buf || (len > 0 && fread(buf, 1, (size_t)len, f) != (size_t)len)) {
			fprintf(stderr, "%s: read failed\n", argv[i]);
			return 1;
		}
		fclose(f);
		LLVMFuzzerTestOneInput(buf, (size_t)len);
		free(buf);
	}
	printf("replayed %d inputs\n", argc - 1);
	return 0;
}
