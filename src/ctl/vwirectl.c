/* SPDX-License-Identifier: MIT */
/*
 * vwirectl: key tools that behave exactly as `wg genkey|pubkey|genpsk`, and
 * (later) the client of vwired's control socket.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "crypto/keys.h"
#include "crypto/x25519.h"

#define PROG_NAME "vwirectl"

static void usage(FILE *out)
{
	fprintf(out, "Usage: %s <cmd> [<args>]\n\n"
		     "Available subcommands:\n"
		     "  genkey    Generates a new private key and writes it to stdout\n"
		     "  genpsk    Generates a new preshared key and writes it to stdout\n"
		     "  pubkey    Reads a private key from stdin and writes a public key to stdout\n",
		PROG_NAME);
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
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "%s: invalid subcommand '%s'\n", PROG_NAME, cmd);
	usage(stderr);
	return 1;
}
