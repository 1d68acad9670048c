/* Scenario files: parsing, the harness keys, built-in lookup and the
 * SCENARIO argument resolution shared by `run` and `validate`.  See
 * scenario.h for the order in which keys apply and scenarios/README.md for
 * the format as users read it. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "scenario.h"
#include "topology.h"

/* Harness key indexes, after the runtime's keys in s->lines[]. */
enum { HK_NAME, HK_DESCRIPTION, HK_ROUNDS, HK_WARMUP, HK_STRATEGIES, HK__COUNT };

const struct dfb_harness_key dfb_scenario_harness_keys[] = {
	[HK_NAME] = {"name", "text: letters, digits, `_ - . +`", "file basename minus `.scn`",
		     "scenario name in output tables and results"},
	[HK_DESCRIPTION] = {"description", "text (one line)", "\"\" (required in built-ins)",
			    "what the scenario is for; `deferbench list` shows it"},
	[HK_ROUNDS] = {"rounds", "integer [1, 1000000]", "10",
		       "measured rounds per strategy (`run -n` overrides)"},
	[HK_WARMUP] = {"warmup", "integer [0, 1000000]", "2",
		       "warm-up rounds per strategy (`run -w` overrides)"},
	[HK_STRATEGIES] = {"strategies", "comma list of strategies", "all, in table order",
			   "strategies to run, interleaved (`run -s` overrides)"},
};
const size_t dfb_scenario_nharness_keys = HK__COUNT;

/* ---- errors ------------------------------------------------------------ */

static void add_error(struct dfb_scenario *s, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Appends one error line.  Out of memory drops it; the parse still fails
 * (see scenario.h). */
static void push_error(struct dfb_scenario *s, unsigned line, const char *text)
{
	struct dfb_scenario_error *e = realloc(s->errors, (s->nerrors + 1) * sizeof(*e));
	if (!e)
		return;
	s->errors = e;
	e[s->nerrors].line = line;
	if ((e[s->nerrors].text = strdup(text)))
		s->nerrors++;
}

/* "SOURCE:LINE: message", or "SOURCE: message" for line 0. */
static void add_error(struct dfb_scenario *s, unsigned line, const char *fmt, ...)
{
	char body[768], full[1100];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	if (line)
		snprintf(full, sizeof(full), "%s:%u: %s", s->source, line, body);
	else
		snprintf(full, sizeof(full), "%s: %s", s->source, body);
	push_error(s, line, full);
}

/* "--set KEY=VALUE: message". */
static void add_set_error(struct dfb_scenario *s, const char *kv, const char *msg)
{
	char full[1100];
	snprintf(full, sizeof(full), "--set %.300s: %s", kv, msg);
	push_error(s, 0, full);
}

/* Stable sort by line, errors without a line (--set, cross-key) last, so
 * that a file's errors read top to bottom. */
static void sort_errors(struct dfb_scenario *s)
{
	for (size_t i = 1; i < s->nerrors; i++) {
		struct dfb_scenario_error e = s->errors[i];
		unsigned key = e.line ? e.line : ~0u;
		size_t j = i;
		for (; j > 0 && (s->errors[j - 1].line ? s->errors[j - 1].line : ~0u) > key; j--)
			s->errors[j] = s->errors[j - 1];
		s->errors[j] = e;
	}
}

void dfb_scenario_print_errors(const struct dfb_scenario *s, FILE *f)
{
	for (size_t i = 0; i < s->nerrors; i++)
		fprintf(f, "%s\n", s->errors[i].text);
}

void dfb_scenario_free(struct dfb_scenario *s)
{
	for (size_t i = 0; i < s->nerrors; i++)
		free(s->errors[i].text);
	free(s->errors);
	s->errors = NULL;
	s->nerrors = 0;
}

/* ---- keys ----------------------------------------------------------------- */

static size_t nkeys_all(void)
{
	return dfb_config_nkeys + HK__COUNT;
}

static const char *key_name(size_t idx)
{
	return idx < dfb_config_nkeys ? dfb_config_keys[idx].name
				      : dfb_scenario_harness_keys[idx - dfb_config_nkeys].name;
}

/* Index into s->lines of runtime or harness key `name`; -1 if none. */
static long key_index(const char *name)
{
	for (size_t i = 0; i < nkeys_all(); i++)
		if (!strcmp(key_name(i), name))
			return (long)i;
	return -1;
}

unsigned dfb_scenario_line(const struct dfb_scenario *s, const char *name)
{
	long i = key_index(name);
	return i < 0 ? 0 : s->lines[i];
}

/* Nearest runtime or harness key, for "did you mean". */
static const char *nearest_key(const char *name)
{
	const char *best = key_name(0);
	size_t bd = (size_t)-1;
	for (size_t i = 0; i < nkeys_all(); i++) {
		size_t d = dfb_edit_distance(name, key_name(i));
		if (d < bd) {
			bd = d;
			best = key_name(i);
		}
	}
	return best;
}

/* ---- lines ------------------------------------------------------------- */

struct entry {
	unsigned line;
	size_t key;                  /* index into s->lines */
	char *value;                 /* points into the parser's copy of the text */
};

static char *trim(char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f' || *p == '\v')
		p++;
	char *e = p + strlen(p);
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\f' ||
			 e[-1] == '\v'))
		*--e = 0;
	return p;
}

/* Cuts a line at its comment ('#' outside double quotes).  Returns -1 when
 * a quote is left open. */
static int strip_comment(char *p)
{
	bool quoted = false;
	for (; *p; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '#' && !quoted) {
			*p = 0;
			break;
		}
	}
	return quoted ? -1 : 0;
}

/* "value" -> value (a value in quotes may hold '#' and surrounding blanks). */
static char *unquote(char *v)
{
	size_t n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v[n - 1] = 0;
		return v + 1;
	}
	return v;
}

/* Splits `text` (modified in place) into entries; records unknown keys,
 * malformed and duplicate lines as errors.  Returns the entry count. */
/* The offset of the first byte of p that is not well-formed UTF-8
 * (overlong forms, surrogates and values past U+10FFFF included), or -1. */
static long utf8_invalid_at(const unsigned char *p)
{
	for (const unsigned char *q = p; *q;) {
		unsigned n, min;
		uint32_t cp;
		if (*q < 0x80) {
			q++;
			continue;
		}
		if ((*q & 0xe0) == 0xc0)
			n = 1, min = 0x80, cp = *q & 0x1f;
		else if ((*q & 0xf0) == 0xe0)
			n = 2, min = 0x800, cp = *q & 0x0f;
		else if ((*q & 0xf8) == 0xf0)
			n = 3, min = 0x10000, cp = *q & 0x07;
		else
			return q - p;
		for (unsigned i = 1; i <= n; i++) {
			if ((q[i] & 0xc0) != 0x80)
				return q - p;
			cp = cp << 6 | (q[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return q - p;
		q += n + 1;
	}
	return -1;
}

static size_t split_lines(struct dfb_scenario *s, char *text, struct entry *out, size_t max)
{
	size_t n = 0;
	unsigned line = 0;
	for (char *p = text, *next; p; p = next) {
		line++;
		next = strchr(p, '\n');
		if (next)
			*next++ = 0;
		long bad = utf8_invalid_at((const unsigned char *)p);
		if (bad >= 0) {
			add_error(s, line, "invalid UTF-8 at byte %ld of the line (a scenario file is UTF-8 text)",
				  bad + 1);
			continue;
		}
		if (strip_comment(p)) {
			add_error(s, line, "unterminated '\"' (a quoted value ends with '\"')");
			continue;
		}
		char *l = trim(p);
		if (!*l)
			continue;
		char *eq = strchr(l, '=');
		if (!eq) {
			add_error(s, line, "expected 'key = value', got '%.200s'", l);
			continue;
		}
		*eq = 0;
		char *key = trim(l), *value = unquote(trim(eq + 1));
		if (!*key) {
			add_error(s, line, "expected 'key = value', got no key before '='");
			continue;
		}
		long k = key_index(key);
		if (k < 0) {
			add_error(s, line, "unknown key '%.100s' (did you mean '%s'?)", key,
				  nearest_key(key));
			continue;
		}
		if (s->lines[k]) {
			add_error(s, line, "duplicate key '%s' (first set on line %u)", key,
				  s->lines[k]);
			continue;
		}
		s->lines[k] = line;
		if (n < max)
			out[n++] = (struct entry){line, (size_t)k, value};
	}
	return n;
}

/* ---- values ------------------------------------------------------------ */

static int parse_ulong(struct dfb_scenario *s, unsigned line, const char *key, const char *v,
		       unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long long x = *v && *v != '-' ? strtoull(v, &end, 10) : 0;
	if (!*v || *v == '-' || errno || *end) {
		add_error(s, line, "%s = '%.100s' is not a non-negative integer", key, v);
		return -1;
	}
	if (x < lo || x > hi) {
		add_error(s, line, "%s = %.100s is out of range [%lu, %lu]", key, v, lo, hi);
		return -1;
	}
	*out = (unsigned long)x;
	return 0;
}

static void parse_strategies(struct dfb_scenario *s, unsigned line, char *v)
{
	size_t n = 0;
	bool bad = false;
	for (char *p = v, *next; p; p = next) {
		next = strchr(p, ',');
		if (next)
			*next++ = 0;
		char *t = trim(p);
		const struct dfb_strategy *st = *t ? dfb_strategy_find(t) : NULL;
		if (!st) {
			char msg[512];
			add_error(s, line, "strategies: %s",
				  *t ? dfb_strategy_unknown(t, msg, sizeof(msg))
				     : "empty name in the list");
			bad = true;
			continue;
		}
		if (n == DFB_SCENARIO_MAX_STRATEGIES) {
			add_error(s, line, "strategies: at most %d strategies",
				  DFB_SCENARIO_MAX_STRATEGIES);
			bad = true;
			break;
		}
		s->strategies[n++] = st;
	}
	if (!bad) {
		s->nstrategies = n;
		s->has_strategies = true;
	}
}

static bool name_ok(const char *v)
{
	if (!*v)
		return false;
	for (; *v; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		      (*v >= '0' && *v <= '9') || strchr("_-.+", *v)))
			return false;
	return true;
}

static void apply_harness(struct dfb_scenario *s, const struct entry *e)
{
	const char *key = key_name(e->key);
	switch (e->key - dfb_config_nkeys) {
	case HK_NAME:
		if (!name_ok(e->value))
			add_error(s, e->line,
				  "name = '%.100s' must be non-empty and hold only letters, digits, "
				  "'_', '-', '.' and '+'",
				  e->value);
		else if (strlen(e->value) >= sizeof(s->name))
			add_error(s, e->line, "name is longer than %zu characters",
				  sizeof(s->name) - 1);
		else
			strcpy(s->name, e->value);
		break;
	case HK_DESCRIPTION:
		if (strlen(e->value) >= sizeof(s->description))
			add_error(s, e->line, "description is longer than %zu characters",
				  sizeof(s->description) - 1);
		else
			strcpy(s->description, e->value);
		break;
	case HK_ROUNDS:
		if (!parse_ulong(s, e->line, key, e->value, 1, 1000000, &s->rounds))
			s->has_rounds = true;
		break;
	case HK_WARMUP:
		if (!parse_ulong(s, e->line, key, e->value, 0, 1000000, &s->warmup))
			s->has_warmup = true;
		break;
	case HK_STRATEGIES:
		parse_strategies(s, e->line, e->value);
		break;
	}
}

/* Applies a runtime key from the file; errors are dfb_config_set's. */
static int apply_config(struct dfb_scenario *s, const struct entry *e)
{
	char msg[512];
	if (dfb_config_set(&s->config, &dfb_config_keys[e->key], e->value, msg, sizeof(msg))) {
		add_error(s, e->line, "%s", msg);
		return -1;
	}
	return 0;
}

/* Applies a --set "key=value" whose key is `only` (or any key when NULL)
 * to c.  Returns the key index it set, or -1 (with msg) / -2 (other key). */
static long apply_set(struct dfb_config *c, const char *kv, const char *only, char *msg,
		      size_t len)
{
	const char *eq = strchr(kv, '=');
	size_t kl = eq ? (size_t)(eq - kv) : 0;
	if (only && (!eq || kl != strlen(only) || strncmp(kv, only, kl)))
		return -2;
	if (dfb_config_set_kv(c, kv, msg, len))
		return -1;
	char name[64];
	snprintf(name, sizeof(name), "%.*s", (int)kl, kv);
	return key_index(name);
}

/* The key a dfb_config_check message starts with ("window = 3 is ..."). */
static long message_key(const char *msg)
{
	char name[64];
	size_t n = strspn(msg, "abcdefghijklmnopqrstuvwxyz0123456789_");
	if (!n || n >= sizeof(name) || strncmp(msg + n, " = ", 3))
		return -1;
	memcpy(name, msg, n);
	name[n] = 0;
	long k = key_index(name);
	return k >= 0 && (size_t)k < dfb_config_nkeys ? k : -1;
}

/* An error about key k (-1: none known): blamed on the --set that gave the
 * key's value, if one did (the last such), else on the file's line for it
 * (0: the file as a whole, e.g. a shape's default). */
static void blame_key(struct dfb_scenario *s, const char *const *sets, size_t nsets, long k,
		      const char *msg)
{
	const char *kv = NULL;
	if (k >= 0 && !s->lines[k]) {
		size_t n = strlen(dfb_config_keys[k].name);
		for (size_t i = 0; i < nsets; i++)
			if (!strncmp(sets[i], dfb_config_keys[k].name, n) && sets[i][n] == '=')
				kv = sets[i];
	}
	if (kv)
		add_set_error(s, kv, msg);
	else
		add_error(s, k >= 0 ? s->lines[k] : 0, "%s", msg);
}

struct cross_ctx {
	struct dfb_scenario *s;
	const char *const *sets;
	size_t nsets;
};

/* A cross-key error names its key first ("fault = fin_race needs ..."). */
static void cross_key_error(void *arg, const char *msg)
{
	struct cross_ctx *x = arg;
	blame_key(x->s, x->sets, x->nsets, message_key(msg), msg);
}

static void default_name(struct dfb_scenario *s)
{
	const char *b = strrchr(s->source, '/');
	b = b ? b + 1 : s->source;
	size_t n = strlen(b);
	if (n > 4 && !strcmp(b + n - 4, ".scn"))
		n -= 4;
	snprintf(s->name, sizeof(s->name), "%.*s", (int)n, b);
}

int dfb_scenario_parse(struct dfb_scenario *s, const char *source, const char *text,
		       const char *const *sets, size_t nsets, bool builtin)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->source, sizeof(s->source), "%s", source);
	default_name(s);
	dfb_config_defaults(&s->config);
	if (nkeys_all() > DFB_SCENARIO_MAX_KEYS) {
		add_error(s, 0, "internal: %zu keys exceed DFB_SCENARIO_MAX_KEYS (%d)", nkeys_all(),
			  DFB_SCENARIO_MAX_KEYS);
		return -1;
	}

	/* One entry per line at most: count the lines for the array. */
	size_t maxent = 1;
	for (const char *p = text; *p; p++)
		maxent += *p == '\n';
	char *copy = strdup(text);
	struct entry *ent = calloc(maxent, sizeof(*ent));
	if (!copy || !ent) {
		free(copy);
		free(ent);
		add_error(s, 0, "out of memory");
		return -1;
	}
	size_t n = split_lines(s, copy, ent, maxent);

	const long kshape = key_index("shape"), kvariant = key_index("variant");
	const long kplatform = key_index("platform");
	char msg[512];
	bool shape_ok = false;

	/* Steps 2 to 4 (scenario.h): the platform preset, the variant, then
	 * the shape and its defaults.  An override's errors are reported
	 * once, in step 6. */
	for (size_t i = 0; i < n; i++)
		if ((long)ent[i].key == kplatform)
			apply_config(s, &ent[i]);
	for (size_t i = 0; i < nsets; i++)
		apply_set(&s->config, sets[i], "platform", msg, sizeof(msg));
	for (size_t i = 0; i < n; i++)
		if ((long)ent[i].key == kvariant)
			apply_config(s, &ent[i]);
	for (size_t i = 0; i < nsets; i++)
		apply_set(&s->config, sets[i], "variant", msg, sizeof(msg));
	for (size_t i = 0; i < n; i++)
		if ((long)ent[i].key == kshape)
			shape_ok = apply_config(s, &ent[i]) == 0;
	if (!s->lines[kshape])
		add_error(s, 1, "missing required key 'shape'");
	for (size_t i = 0; i < nsets; i++)
		if (apply_set(&s->config, sets[i], "shape", msg, sizeof(msg)) >= 0)
			shape_ok = true;
	if (shape_ok && dfb_shapes[s->config.shape]->defaults)
		dfb_shapes[s->config.shape]->defaults(&s->config);

	/* Step 5: the file's other keys, in file order. */
	for (size_t i = 0; i < n; i++) {
		if ((long)ent[i].key == kshape || (long)ent[i].key == kvariant ||
		    (long)ent[i].key == kplatform)
			continue;
		if (ent[i].key >= dfb_config_nkeys)
			apply_harness(s, &ent[i]);
		else
			apply_config(s, &ent[i]);
	}
	if (builtin && !s->lines[dfb_config_nkeys + HK_DESCRIPTION])
		add_error(s, 1, "missing required key 'description' (a built-in scenario needs one)");
	free(ent);
	free(copy);

	/* Step 6: overrides.  A key an override set no longer comes from the
	 * file: its line becomes 0.  (platform was applied in step 2: its
	 * preset only sets defaults, which the file's keys still override.) */
	for (size_t i = 0; i < nsets; i++) {
		char name[64];
		const char *eq = strchr(sets[i], '=');
		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - sets[i]) : 0, sets[i]);
		long hk = key_index(name);
		if (hk == kplatform && hk >= 0) {
			/* Applied in step 2, under the file's keys; only its
			 * errors are reported here. */
			struct dfb_config scratch = s->config;
			if (apply_set(&scratch, sets[i], NULL, msg, sizeof(msg)) == -1)
				add_set_error(s, sets[i], msg);
			else
				s->lines[hk] = 0;
			continue;
		}
		if (hk >= (long)dfb_config_nkeys) {
			add_set_error(s, sets[i],
				      "a harness key is set in the file (or with run's -n, -w, -s)");
			continue;
		}
		long k = apply_set(&s->config, sets[i], NULL, msg, sizeof(msg));
		if (k == -1)
			add_set_error(s, sets[i], msg);
		else if (k >= 0)
			s->lines[k] = 0;
	}

	/* The placement policy's name, on the line that set it (a "list:"
	 * PU, like the topology itself, is checked when a runtime is created). */
	enum dfb_placement_kind kind;
	if (dfb_placement_parse(s->config.placement, &kind, msg, sizeof(msg)))
		blame_key(s, sets, nsets, key_index("placement"), msg);

	/* Step 7: cross-key checks, every one, on a configuration without
	 * earlier errors. */
	struct cross_ctx x = {s, sets, nsets};
	if (!s->nerrors)
		dfb_config_check_all(&s->config, cross_key_error, &x);
	sort_errors(s);
	return s->nerrors ? -1 : 0;
}

/* A file that cannot be parsed at all: s holds the defaults and the one
 * error. */
static int read_failed(struct dfb_scenario *s, const char *path, unsigned line, const char *msg)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->source, sizeof(s->source), "%s", path);
	default_name(s);
	dfb_config_defaults(&s->config);
	add_error(s, line, "%s", msg);
	return -1;
}

int dfb_scenario_read(struct dfb_scenario *s, const char *path, const char *const *sets,
		      size_t nsets)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int err = 0;
	if (f) {
		for (;;) {
			if (cap - len < 4096) {
				char *nb = realloc(buf, cap ? cap * 2 : 8192);
				if (!nb) {
					err = ENOMEM;
					break;
				}
				buf = nb;
				cap = cap ? cap * 2 : 8192;
			}
			size_t got = fread(buf + len, 1, cap - len - 1, f);
			len += got;
			if (got == 0) {
				if (ferror(f))
					err = errno ? errno : EIO;
				break;
			}
		}
		fclose(f);
	} else {
		err = errno;
	}
	if (!f || err) {
		free(buf);
		return read_failed(s, path, 0, strerror(err));
	}
	buf[len] = 0;
	const char *nul = memchr(buf, 0, len);
	if (nul) {
		/* The parser reads C strings: a NUL would end its line there
		 * and hide the rest. */
		unsigned line = 1;
		for (const char *p = buf; p < nul; p++)
			line += *p == '\n';
		free(buf);
		return read_failed(s, path, line, "a NUL byte (a scenario file is text)");
	}
	int rc = dfb_scenario_parse(s, path, buf, sets, nsets, false);
	free(buf);
	return rc;
}

/* ---- built-ins and SCENARIO arguments ----------------------------------- */

const struct dfb_builtin_scenario *dfb_builtin_find(const char *name)
{
	for (size_t i = 0; i < dfb_nbuiltin_scenarios; i++)
		if (!strcmp(dfb_builtin_scenarios[i].name, name))
			return &dfb_builtin_scenarios[i];
	return NULL;
}

int dfb_builtin_parse(struct dfb_scenario *s, const struct dfb_builtin_scenario *b,
		      const char *const *sets, size_t nsets)
{
	char source[256];
	snprintf(source, sizeof(source), "scenarios/%s.scn", b->name);
	return dfb_scenario_parse(s, source, b->text, sets, nsets, true);
}

bool dfb_scenario_is_file(const char *arg)
{
	size_t n = strlen(arg);
	struct stat st;
	return strchr(arg, '/') || (n >= 4 && !strcmp(arg + n - 4, ".scn")) ||
	       (stat(arg, &st) == 0 && S_ISREG(st.st_mode));
}

int dfb_scenario_load(const char *arg, const char *const *sets, size_t nsets,
		      struct dfb_scenario *s)
{
	int rc;
	const struct dfb_builtin_scenario *b;
	if (dfb_scenario_is_file(arg)) {
		rc = dfb_scenario_read(s, arg, sets, nsets);
	} else if ((b = dfb_builtin_find(arg))) {
		rc = dfb_builtin_parse(s, b, sets, nsets);
	} else if (dfb_shape_find(arg)) {
		/* A bare shape name: its defaults alone, as before scenario files. */
		char text[160];
		snprintf(text, sizeof(text), "shape = %s\n", arg);
		rc = dfb_scenario_parse(s, arg, text, sets, nsets, false);
	} else {
		const char *best = NULL;
		size_t bd = (size_t)-1;
		for (size_t i = 0; i < dfb_nbuiltin_scenarios; i++) {
			size_t d = dfb_edit_distance(arg, dfb_builtin_scenarios[i].name);
			if (d < bd)
				bd = d, best = dfb_builtin_scenarios[i].name;
		}
		for (size_t i = 0; i < dfb_nshapes; i++) {
			size_t d = dfb_edit_distance(arg, dfb_shapes[i]->name);
			if (d < bd)
				bd = d, best = dfb_shapes[i]->name;
		}
		memset(s, 0, sizeof(*s));
		fprintf(stderr, "deferbench: unknown scenario '%s'", arg);
		if (best)
			fprintf(stderr, " (did you mean '%s'?)", best);
		fprintf(stderr, "; see `deferbench list`, or name a file with a '/' or '.scn'\n");
		return DFB_EXIT_USAGE;
	}
	if (rc) {
		dfb_scenario_print_errors(s, stderr);
		if (!s->nerrors)
			fprintf(stderr, "deferbench: %s: out of memory\n", arg);
		return DFB_EXIT_USAGE;
	}
	return 0;
}
