/* Helpers shared by the deferbench subcommands (cli.h), kept out of the
 * file holding main() so that the tests can link the commands. */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

const char *dfb_argv0 = "deferbench";

int dfb_usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("deferbench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return DFB_EXIT_USAGE;
}

int dfb_sets_add(struct dfb_sets *s, const char *kv)
{
	if (s->n == DFB_MAX_SETS)
		return dfb_usage_error("at most %d --set options", DFB_MAX_SETS);
	s->kv[s->n++] = kv;
	return 0;
}
