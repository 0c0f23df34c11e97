/*
 * AIMD send rate of one link: multiplicative decrease from what the SMSC
 * accepted in the last second, additive increase while submits succeed,
 * and a check that each cut helped (random throttling is not a rate limit).
 *
 * Why a sliding one-second count and not an EWMA: carriers cap "N submits per
 * second", counted over a fixed or rolling second. While we are above the cap,
 * the count of submits accepted in the last second *is* the cap, whatever we
 * were sending, so 0.85 x that lands just under it in one step. An EWMA's
 * value depends on its time constant and smears the first burst (300 accepted
 * in 5 ms, then nothing for a second). The count is kept in 100 ms slots, the
 * oldest weighted by the part of it still inside the second: a few integers,
 * one increment per answer.
 */
#include "daemon/rate.h"

#define TICK_US      100000ULL     /* slot length, and the step of increases */
#define HOLD_US      1000000ULL    /* a cut is judged from a second later */
#define JUDGE_MAX_US 10000000ULL   /* judged with what there is after this */
#define PAUSE_US     50000ULL      /* no submit for this long after a cut */
#define BETA_NUM     85            /* cut to 0.85 x accepted in the last second */
#define BETA_DEN     100
#define SHARE_ONE    65536U        /* shares of answers in 1/65536 */
#define FUTILE       (SHARE_ONE / 10)     /* still throttled after a cut */
#define MARGIN       (SHARE_ONE / 10)     /* over noise: a real limit */
#define NOISE_FLOOR  (SHARE_ONE / 50)     /* below this, noise is forgotten */
#define NOISE_MAX    (SHARE_ONE * 9 / 10)
#define MIN_ANSWERS  16            /* fewer answers say nothing about a share */

#define PREV(i)      ((i) == 0 ? RATE_SLOTS - 1 : (i) - 1)

/* The bucket paces at the learned rate, or max_tps if lower; 0 = no limit.
 * A new rate keeps the tokens held (at most the new capacity), so raising
 * the rate every tick grants no extra burst. */
static void
pace(struct rate *r, uint64_t now)
{
	uint32_t v = r->cur;
	uint32_t burst;

	if (r->max > 0 && (v == 0 || v > r->max))
		v = r->max;
	if (v == r->bucket.rate)
		return;
	if (r->bucket.rate == 0 || v == 0) {
		tbucket_init(&r->bucket, v, now);
		return;
	}
	(void)tbucket_wait_us(&r->bucket, now);   /* refills up to now */
	burst = v / 20;
	r->bucket.rate = v;
	r->bucket.cap = (int64_t)(burst > 0 ? burst : 1) * 1000000;
	if (r->bucket.micro > r->bucket.cap)
		r->bucket.micro = r->bucket.cap;
}

/* Sum over [now - 1 s, now] of one of the slot arrays. */
static uint32_t
last_second(const struct rate *r, const uint32_t *slot, uint64_t now)
{
	uint64_t start = r->tick_end - TICK_US;
	uint64_t in = now > start ? now - start : 0;
	uint64_t sum = 0;
	int i = r->head;

	if (in > TICK_US)
		in = TICK_US;
	for (int k = 0; k < RATE_SLOTS - 1; k++, i = PREV(i))
		sum += slot[i];
	sum += slot[i] * (TICK_US - in) / TICK_US;
	return sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
}

static void
cut(struct rate *r, uint64_t now)
{
	uint32_t acc = last_second(r, r->ok, now);
	uint32_t v = (uint32_t)((uint64_t)acc * BETA_NUM / BETA_DEN);

	if (v < 1)
		v = 1;
	if (r->cur > 0 && v > r->cur)
		v = r->cur;           /* a throttle never raises the rate */
	if (r->max > 0 && v > r->max)
		v = r->max;
	r->undo = r->cur;
	r->before = acc;
	r->cur = v;
	r->pause_until = now + PAUSE_US;
	/* Judged from the first tick that starts a second after the cut: by
	 * then a per-second counter at the SMSC has forgotten our old rate. */
	r->judge = 1;
	r->judge_from = r->tick_end + (now + HOLD_US - r->tick_end +
	    TICK_US - 1) / TICK_US * TICK_US;
	r->j_ok = r->j_thr = 0;
	r->cuts++;
	pace(r, now);
}

/* Counts a closed tick into the judgement of the last cut; once there are
 * enough answers, decides whether the cut was futile and if so undoes it. */
static void
judge(struct rate *r, uint64_t start, uint32_t ok, uint32_t thr)
{
	uint32_t n, share;

	if (start < r->judge_from)
		return;
	r->j_ok += ok;
	r->j_thr += thr;
	n = r->j_ok + r->j_thr;
	/* A whole second (a per-second counter at the SMSC sees all of its
	 * second), and enough answers or the time is up. */
	if (start + TICK_US < r->judge_from + HOLD_US ||
	    (n < MIN_ANSWERS && start + TICK_US < r->judge_from + JUDGE_MAX_US))
		return;
	r->judge = 0;
	if (n < MIN_ANSWERS)
		return;               /* too slow to tell: keep the cut */
	share = (uint32_t)((uint64_t)r->j_thr * SHARE_ONE / n);
	if (share >= r->noise + FUTILE) {
		/* As throttled at the lower rate as before: not our rate. */
		if (r->undo == 0 || r->undo > r->cur)
			r->cur = r->undo;
		r->undos++;
	}
	/* Below what the SMSC took, what is still throttled is the noise. */
	r->noise = share > NOISE_MAX ? NOISE_MAX : share < NOISE_FLOOR ? 0 :
	    share;
}

/* One step up: quickly back towards what the SMSC took before the last cut,
 * then 2% a tick; only while the last second used at least half the rate in
 * force (an idle link learns nothing). While a cut is judged, no higher than
 * 15/16 of what the SMSC took before it, so that throttles in the judgement
 * are not of our own making. */
static void
increase(struct rate *r, uint32_t ok, uint64_t now)
{
	uint32_t step = r->cur / 50;
	uint32_t top = r->judge ? r->before - r->before / 16 : UINT32_MAX;

	if (r->cur == 0 || r->cur >= top || ok == 0 ||
	    (uint64_t)last_second(r, r->ok, now) * 2 < r->cur)
		return;
	if (r->cur < r->before && (r->before - r->cur) / 4 > step)
		step = (r->before - r->cur) / 4;
	if (step < 1)
		step = 1;
	r->cur = r->cur > top - step ? top : r->cur + step;
	if (r->max > 0 && r->cur > r->max)
		r->cur = r->max;
}

/*
 * Whether n_thr throttles of n_ok + n_thr answers are more than the noise
 * explains: 10 points over it, and three standard deviations of a share of
 * that many answers ((share - noise)^2 n >= 9 noise (1 - noise)), so that a
 * slow link does not cut on chance.
 */
static int
over_noise(const struct rate *r, uint32_t n_ok, uint32_t n_thr)
{
	uint64_t n = (uint64_t)n_ok + n_thr;
	uint64_t share = n_thr * (uint64_t)SHARE_ONE / n;
	uint64_t d;

	if (share <= (uint64_t)r->noise + MARGIN)
		return 0;
	d = share - r->noise;
	if (n > 1U << 20)
		n = 1U << 20;
	return d * d * n >= 9 * (uint64_t)r->noise * (SHARE_ONE - r->noise);
}

/* Closes the tick now: judges the last cut, or cuts on a share of throttles
 * above the noise, or raises the rate; then opens the next tick. */
static void
close_tick(struct rate *r)
{
	uint64_t end = r->tick_end;
	uint32_t ok = r->ok[r->head], thr = r->thr[r->head];
	int quiet = thr == 0;

	if (r->judge) {
		judge(r, end - TICK_US, ok, thr);
	} else if (r->noise > 0) {
		/* The share over the last second: a tick is too few answers
		 * to tell a limit from the noise. */
		uint32_t n_ok = last_second(r, r->ok, end);
		uint32_t n_thr = last_second(r, r->thr, end);

		if (n_ok + n_thr >= MIN_ANSWERS) {
			if (over_noise(r, n_ok, n_thr))
				cut(r, end);
			else
				quiet = 1;
		}
	}
	if (quiet && end > r->pause_until)
		increase(r, ok, end);
	pace(r, end);
	r->head = r->head == RATE_SLOTS - 1 ? 0 : r->head + 1;
	r->ok[r->head] = 0;
	r->thr[r->head] = 0;
	r->tick_end = end + TICK_US;
}

static void
advance(struct rate *r, uint64_t now)
{
	for (int n = 0; now >= r->tick_end; n++) {
		if (n > RATE_SLOTS) {     /* long silence: every slot is empty */
			r->tick_end += (now - r->tick_end) / TICK_US * TICK_US;
			n = 0;
		}
		close_tick(r);
	}
}

void
rate_init(struct rate *r, uint32_t max_tps, uint64_t now_us)
{
	*r = (struct rate){ .max = max_tps, .tick_end = now_us + TICK_US };
	tbucket_init(&r->bucket, max_tps, now_us);
}

void
rate_set_max(struct rate *r, uint32_t max_tps, uint64_t now_us)
{
	if (r->cur == 0 && r->cuts == 0) {
		rate_init(r, max_tps, now_us);
		return;
	}
	r->max = max_tps;
	if (max_tps > 0 && r->cur > max_tps)
		r->cur = max_tps;
	pace(r, now_us);
}

int
rate_take(struct rate *r, uint64_t now_us)
{
	if (now_us < r->pause_until)
		return 0;
	return tbucket_take(&r->bucket, now_us);
}

uint64_t
rate_wait_us(struct rate *r, uint64_t now_us)
{
	if (now_us < r->pause_until)
		return r->pause_until - now_us;
	return tbucket_wait_us(&r->bucket, now_us);
}

void
rate_accepted(struct rate *r, uint64_t now_us)
{
	if (now_us >= r->tick_end)
		advance(r, now_us);
	r->ok[r->head]++;
}

int
rate_throttled(struct rate *r, uint64_t now_us)
{
	if (now_us >= r->tick_end)
		advance(r, now_us);
	r->thr[r->head]++;
	/* With noise learned, close_tick weighs each tick's share instead. */
	if (r->noise > 0 || r->judge)
		return 0;
	/* Any throttle is a limit: cut now, not at the end of the tick (with
	 * no limit a tick is thousands of submits). But a share needs answers
	 * to measure from: with fewer, only pause. */
	if (last_second(r, r->ok, now_us) + last_second(r, r->thr, now_us) >=
	    MIN_ANSWERS) {
		cut(r, now_us);
		return 1;
	}
	if (now_us >= r->pause_until)
		r->pause_until = now_us + PAUSE_US;
	return 0;
}

uint32_t
rate_current(const struct rate *r)
{
	return r->bucket.rate;
}
