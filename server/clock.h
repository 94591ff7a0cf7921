/* clock.h: the monotonic clock, the one time source for durations and
 * timers (never the wall clock, which jumps). Thread-safe, no state. */
#ifndef PC_CLOCK_H
#define PC_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in microseconds since an arbitrary start. */
uint64_t clock_mono_us(void);

/* The same in milliseconds. */
static inline uint64_t clock_mono_ms(void) { return clock_mono_us() / 1000u; }

#endif
