/*
 * th_capture.c: reading the capture files into test vectors.
 *
 * Three layouts (see the files): the .xml files mark direction in a
 * comment line ("<!-- C->S ... -->") that applies to the lines after it;
 * startup_stanzas.txt prefixes each stanza line with "[C->S] "; the
 * auth-failure .txt files have a "--- C->S raw:" line before the raw
 * stream line.  Everything else (headers, separators) is skipped.
 */
#include "th_capture.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct thc_vec	*vecs;
static size_t		 nvecs, capvecs;

static const char *
capdir(void)
{
	static char	 dir[4096];
	const char	*top = getenv("DROVER_TOP");

	snprintf(dir, sizeof(dir), "%s/test/data/captures",
	    top != NULL ? top : ".");
	return dir;
}

char *
thc_read(const char *name, size_t *lenp)
{
	char	 path[4200], *buf;
	FILE	*f;
	long	 n;

	snprintf(path, sizeof(path), "%s/%s", capdir(), name);
	if ((f = fopen(path, "re")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)n + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = '\0';
	fclose(f);
	if (lenp != NULL)
		*lenp = (size_t)n;
	return buf;
}

static void
add(const char *file, int line, enum thc_dir dir, const char *text)
{
	struct thc_vec	*v;

	if (nvecs == capvecs) {
		capvecs = capvecs == 0 ? 64 : capvecs * 2;
		if ((vecs = realloc(vecs, capvecs * sizeof(*vecs))) == NULL)
			abort();
	}
	v = &vecs[nvecs++];
	v->file = strdup(file);
	v->line = line;
	v->dir = dir;
	if ((v->text = strdup(text)) == NULL)
		abort();
	v->len = strlen(text);
	v->is_message = strncmp(text, "<message ", 9) == 0;
	v->c_written = dir == THC_C2S &&
	    strncmp(text, "<message to=\"", 13) == 0;
}

static void
load_file(const char *name)
{
	char		*buf, *line, *next;
	enum thc_dir	 dir = 0, pending = 0;
	int		 lineno = 0;

	if ((buf = thc_read(name, NULL)) == NULL)
		return;
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strncmp(line, "<!--", 4) == 0) {
			if (strstr(line, "C->S") != NULL)
				dir = THC_C2S;
			else if (strstr(line, "S->C") != NULL)
				dir = THC_S2C;
		} else if (strncmp(line, "[C->S] ", 7) == 0)
			add(name, lineno, THC_C2S, line + 7);
		else if (strncmp(line, "[S->C] ", 7) == 0)
			add(name, lineno, THC_S2C, line + 7);
		else if (strncmp(line, "--- C->S raw:", 13) == 0)
			pending = THC_C2S;
		else if (strncmp(line, "--- S->C raw:", 13) == 0)
			pending = THC_S2C;
		else if (line[0] == '<' && pending != 0) {
			add(name, lineno, pending, line);
			pending = 0;
		} else if (line[0] == '<' && dir != 0)
			add(name, lineno, dir, line);
	}
	free(buf);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

const struct thc_vec *
thc_load(size_t *n)
{
	DIR		*d;
	struct dirent	*de;
	char		*names[64];
	size_t		 nn = 0, i, l;

	if (vecs == NULL) {
		if ((d = opendir(capdir())) == NULL) {
			*n = 0;
			return NULL;
		}
		while ((de = readdir(d)) != NULL && nn < 64) {
			l = strlen(de->d_name);
			if (l > 4 && (strcmp(de->d_name + l - 4, ".xml") == 0 ||
			    strcmp(de->d_name + l - 4, ".txt") == 0))
				names[nn++] = strdup(de->d_name);
		}
		closedir(d);
		qsort(names, nn, sizeof(names[0]), by_name);
		for (i = 0; i < nn; i++) {
			load_file(names[i]);
			free(names[i]);
		}
	}
	*n = nvecs;
	return vecs;
}
