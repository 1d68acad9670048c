/* libFuzzer's entry point for one target, chosen at compile time
 * (-DDFB_FUZZ_TARGET=dfb_fuzz_scenario; scripts/fuzz). */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return DFB_FUZZ_TARGET(data, size);
}
