/* Tests for bench/scenario.c: the scenario file format, the order in which
 * keys apply, every error message with its line, and the built-in library
 * (bench/builtin_scenarios.c, generated from scenarios/NAME.scn). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scenario.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *shape_name(const struct dfb_scenario *s)
{
	return dfb_shapes[s->config.shape]->name;
}

/* Fails with every error of s when it does not parse. */
static void parse_ok(struct dfb_scenario *s, const char *text, const char *const *sets,
		     size_t nsets)
{
	int rc = dfb_scenario_parse(s, "t.scn", text, sets, nsets, false);
	ck_assert_msg(rc == 0, "parse failed: %s", s->nerrors ? s->errors[0].text : "?");
	ck_assert_uint_eq(s->nerrors, 0);
}

/* Parses text that must fail with exactly one error, on `line`, whose text
 * is `want` exactly. */
static void parse_one_error(const char *text, unsigned line, const char *want)
{
	struct dfb_scenario s;
	ck_assert_int_eq(dfb_scenario_parse(&s, "t.scn", text, NULL, 0, false), -1);
	ck_assert_msg(s.nerrors == 1, "%zu errors, first: %s", s.nerrors,
		      s.nerrors ? s.errors[0].text : "-");
	ck_assert_uint_eq(s.errors[0].line, line);
	ck_assert_str_eq(s.errors[0].text, want);
	dfb_scenario_free(&s);
}

/* ---- valid files --------------------------------------------------------- */

START_TEST(valid_file)
{
	static const char text[] =
		"# a whole-line comment\n"
		"\n"
		"   tasks   =   123   \n"                       /* line 3 */
		"kernel_us = 2.5 # a trailing comment\n"        /* line 4 */
		"\tengine = virtual\t\n"                        /* line 5 */
		"description = a test scenario, one line\n"     /* line 6 */
		"rounds = 7\n"                                  /* line 7 */
		"warmup = 0\n"                                  /* line 8 */
		"strategies = mailbox , spinlock\n"             /* line 9 */
		"topology = \"pack:1 core:2 pu:1\" # quoted\n"  /* line 10 */
		"placement = list:0,1\r\n"                      /* line 11, CRLF */
		"  # indented comment\n"
		"shape = deferred_heavy";                       /* line 13, no newline */
	struct dfb_scenario s;
	parse_ok(&s, text, NULL, 0);
	ck_assert_str_eq(s.source, "t.scn");
	ck_assert_str_eq(s.name, "t");
	ck_assert_str_eq(s.description, "a test scenario, one line");
	ck_assert_str_eq(shape_name(&s), "deferred_heavy");
	ck_assert_uint_eq(s.config.tasks, 123);
	ck_assert(s.config.kernel_us == 2.5);
	ck_assert_uint_eq(s.config.engine, DFB_ENGINE_VIRTUAL);
	ck_assert_str_eq(s.config.topology, "pack:1 core:2 pu:1");
	ck_assert_str_eq(s.config.placement, "list:0,1");
	ck_assert(s.has_rounds && s.rounds == 7);
	ck_assert(s.has_warmup && s.warmup == 0);
	ck_assert(s.has_strategies);
	ck_assert_uint_eq(s.nstrategies, 2);
	ck_assert_str_eq(dfb_strategy_name(s.strategies[0]), "mailbox");
	ck_assert_str_eq(dfb_strategy_name(s.strategies[1]), "spinlock");

	ck_assert_uint_eq(dfb_scenario_line(&s, "tasks"), 3);
	ck_assert_uint_eq(dfb_scenario_line(&s, "kernel_us"), 4);
	ck_assert_uint_eq(dfb_scenario_line(&s, "engine"), 5);
	ck_assert_uint_eq(dfb_scenario_line(&s, "description"), 6);
	ck_assert_uint_eq(dfb_scenario_line(&s, "rounds"), 7);
	ck_assert_uint_eq(dfb_scenario_line(&s, "strategies"), 9);
	ck_assert_uint_eq(dfb_scenario_line(&s, "placement"), 11);
	ck_assert_uint_eq(dfb_scenario_line(&s, "shape"), 13);
	ck_assert_uint_eq(dfb_scenario_line(&s, "window"), 0);   /* not in the file */
	ck_assert_uint_eq(dfb_scenario_line(&s, "name"), 0);
	ck_assert_uint_eq(dfb_scenario_line(&s, "no_such_key"), 0);
	dfb_scenario_free(&s);
}
END_TEST

/* A platform preset sets defaults: the core counts, scheduler threads,
 * window and rings of upstream's a2a3 (the default) or a5; the shape's
 * defaults and every key of the file or of --set still override it,
 * wherever the platform line stands. */
START_TEST(platform_preset)
{
	struct dfb_scenario s;
	parse_ok(&s, "shape = deferred_heavy\n", NULL, 0);
	ck_assert_uint_eq(s.config.platform, DFB_PLATFORM_A2A3);
	ck_assert_uint_eq(s.config.aic_cores, 24);
	ck_assert_uint_eq(s.config.aiv_cores, 48);
	ck_assert_uint_eq(s.config.sched_threads, 3);
	ck_assert_uint_eq(s.config.window, 16384);
	ck_assert_uint_eq(s.config.rings, 4);
	dfb_scenario_free(&s);

	parse_ok(&s, "shape = deferred_heavy\naic_cores = 12\nplatform = a5\n", NULL, 0);
	ck_assert_uint_eq(s.config.platform, DFB_PLATFORM_A5);
	ck_assert_uint_eq(s.config.aic_cores, 12);     /* the file's key, before the line */
	ck_assert_uint_eq(s.config.aiv_cores, 72);     /* a5: 36 clusters */
	ck_assert_uint_eq(s.config.sched_threads, 6);  /* a5: 7 AICPU threads */
	ck_assert_uint_eq(s.config.window, 16384);
	dfb_scenario_free(&s);

	const char *a5[] = {"platform=a5"};
	parse_ok(&s, "shape = deferred_heavy\nsched_threads = 2\n", a5, 1);
	ck_assert_uint_eq(s.config.aic_cores, 36);     /* the preset from --set */
	ck_assert_uint_eq(s.config.sched_threads, 2);  /* the file's key still wins */
	dfb_scenario_free(&s);

	parse_ok(&s, "shape = dummy_task\nplatform = a5\n", NULL, 0);
	ck_assert_uint_eq(s.config.sched_threads, 1);  /* the shape's default wins */
	ck_assert_uint_eq(s.config.aic_cores, 1);
	dfb_scenario_free(&s);

	const char *bad[] = {"platform=a9"};
	ck_assert_int_eq(dfb_scenario_parse(&s, "f.scn", "shape = deferred_heavy\n", bad, 1, false), -1);
	ck_assert_uint_eq(s.nerrors, 1);
	ck_assert(strstr(s.errors[0].text, "platform = 'a9' is not one of: a2a3, a5") != NULL);
	dfb_scenario_free(&s);
}
END_TEST

/* The shape's defaults apply before the file's keys wherever `shape` is. */
START_TEST(shape_applies_first)
{
	struct dfb_scenario s;
	parse_ok(&s, "tasks = 7\nconditions_per_task = 2\nshape = deferred_heavy\n", NULL, 0);
	ck_assert_uint_eq(s.config.tasks, 7);                 /* file beats shape (2000) */
	ck_assert_uint_eq(s.config.conditions_per_task, 2);   /* file beats shape (4) */
	ck_assert(s.config.kernel_us == 10.0);                /* the shape's default */
	ck_assert(s.config.deferred_fraction == 1.0);         /* the shape's default */
	ck_assert_uint_eq(s.config.window, 16384);            /* dfb_config_defaults */
	dfb_scenario_free(&s);

	/* A shape alone gives exactly dfb_config_defaults + the shape's defaults. */
	struct dfb_config want;
	dfb_config_defaults(&want);
	const struct dfb_shape *sh = dfb_shape_find("deferred_heavy");
	for (size_t i = 0; i < dfb_nshapes; i++)
		if (dfb_shapes[i] == sh)
			want.shape = i;
	sh->defaults(&want);
	parse_ok(&s, "shape = deferred_heavy\n", NULL, 0);
	ck_assert(memcmp(&s.config, &want, sizeof(want)) == 0);
	ck_assert(!s.has_rounds && !s.has_warmup && !s.has_strategies);
	dfb_scenario_free(&s);
}
END_TEST

/* `variant` applies before the shape's defaults, which depend on it. */
START_TEST(variant_before_shape_defaults)
{
	struct dfb_scenario s;
	parse_ok(&s, "shape = paged_attention_unroll\nvariant = 2\n", NULL, 0);
	ck_assert_uint_eq(s.config.variant, 2);
	ck_assert_uint_eq(s.config.tasks, 576);
	dfb_scenario_free(&s);

	const char *sets[] = {"variant=2"};
	parse_ok(&s, "shape = paged_attention_unroll\n", sets, 1);
	ck_assert_uint_eq(s.config.tasks, 576);
	dfb_scenario_free(&s);
}
END_TEST

/* --set overrides come after the file, in order, and take the key off the
 * file (line 0). */
START_TEST(set_overrides_after_file)
{
	const char *sets[] = {"tasks=9", "engine=thread", "tasks=11"};
	struct dfb_scenario s;
	parse_ok(&s, "shape = deferred_heavy\ntasks = 5\nengine = virtual\nkernel_us = 3\n", sets,
		 NELEM(sets));
	ck_assert_uint_eq(s.config.tasks, 11);
	ck_assert_uint_eq(s.config.engine, DFB_ENGINE_THREAD);
	ck_assert(s.config.kernel_us == 3.0);
	ck_assert_uint_eq(dfb_scenario_line(&s, "tasks"), 0);
	ck_assert_uint_eq(dfb_scenario_line(&s, "kernel_us"), 4);
	dfb_scenario_free(&s);

	/* --set shape=X: X's defaults replace the file shape's; the file's
	 * own keys still apply over them. */
	const char *shape_set[] = {"shape=alternating_matmul_add"};
	parse_ok(&s, "shape = deferred_heavy\nkernel_us = 3\n", shape_set, 1);
	ck_assert_str_eq(shape_name(&s), "alternating_matmul_add");
	ck_assert_uint_eq(s.config.tasks, 1000);
	ck_assert_uint_eq(s.config.aic_cores, 24);
	ck_assert(s.config.kernel_us == 3.0);
	dfb_scenario_free(&s);
}
END_TEST

START_TEST(set_errors)
{
	const char *sets[] = {"taks=3", "tasks=x", "nokv", "rounds=3"};
	struct dfb_scenario s;
	ck_assert_int_eq(dfb_scenario_parse(&s, "t.scn", "shape = deferred_heavy\n", sets,
					    NELEM(sets), false),
			 -1);
	ck_assert_uint_eq(s.nerrors, 4);
	ck_assert_str_eq(s.errors[0].text, "--set taks=3: unknown key 'taks' (did you mean 'tasks'?)");
	ck_assert_str_eq(s.errors[1].text, "--set tasks=x: tasks = 'x' is not a non-negative integer");
	ck_assert_str_eq(s.errors[2].text, "--set nokv: 'nokv' is not key=value");
	ck_assert_str_eq(s.errors[3].text,
			 "--set rounds=3: a harness key is set in the file (or with run's -n, -w, -s)");
	ck_assert_uint_eq(s.errors[0].line, 0);
	dfb_scenario_free(&s);
}
END_TEST

/* ---- one error of each kind, with its line ------------------------------- */

START_TEST(error_unknown_key)
{
	parse_one_error("shape = deferred_heavy\n\ntaks = 5\n", 3,
			"t.scn:3: unknown key 'taks' (did you mean 'tasks'?)");
	/* harness keys are suggested too */
	parse_one_error("shape = deferred_heavy\nround = 5\n", 2,
			"t.scn:2: unknown key 'round' (did you mean 'rounds'?)");
}
END_TEST

START_TEST(error_malformed_line)
{
	parse_one_error("shape = deferred_heavy\n# ok\ntasks 5\n", 3,
			"t.scn:3: expected 'key = value', got 'tasks 5'");
	parse_one_error("shape = deferred_heavy\n = 5\n", 2,
			"t.scn:2: expected 'key = value', got no key before '='");
	parse_one_error("shape = deferred_heavy\ntopology = \"pack:2 # no end\n", 2,
			"t.scn:2: unterminated '\"' (a quoted value ends with '\"')");
}
END_TEST

START_TEST(error_bad_number)
{
	parse_one_error("shape = deferred_heavy\ntasks = 12x\n", 2,
			"t.scn:2: tasks = '12x' is not a non-negative integer");
	parse_one_error("shape = deferred_heavy\ntasks = -3\n", 2,
			"t.scn:2: tasks = '-3' is not a non-negative integer");
	parse_one_error("shape = deferred_heavy\n\n\nkernel_us = fast\n", 4,
			"t.scn:4: kernel_us = 'fast' is not a number");
	parse_one_error("shape = deferred_heavy\ntasks =\n", 2,
			"t.scn:2: tasks = '' is not a non-negative integer");
	parse_one_error("shape = deferred_heavy\nrounds = ten\n", 2,
			"t.scn:2: rounds = 'ten' is not a non-negative integer");
}
END_TEST

START_TEST(error_out_of_range)
{
	parse_one_error("shape = deferred_heavy\ntasks = 0\n", 2,
			"t.scn:2: tasks = 0 is out of range [1, 4000000000]");
	parse_one_error("shape = deferred_heavy\ndeferred_fraction = 1.5\n", 2,
			"t.scn:2: deferred_fraction = 1.5 is out of range [0, 1]");
	parse_one_error("shape = deferred_heavy\nrounds = 0\n", 2,
			"t.scn:2: rounds = 0 is out of range [1, 1000000]");
	/* Beyond 2^53 the bound is checked as an integer. */
	parse_one_error("shape = deferred_heavy\nseed = 18000000000000000001\n", 2,
			"t.scn:2: seed = 18000000000000000001 is out of range "
			"[0, 18000000000000000000]");
	struct dfb_config c;
	dfb_config_defaults(&c);
	char msg[256];
	const struct dfb_key *seed = dfb_config_key("seed");
	ck_assert_int_eq(dfb_config_set(&c, seed, "18000000000000000000", msg, sizeof(msg)), 0);
	ck_assert_uint_eq(c.seed, 18000000000000000000ULL);
	/* An underflow is a number (rounded toward 0), an overflow is not. */
	const struct dfb_key *frac = dfb_config_key("deferred_fraction");
	ck_assert_int_eq(dfb_config_set(&c, frac, "1e-320", msg, sizeof(msg)), 0);
	ck_assert(c.deferred_fraction < 1e-300);
	ck_assert_int_eq(dfb_config_set(&c, frac, "1e999", msg, sizeof(msg)), -1);
}
END_TEST

START_TEST(error_bad_enum)
{
	parse_one_error("shape = deferred_heavy\nengine = turbo\n", 2,
			"t.scn:2: engine = 'turbo' is not one of: thread, virtual, auto");
	parse_one_error("shape = no_such_shape\n", 1,
			"t.scn:1: shape = 'no_such_shape' is not a known shape (see `deferbench list`)");
	/* The known list is the registry's. */
	char known[512] = "t.scn:2: strategies: unknown strategy 'nope' (known: ";
	for (size_t k = 0; k < dfb_nstrategies; k++)
		snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s", k ? ", " : "",
			 dfb_strategy_name(dfb_strategies[k]));
	strcat(known, ")");
	parse_one_error("shape = deferred_heavy\nstrategies = mailbox,nope\n", 2, known);
	/* the policy list belongs to topology.c: compare the start only */
	struct dfb_scenario s;
	ck_assert_int_eq(dfb_scenario_parse(&s, "t.scn", "shape = deferred_heavy\n\nplacement = tight\n",
					    NULL, 0, false),
			 -1);
	ck_assert_uint_eq(s.nerrors, 1);
	ck_assert_uint_eq(s.errors[0].line, 3);
	const char *want = "t.scn:3: placement = 'tight' is not a policy (known: none, ";
	ck_assert_msg(!strncmp(s.errors[0].text, want, strlen(want)), "%s", s.errors[0].text);
	dfb_scenario_free(&s);
}
END_TEST

START_TEST(error_duplicate_key)
{
	parse_one_error("shape = deferred_heavy\ntasks = 5\n# x\ntasks = 6\n", 4,
			"t.scn:4: duplicate key 'tasks' (first set on line 2)");
	parse_one_error("shape = deferred_heavy\nrounds = 5\nrounds = 5\n", 3,
			"t.scn:3: duplicate key 'rounds' (first set on line 2)");
}
END_TEST

START_TEST(error_missing_shape)
{
	parse_one_error("# only a comment\ntasks = 5\n", 1, "t.scn:1: missing required key 'shape'");
	parse_one_error("", 1, "t.scn:1: missing required key 'shape'");
}
END_TEST

START_TEST(error_cross_key)
{
	/* attributed to the line of the key the message starts with */
	parse_one_error("shape = deferred_heavy\nwindow = 1000\n", 2,
			"t.scn:2: window = 1000 is not a power of two");
	/* ... or to no line when that key is not in the file */
	parse_one_error("shape = deferred_heavy\naic_cores = 1\naiv_cores = 2\n", 0,
			"t.scn: sched_threads = 3 but only 1 clusters (aic_cores=1, aiv_cores=2): "
			"every scheduler thread needs a cluster");
}
END_TEST

START_TEST(error_cross_key_all)
{
	/* every cross-key error, each on its own line, not the first only */
	struct dfb_scenario s;
	ck_assert_int_eq(dfb_scenario_parse(&s, "t.scn",
					    "shape = deferred_heavy\nwindow = 1000\n"
					    "mailbox_capacity = 3\n",
					    NULL, 0, false),
			 -1);
	ck_assert_uint_eq(s.nerrors, 2);
	ck_assert_str_eq(s.errors[0].text, "t.scn:2: window = 1000 is not a power of two");
	ck_assert_str_eq(s.errors[1].text, "t.scn:3: mailbox_capacity = 3 is not a power of two");
	dfb_scenario_free(&s);
}
END_TEST

START_TEST(error_bad_utf8)
{
	/* a lone Latin-1 byte, an overlong '/', a surrogate; valid UTF-8 passes */
	parse_one_error("shape = deferred_heavy\ndescription = caf\xe9\n", 2,
			"t.scn:2: invalid UTF-8 at byte 18 of the line (a scenario file is UTF-8 text)");
	parse_one_error("shape = deferred_heavy\ndescription = a\xc0\xaf\n", 2,
			"t.scn:2: invalid UTF-8 at byte 16 of the line (a scenario file is UTF-8 text)");
	parse_one_error("description = \xed\xa0\x80\nshape = deferred_heavy\n", 1,
			"t.scn:1: invalid UTF-8 at byte 15 of the line (a scenario file is UTF-8 text)");
	struct dfb_scenario s;
	parse_ok(&s, "shape = deferred_heavy\ndescription = caf\xc3\xa9 \xf0\x9f\x98\x80\n",
		 NULL, 0);
	dfb_scenario_free(&s);
}
END_TEST

START_TEST(error_nul_byte)
{
	/* a NUL in a file is reported on its line, not taken as the line's end */
	char path[] = "/tmp/dfb_test_scenario_XXXXXX.scn";
	int fd = mkstemps(path, 4);
	ck_assert_int_ge(fd, 0);
	static const char text[] = "shape = deferred_heavy\ntasks = 10\0 00\n";
	ck_assert_int_eq(write(fd, text, sizeof(text) - 1), (int)sizeof(text) - 1);
	close(fd);
	struct dfb_scenario s;
	ck_assert_int_eq(dfb_scenario_read(&s, path, NULL, 0), -1);
	ck_assert_uint_eq(s.nerrors, 1);
	char want[256];
	snprintf(want, sizeof(want), "%s:2: a NUL byte (a scenario file is text)", path);
	ck_assert_str_eq(s.errors[0].text, want);
	dfb_scenario_free(&s);
	unlink(path);
}
END_TEST

START_TEST(error_builtin_needs_description)
{
	struct dfb_scenario s;
	ck_assert_int_eq(dfb_scenario_parse(&s, "scenarios/x.scn", "shape = deferred_heavy\n",
					    NULL, 0, true),
			 -1);
	ck_assert_uint_eq(s.nerrors, 1);
	ck_assert_str_eq(s.errors[0].text,
			 "scenarios/x.scn:1: missing required key 'description' "
			 "(a built-in scenario needs one)");
	dfb_scenario_free(&s);
}
END_TEST

START_TEST(error_bad_name)
{
	parse_one_error("shape = deferred_heavy\nname = two words\n", 2,
			"t.scn:2: name = 'two words' must be non-empty and hold only letters, "
			"digits, '_', '-', '.' and '+'");
	struct dfb_scenario s;
	parse_ok(&s, "shape = deferred_heavy\nname = my-run.v2\n", NULL, 0);
	ck_assert_str_eq(s.name, "my-run.v2");
	dfb_scenario_free(&s);
}
END_TEST

/* All errors of a file, sorted by line; no cross-key check on top. */
START_TEST(many_errors)
{
	static const char text[] =
		"tasks = 5\n"               /* 1 */
		"taks = 5\n"                /* 2: unknown */
		"garbage\n"                 /* 3: malformed */
		"tasks = 6\n"               /* 4: duplicate */
		"kernel_us = x\n"           /* 5: bad number */
		"engine = warp\n"           /* 6: bad enum */
		"window = 3\n"              /* 7: valid alone, but no cross-key check */
		"blocks = 70000\n";         /* 8: out of range; no shape: missing */
	struct dfb_scenario s;
	ck_assert_int_eq(dfb_scenario_parse(&s, "m.scn", text, NULL, 0, false), -1);
	static const struct {
		unsigned line;
		const char *text;
	} want[] = {
		{1, "m.scn:1: missing required key 'shape'"},
		{2, "m.scn:2: unknown key 'taks' (did you mean 'tasks'?)"},
		{3, "m.scn:3: expected 'key = value', got 'garbage'"},
		{4, "m.scn:4: duplicate key 'tasks' (first set on line 1)"},
		{5, "m.scn:5: kernel_us = 'x' is not a number"},
		{6, "m.scn:6: engine = 'warp' is not one of: thread, virtual, auto"},
		{8, "m.scn:8: blocks = 70000 is out of range [1, 65535]"},
	};
	ck_assert_uint_eq(s.nerrors, NELEM(want));
	for (size_t i = 0; i < NELEM(want); i++) {
		ck_assert_uint_eq(s.errors[i].line, want[i].line);
		ck_assert_str_eq(s.errors[i].text, want[i].text);
	}
	/* printed one per line */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	dfb_scenario_print_errors(&s, f);
	fclose(f);
	ck_assert_str_eq(buf, "m.scn:1: missing required key 'shape'\n"
			      "m.scn:2: unknown key 'taks' (did you mean 'tasks'?)\n"
			      "m.scn:3: expected 'key = value', got 'garbage'\n"
			      "m.scn:4: duplicate key 'tasks' (first set on line 1)\n"
			      "m.scn:5: kernel_us = 'x' is not a number\n"
			      "m.scn:6: engine = 'warp' is not one of: thread, virtual, auto\n"
			      "m.scn:8: blocks = 70000 is out of range [1, 65535]\n");
	free(buf);
	dfb_scenario_free(&s);
}
END_TEST

/* ---- files ---------------------------------------------------------------- */

START_TEST(read_temp_file)
{
	char path[] = "/tmp/dfb_test_scenario_XXXXXX.scn";
	int fd = mkstemps(path, 4);
	ck_assert_int_ge(fd, 0);
	static const char text[] = "shape = deferred_heavy\ntasks = 321\nwarmup = 3\nbogus = 1\n";
	ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);

	struct dfb_scenario s;
	ck_assert_int_eq(dfb_scenario_read(&s, path, NULL, 0), -1);
	ck_assert_uint_eq(s.nerrors, 1);
	char want[256];
	snprintf(want, sizeof(want), "%s:4: unknown key 'bogus' (did you mean 'blocks'?)", path);
	ck_assert_str_eq(s.errors[0].text, want);
	dfb_scenario_free(&s);

	/* the same file without the bad line */
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("shape = deferred_heavy\ntasks = 321\nwarmup = 3\n", f);
	fclose(f);
	ck_assert_int_eq(dfb_scenario_read(&s, path, NULL, 0), 0);
	ck_assert_uint_eq(s.config.tasks, 321);
	ck_assert(s.has_warmup && s.warmup == 3);
	/* name: the basename minus .scn */
	const char *base = strrchr(path, '/') + 1;
	ck_assert_uint_eq(strlen(s.name), strlen(base) - 4);
	ck_assert(strncmp(s.name, base, strlen(s.name)) == 0);
	ck_assert(dfb_scenario_is_file(path));
	dfb_scenario_free(&s);
	unlink(path);

	ck_assert_int_eq(dfb_scenario_read(&s, path, NULL, 0), -1);
	ck_assert_uint_eq(s.nerrors, 1);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	ck_assert_str_eq(s.errors[0].text, want);
	dfb_scenario_free(&s);
}
END_TEST

START_TEST(is_file)
{
	ck_assert(dfb_scenario_is_file("scenarios/x"));
	ck_assert(dfb_scenario_is_file("x.scn"));
	ck_assert(!dfb_scenario_is_file("deferred_heavy"));
	ck_assert(!dfb_scenario_is_file("no_such_thing_here"));
}
END_TEST

/* ---- the built-in library -------------------------------------------------- */

START_TEST(builtins_valid)
{
	ck_assert_uint_ge(dfb_nbuiltin_scenarios, 2);
	for (size_t i = 0; i < dfb_nbuiltin_scenarios; i++) {
		const struct dfb_builtin_scenario *b = &dfb_builtin_scenarios[i];
		struct dfb_scenario s;
		int rc = dfb_builtin_parse(&s, b, NULL, 0);
		ck_assert_msg(rc == 0, "%s: %s", b->name, s.nerrors ? s.errors[0].text : "?");
		char src[256], msg[512];
		snprintf(src, sizeof(src), "scenarios/%s.scn", b->name);
		ck_assert_str_eq(s.source, src);
		ck_assert_str_eq(s.name, b->name);
		ck_assert_msg(*s.description, "%s: no description", b->name);
		ck_assert_msg(!strchr(s.description, '\n'), "%s", b->name);
		ck_assert_msg(dfb_config_check(&s.config, msg, sizeof(msg)) == 0, "%s: %s", b->name,
			      msg);
		ck_assert_msg(dfb_scenario_line(&s, "shape") > 0, "%s", b->name);
		ck_assert(dfb_builtin_find(b->name) == b);
		dfb_scenario_free(&s);
	}
	ck_assert_ptr_null(dfb_builtin_find("no_such_scenario"));
}
END_TEST

/* The scenarios this project promises (scenarios/README.md), and what
 * makes each what it is. */
START_TEST(builtins_regimes)
{
	static const struct {
		const char *name, *shape, *key, *value;
	} want[] = {
		{"alternating_matmul_add", "alternating_matmul_add", "tasks", "1000"},
		{"deferred_heavy", "deferred_heavy", "conditions_per_task", "4"},
		{"deferred_heavy", "deferred_heavy", "chains", "32"},
		{"deferred_fraction_0", "deferred_heavy", "deferred_fraction", "0"},
		{"deferred_fraction_0_5", "deferred_heavy", "deferred_fraction", "0.5"},
		{"deferred_fraction_1", "deferred_heavy", "deferred_fraction", "1"},
		{"conditions_1", "deferred_heavy", "conditions_per_task", "1"},
		{"conditions_16", "deferred_heavy", "conditions_per_task", "16"},
		{"conditions_64", "deferred_heavy", "conditions_per_task", "64"},
		{"conditions_64", "deferred_heavy", "max_conditions_per_task", "64"},
		{"engine_latency_1us", "deferred_heavy", "engine_latency_us", "1"},
		{"engine_latency_100us", "deferred_heavy", "engine_latency_us", "100"},
		{"sched_threads_1", "deferred_heavy", "sched_threads", "1"},
		{"oversubscribed", "deferred_heavy", "sched_threads", "4"},
	};
	for (size_t i = 0; i < NELEM(want); i++) {
		const struct dfb_builtin_scenario *b = dfb_builtin_find(want[i].name);
		ck_assert_msg(b != NULL, "no built-in %s", want[i].name);
		struct dfb_scenario s;
		ck_assert_int_eq(dfb_builtin_parse(&s, b, NULL, 0), 0);
		ck_assert_str_eq(shape_name(&s), want[i].shape);
		char v[64];
		dfb_config_format(&s.config, dfb_config_key(want[i].key), v, sizeof(v));
		ck_assert_msg(!strcmp(v, want[i].value), "%s: %s = %s, want %s", want[i].name,
			      want[i].key, v, want[i].value);
		ck_assert_msg(dfb_scenario_line(&s, want[i].key) > 0, "%s: %s not pinned",
			      want[i].name, want[i].key);
		dfb_scenario_free(&s);
	}
}
END_TEST

/* Every built-in scenario runs to completion with every strategy at a
 * reduced size, with the stress checks on (exactly-once completion after
 * all producers, everything drained).  One loop iteration per built-in. */
START_TEST(builtin_runs)
{
	const struct dfb_builtin_scenario *b = &dfb_builtin_scenarios[_i];
	struct dfb_scenario s;
	ck_assert_int_eq(dfb_builtin_parse(&s, b, NULL, 0), 0);
	struct dfb_config c = s.config;
	c.verify = 1;
	if (c.tasks > 600)
		c.tasks = 600;
	char msg[600];
	for (size_t k = 0; k < dfb_nstrategies; k++) {
		struct dfb_error err;
		struct dfb_runtime *rt = dfb_runtime_create(&c, dfb_strategies[k], &err);
		dfb_error_format(&err, msg, sizeof(msg));
		ck_assert_msg(rt != NULL, "%s / %s: %s", b->name, dfb_strategy_name(dfb_strategies[k]), msg);
		for (int round = 0; round < 2; round++) {
			struct dfb_round_result r;
			int rc = dfb_runtime_run_round(rt, &r);
			dfb_error_format(&r.error, msg, sizeof(msg));
			ck_assert_msg(rc == 0, "%s / %s round %d: %s", b->name,
				      dfb_strategy_name(dfb_strategies[k]), round, msg);
			ck_assert_uint_eq(r.tasks, c.tasks);
		}
		dfb_runtime_destroy(rt);
	}
}
END_TEST

/* Every scenario key is documented in scenarios/README.md (whose key
 * tables `deferbench list --keys-markdown` generates): a key added to the
 * table in runtime/config.c without its documentation fails here. */
START_TEST(every_key_documented)
{
	const char *src = getenv("DFB_SRCDIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/scenarios/README.md", src && *src ? src : ".");
	FILE *f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	static char text[1 << 20];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	for (size_t i = 0; i < dfb_config_nkeys; i++) {
		char needle[96];
		snprintf(needle, sizeof(needle), "`%s`", dfb_config_keys[i].name);
		ck_assert_msg(strstr(text, needle) != NULL,
			      "key '%s' is not documented in %s (regenerate with "
			      "`bench/deferbench list --keys-markdown`)",
			      dfb_config_keys[i].name, path);
	}
}
END_TEST

static Suite *scenario_suite(void)
{
	Suite *s = suite_create("scenario");
	TCase *tc = tcase_create("parse");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, valid_file);
	tcase_add_test(tc, shape_applies_first);
	tcase_add_test(tc, platform_preset);
	tcase_add_test(tc, variant_before_shape_defaults);
	tcase_add_test(tc, set_overrides_after_file);
	tcase_add_test(tc, set_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, error_unknown_key);
	tcase_add_test(tc, error_malformed_line);
	tcase_add_test(tc, error_bad_number);
	tcase_add_test(tc, error_out_of_range);
	tcase_add_test(tc, error_bad_enum);
	tcase_add_test(tc, error_duplicate_key);
	tcase_add_test(tc, error_missing_shape);
	tcase_add_test(tc, error_cross_key);
	tcase_add_test(tc, error_builtin_needs_description);
	tcase_add_test(tc, error_bad_name);
	tcase_add_test(tc, many_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, read_temp_file);
	tcase_add_test(tc, error_cross_key_all);
	tcase_add_test(tc, error_bad_utf8);
	tcase_add_test(tc, error_nul_byte);
	tcase_add_test(tc, is_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("builtin");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, builtins_valid);
	tcase_add_test(tc, builtins_regimes);
	tcase_add_test(tc, every_key_documented);
	tcase_add_loop_test(tc, builtin_runs, 0, (int)dfb_nbuiltin_scenarios);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(scenario_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
