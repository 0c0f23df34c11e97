/* The loop-turn clock's one variable (daemon/clock.h). */
#include "daemon/clock.h"

uint64_t clock_turn_us;
