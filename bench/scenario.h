/* Scenario files: `key = value` text that pins a workload (every key of the
 * runtime's dfb_config_keys table) plus the harness keys of this file's own
 * table (name, description, rounds, warmup, strategies).  The format, every
 * key and every message are documented in scenarios/README.md.
 *
 * Order in which a scenario's configuration is built:
 *   1. dfb_config_defaults() (the a2a3 platform preset);
 *   2. `platform` (the file's, then a --set one): its preset;
 *   3. `variant` (the file's, then a --set one), since shape defaults read it;
 *   4. the shape's defaults (`shape`: the file's, then a --set one), so the
 *      shape applies first wherever its line stands in the file;
 *   5. the file's other keys, in file order;
 *   6. the other --set overrides, in order;
 *   7. dfb_config_check() (only when 1-6 found no error).
 *
 * Every error is collected, not only the first, as the full line a user
 * reads: "FILE:LINE: message" (a missing required key is reported on line
 * 1), "FILE: message" for a cross-key error that names no key of the file,
 * "--set: message" for an override.
 *
 * Control thread only; nothing here exits or prints unless asked to. */
#ifndef DFB_SCENARIO_H
#define DFB_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "deferbench.h"

#define DFB_SCENARIO_MAX_STRATEGIES 16
/* Room for the runtime's keys plus the harness keys; dfb_scenario_parse
 * reports an error if the runtime's table ever outgrows it. */
#define DFB_SCENARIO_MAX_KEYS 96

/* Harness keys: read by bench/, not by the runtime. */
struct dfb_harness_key {
	const char *name;
	const char *type;            /* as the docs show it */
	const char *def;             /* default, as the docs show it */
	const char *help;
};
extern const struct dfb_harness_key dfb_scenario_harness_keys[];
extern const size_t dfb_scenario_nharness_keys;

struct dfb_scenario_error {
	unsigned line;               /* 1-based; 0 = not tied to a line */
	char *text;                  /* the whole message, "FILE:LINE: ..." */
};

struct dfb_scenario {
	char source[256];            /* display name: a path or scenarios/NAME.scn */
	char name[128];              /* `name`, default: source's basename minus .scn */
	char description[256];       /* `description`, "" when not given */
	struct dfb_config config;    /* the result of steps 1-5 above */
	unsigned long rounds, warmup;                /* valid when has_* */
	bool has_rounds, has_warmup, has_strategies;
	const struct dfb_strategy *strategies[DFB_SCENARIO_MAX_STRATEGIES];
	size_t nstrategies;
	/* Line each key was set on, 0 = not in the file (or overridden by
	 * --set): index k < dfb_config_nkeys is dfb_config_keys[k], then the
	 * harness keys in table order.  Read it with dfb_scenario_line(). */
	unsigned lines[DFB_SCENARIO_MAX_KEYS];
	struct dfb_scenario_error *errors;
	size_t nerrors;
};

/* Parses `text` (NUL-terminated), shown in messages as `source`, then
 * applies the nsets "key=value" overrides (runtime keys only) and checks the
 * result.  `builtin` makes `description` required.  Fills *s (free it with
 * dfb_scenario_free) and returns 0 when valid, else -1 with s->errors
 * holding every error found (-1 with no error recorded only when out of
 * memory). */
int dfb_scenario_parse(struct dfb_scenario *s, const char *source, const char *text,
		       const char *const *sets, size_t nsets, bool builtin);
/* Reads the file at `path` and parses it as above (source = path); an
 * unreadable file is one error, "PATH: <strerror>". */
int dfb_scenario_read(struct dfb_scenario *s, const char *path, const char *const *sets,
		      size_t nsets);
/* Line key `name` (runtime or harness key) was set on; 0 when not set. */
unsigned dfb_scenario_line(const struct dfb_scenario *s, const char *name);
/* Prints each error on its own line to f. */
void dfb_scenario_print_errors(const struct dfb_scenario *s, FILE *f);
/* Frees the error list (the rest of *s is plain data). */
void dfb_scenario_free(struct dfb_scenario *s);

/* ---- built-in scenarios ---------------------------------------------- */

/* scenarios/NAME.scn compiled in by scripts/embed-scenarios (generated
 * bench/builtin_scenarios.c), in Makefile.am's (alphabetical) order. */
struct dfb_builtin_scenario {
	const char *name;            /* NAME, the file's basename minus .scn */
	const char *text;            /* the file's text (lines end in '\n') */
};
extern const struct dfb_builtin_scenario dfb_builtin_scenarios[];
extern const size_t dfb_nbuiltin_scenarios;

/* The built-in named `name`, or NULL. */
const struct dfb_builtin_scenario *dfb_builtin_find(const char *name);
/* Parses built-in b (source "scenarios/NAME.scn", description required). */
int dfb_builtin_parse(struct dfb_scenario *s, const struct dfb_builtin_scenario *b,
		      const char *const *sets, size_t nsets);

/* True when a SCENARIO argument names a file rather than a built-in: it
 * contains '/', ends in ".scn", or names an existing file. */
bool dfb_scenario_is_file(const char *arg);

/* Resolves a SCENARIO argument the way `deferbench run` and `validate` do:
 * a file (dfb_scenario_is_file), else a built-in scenario, else a bare
 * shape name (the shape's defaults alone).  Prints every error to stderr.
 * Returns 0, or DFB_EXIT_USAGE (2) after an error; free *s either way. */
int dfb_scenario_load(const char *arg, const char *const *sets, size_t nsets,
		      struct dfb_scenario *s);

#endif
