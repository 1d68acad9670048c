/* Fuzz targets (fuzz/targets.c): the parsers of untrusted text.  Each takes
 * any bytes and must neither crash nor leak, whatever it decides about
 * them.  libFuzzer drives them through fuzz/libfuzzer.c (scripts/fuzz);
 * tests/test_fuzz_replay.c replays the corpus and every input that ever
 * crashed one (fuzz/regressions/TARGET/) in `make check`. */
#ifndef DFB_FUZZ_TARGETS_H
#define DFB_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>

/* A scenario file (through dfb_scenario_read, so NUL bytes are seen). */
int dfb_fuzz_scenario(const uint8_t *data, size_t size);
/* One -S KEY=VALUE, then the cross-key checks. */
int dfb_fuzz_set(const uint8_t *data, size_t size);
/* A rounds.csv (through dfb_results_read_csv). */
int dfb_fuzz_rounds(const uint8_t *data, size_t size);

struct dfb_fuzz_target {
	const char *name;
	int (*fn)(const uint8_t *data, size_t size);
};
extern const struct dfb_fuzz_target dfb_fuzz_targets[];
extern const size_t dfb_fuzz_ntargets;

#endif
