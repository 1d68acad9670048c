/* Fuzz targets; see targets.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "results.h"
#include "scenario.h"
#include "targets.h"

/* The readers take paths: the input goes through a file of this
 * process's own. */
static const char *spill(const uint8_t *data, size_t size, const char *suffix)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/dfb-fuzz-%ld%s", (long)getpid(), suffix);
	FILE *f = fopen(path, "wb");
	if (!f)
		abort(); /* the machine, not the input */
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	return path;
}

int dfb_fuzz_scenario(const uint8_t *data, size_t size)
{
	const char *path = spill(data, size, ".scn");
	struct dfb_scenario s;
	dfb_scenario_read(&s, path, NULL, 0);
	dfb_scenario_free(&s);
	unlink(path);
	return 0;
}

int dfb_fuzz_set(const uint8_t *data, size_t size)
{
	char *kv = malloc(size + 1);
	if (!kv)
		return 0;
	memcpy(kv, data, size);
	kv[size] = 0;
	struct dfb_config c;
	char msg[512];
	dfb_config_defaults(&c);
	if (dfb_config_set_kv(&c, kv, msg, sizeof(msg)) == 0)
		dfb_config_check(&c, msg, sizeof(msg));
	free(kv);
	return 0;
}

int dfb_fuzz_rounds(const uint8_t *data, size_t size)
{
	const char *path = spill(data, size, ".csv");
	struct dfb_results res = {0};
	char msg[512];
	dfb_results_read_csv(&res, path, msg, sizeof(msg));
	dfb_results_free(&res);
	unlink(path);
	return 0;
}

const struct dfb_fuzz_target dfb_fuzz_targets[] = {
	{"scenario", dfb_fuzz_scenario},
	{"set", dfb_fuzz_set},
	{"rounds", dfb_fuzz_rounds},
};
const size_t dfb_fuzz_ntargets = sizeof(dfb_fuzz_targets) / sizeof(dfb_fuzz_targets[0]);
