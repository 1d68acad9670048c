/* Replays every input of fuzz/corpus/TARGET/ and fuzz/regressions/TARGET/
 * (each input that ever crashed a fuzz target, kept) through the target,
 * one Check test per target: a crash, a sanitizer report or a leak fails
 * it.  The fuzzing itself is scripts/fuzz (libFuzzer, clang). */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "targets.h"

static size_t replay_dir(const struct dfb_fuzz_target *t, const char *kind)
{
	const char *top = getenv("DFB_SRCDIR") ? getenv("DFB_SRCDIR") : ".";
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/fuzz/%s/%s", top, kind, t->name);
	DIR *d = opendir(dir);
	if (!d && !strcmp(kind, "regressions"))
		return 0; /* none kept yet for this target */
	ck_assert_msg(d != NULL, "%s: cannot open", dir);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[2048];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		ck_assert_msg(f != NULL, "%s: cannot open", path);
		static unsigned char buf[1 << 20];
		size_t len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		t->fn(buf, len);
		n++;
	}
	closedir(d);
	return n;
}

START_TEST(replay)
{
	const struct dfb_fuzz_target *t = &dfb_fuzz_targets[_i];
	size_t n = replay_dir(t, "corpus");
	ck_assert_msg(n > 0, "fuzz/corpus/%s is empty", t->name);
	replay_dir(t, "regressions");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fuzz_replay");
	TCase *tc = tcase_create("replay");
	tcase_add_loop_test(tc, replay, 0, (int)dfb_fuzz_ntargets);
	suite_add_tcase(s, tc);
	SRunner *r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
