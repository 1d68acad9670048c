// Entry point for the Google Benchmark micro-benchmarks (bench/micro/).
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
