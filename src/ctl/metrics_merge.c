/* SPDX-License-Identifier: MIT */
#include "metrics_merge.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct name {
	const char *s;
	size_t len;
};

/* The family a line declares ("# HELP x ...", "# TYPE x ..."): false for other lines. */
static bool declares(const char *line, size_t len, struct name *fam, bool *help)
{
	if (len < 8 || (memcmp(line, "# HELP ", 7) && memcmp(line, "# TYPE ", 7)))
		return false;
	*help = line[2] == 'H';
	fam->s = line + 7;
	fam->len = strcspn(fam->s, " \n");
	return true;
}

static bool same(struct name a, struct name b)
{
	return a.len == b.len && !memcmp(a.s, b.s, a.len);
}

/* A line that counts: a HELP or TYPE line (decl), or a sample of the family fam. */
struct walk {
	const char *line;
	size_t len;
	struct name fam;
	bool decl, help;
};

/*
 * The next line of the text at *p that counts; blank lines and other comments are skipped.
 * w->fam carries over from line to line: a sample is of the family declared above it.
 */
static bool next_line(const char **p, struct walk *w)
{
	while (**p) {
		const char *nl = strchr(*p, '\n');
		size_t len = nl ? (size_t)(nl - *p) + 1 : strlen(*p);

		w->line = *p;
		w->len = len;
		*p += len;
		w->decl = declares(w->line, len, &w->fam, &w->help);
		if (w->decl)
			return true;
		if (w->line[0] == '#' || w->line[0] == '\n')
			continue;
		if (!w->fam.s) {
			/* A sample before any HELP or TYPE: a family of its own name. */
			w->fam.s = w->line;
			w->fam.len = strcspn(w->line, "{ \n");
		}
		return true;
	}
	return false;
}

int metrics_merge(FILE *out, const char *const *texts, size_t n)
{
	struct name *fams = NULL;
	size_t nfams = 0, cap = 0;

	for (size_t t = 0; t < n; t++) {
		struct walk w = {0};

		for (const char *p = texts[t]; next_line(&p, &w);) {
			size_t i = 0;

			while (i < nfams && !same(fams[i], w.fam))
				i++;
			if (i < nfams)
				continue;
			if (nfams == cap) {
				struct name *f = realloc(fams, (cap ? cap * 2 : 64) * sizeof(*f));

				if (!f) {
					free(fams);
					return -1;
				}
				fams = f;
				cap = cap ? cap * 2 : 64;
			}
			fams[nfams++] = w.fam;
		}
	}
	/* Per family, its HELP and TYPE (the first text's stand for all), then its samples. */
	for (size_t i = 0; i < nfams; i++) {
		bool help = false, type = false;

		for (int samples = 0; samples < 2; samples++) {
			for (size_t t = 0; t < n; t++) {
				struct walk w = {0};

				for (const char *p = texts[t]; next_line(&p, &w);) {
					if (!same(fams[i], w.fam) || w.decl == samples)
						continue;
					if (w.decl && (w.help ? help : type))
						continue;
					help |= w.decl && w.help;
					type |= w.decl && !w.help;
					fwrite(w.line, 1, w.len, out);
					if (w.line[w.len - 1] != '\n')
						fputc('\n', out);
				}
			}
		}
	}
	free(fams);
	return 0;
}
