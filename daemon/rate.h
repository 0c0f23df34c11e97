/*
 * Adaptive send rate of one SMPP link (AIMD): finds the rate a carrier
 * really accepts from its ESME_RTHROTTLED / ESME_RMSGQFUL answers, never
 * above max_tps. Pure arithmetic over an injected clock (microseconds).
 *
 * Contract, in short:
 * - Until the first throttle, with max_tps = 0, there is no limit at all
 *   (rate_take is two compares); with max_tps > 0 and no throttles it paces
 *   exactly like struct tbucket at max_tps (capacity a twentieth of a second).
 * - A throttle cuts the rate to 0.85 x the submits the SMSC accepted in the
 *   last second (sliding window, floor 1/s) and pauses sending for 50 ms. With
 *   fewer than 16 answers in that second there is nothing to measure: it only
 *   pauses. The rate then stays under 15/16 of what was accepted until the cut
 *   is judged, and no throttle cuts again before: the rest of the window was
 *   already in flight, and the one-second count does not show the cut yet.
 * - The cut is judged over the second that starts one second after it (by
 *   then an SMSC's own per-second count has forgotten our old rate), with at
 *   least 16 answers (up to 10 s on a slow link). If 10 points or more over the
 *   known noise are still throttled, the throttling is not about our rate (an
 *   SMSC that refuses a share at random): the cut is undone. The share seen
 *   there becomes the noise level; while it is above 2%, throttles no longer
 *   cut at once: only a share over the last second of more than noise + 10
 *   points (and three standard deviations) does.
 * - While submits succeed at about the rate in force (a tick without
 *   throttles, or within the noise), the rate rises every 100 ms: by a quarter
 *   of the way back to what was accepted before the last cut, or 2% (at least
 *   1/s), whichever is more; never above max_tps.
 * - After a pause the bucket holds at most a twentieth of a second of tokens:
 *   no window-sized burst.
 */
#ifndef DAEMON_RATE_H
#define DAEMON_RATE_H

#include <stdint.h>

#include "daemon/tbucket.h"

#define RATE_SLOTS 11   /* 100 ms counts of answers: 1 s + the tick now */

/* Embed in the link; the fields are private to daemon/rate.c. */
struct rate {
	struct tbucket bucket;       /* paces at cur (or max); rate 0 = no limit */
	uint32_t max;                /* max_tps; 0 = no cap */
	uint32_t cur;                /* learned limit; 0 = none learned */
	uint32_t undo;               /* cur before the last cut */
	uint32_t before;             /* accepted/s when the last cut came */
	uint32_t noise;              /* share of throttles not due to our rate, /65536 */
	uint32_t ok[RATE_SLOTS];     /* accepted per tick; [head] is the tick now */
	uint32_t thr[RATE_SLOTS];    /* throttled per tick */
	int      head;
	int      judge;              /* 1: the last cut is not judged yet (no cut) */
	uint32_t j_ok, j_thr;        /* answers counted for the judgement */
	uint64_t judge_from;         /* answers from here on judge the last cut */
	uint64_t tick_end;           /* end of the tick now */
	uint64_t pause_until;        /* no submit before */
	uint64_t cuts;               /* rate decreases so far (for tests and logs) */
	uint64_t undos;              /* cuts undone as futile */
};

void rate_init(struct rate *r, uint32_t max_tps, uint64_t now_us);
/* A reload: a new max_tps (0 = no cap). Without a learned rate it is
 * rate_init; else the learned rate stays, lowered to the new cap. */
void rate_set_max(struct rate *r, uint32_t max_tps, uint64_t now_us);
/* 1 if a submit may go now (takes a token), 0 if not. */
int rate_take(struct rate *r, uint64_t now_us);
/* Microseconds until rate_take can succeed (0 = now). */
uint64_t rate_wait_us(struct rate *r, uint64_t now_us);
/* Outcome of a submit: submit_sm_resp ESME_ROK. */
void rate_accepted(struct rate *r, uint64_t now_us);
/* Outcome of a submit: ESME_RTHROTTLED or ESME_RMSGQFUL. 1 if this answer cut
 * the rate (log it), 0 if not (in flight, noise, or only a pause). Cuts made
 * at a tick's end (noise learned) show in `cuts` and rate_current. Other
 * outcomes (errors, timeouts) are not reported: they say nothing of rate. */
int rate_throttled(struct rate *r, uint64_t now_us);
/* Submits/s in force, for the gauge: the learned rate or max_tps, whichever
 * is lower; 0 = no limit (never throttled, or throttled only at random). */
uint32_t rate_current(const struct rate *r);

#endif
