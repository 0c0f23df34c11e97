/*
 * daemon/rate: the adaptive send rate, driven against a simulated SMSC on a
 * simulated clock (no real time, fixed seeds). The SMSC caps submits per
 * rolling (or calendar) second and/or refuses a share at random; answers come
 * back after a fixed RTT; at most W submits are outstanding; there is always
 * something to send (throttled submits are sent again, as outq does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "daemon/rate.h"
#include "daemon/tbucket.h"

#define SEC 1000000ULL

struct sim {
	/* the SMSC */
	uint32_t cap;           /* accepted per second; 0 = no cap */
	int      calendar;      /* 1: per calendar second (smsc-sim), 0: rolling */
	uint32_t thr_ppm;       /* throttled at random */
	uint32_t qfull_ppm;     /* queue full at random */
	uint64_t *ring;         /* rolling: times of the last cap acceptances */
	uint32_t ring_pos, ring_n;
	uint64_t cal_sec;
	uint32_t cal_n;
	uint64_t seed;
	/* the link */
	int      window;
	uint64_t rtt;
	uint64_t due[64];       /* answers in flight, FIFO (fixed RTT) */
	int      st[64];
	int      q_head, q_n;
	/* today's smpp_link instead of struct rate: pause 100 ms on a
	 * throttle, doubling up to 5 s, reset by an ESME_ROK */
	int      legacy;
	uint64_t legacy_ms, legacy_until;
	/* results */
	uint64_t ok_from, ok_measured, ok_total, thr_total, sent;
	uint32_t max_sent_per_ms;
};

static uint32_t
rnd(struct sim *s)
{
	s->seed ^= s->seed << 13;
	s->seed ^= s->seed >> 7;
	s->seed ^= s->seed << 17;
	return (uint32_t)(s->seed % 1000000);
}

/* The SMSC's answer to a submit that arrives at t: 1 accepted, 0 throttled. */
static int
smsc(struct sim *s, uint64_t t)
{
	uint32_t x;

	if (s->thr_ppm + s->qfull_ppm > 0) {
		x = rnd(s);
		if (x < s->thr_ppm + s->qfull_ppm)
			return 0;
	}
	if (s->cap == 0)
		return 1;
	if (s->calendar) {
		if (t / SEC != s->cal_sec) {
			s->cal_sec = t / SEC;
			s->cal_n = 0;
		}
		if (s->cal_n >= s->cap)
			return 0;
		s->cal_n++;
		return 1;
	}
	if (s->ring_n == s->cap) {
		if (t - s->ring[s->ring_pos] < SEC)
			return 0;
	} else {
		s->ring_n++;
	}
	s->ring[s->ring_pos] = t;
	s->ring_pos = (s->ring_pos + 1) % s->cap;
	return 1;
}

static void
sim_init(struct sim *s, uint32_t cap, uint32_t thr_ppm, uint32_t qfull_ppm)
{
	*s = (struct sim){ .cap = cap, .thr_ppm = thr_ppm,
	    .qfull_ppm = qfull_ppm, .seed = 0x9e3779b97f4a7c15ULL,
	    .window = 64, .rtt = 1000, .cal_sec = UINT64_MAX };
	if (cap > 0) {
		s->ring = calloc(cap, sizeof(*s->ring));
		assert_non_null(s->ring);
	}
}

/*
 * Runs the link for `secs` simulated seconds from t = 1 s and counts the
 * submits accepted from `from_s` on. Event-driven: the clock jumps to the
 * next answer or the next token.
 */
static void
sim_run(struct sim *s, struct rate *r, uint64_t secs, uint64_t from_s)
{
	uint64_t t = SEC, end = SEC + secs * SEC, next;
	uint64_t ms = UINT64_MAX;
	uint32_t in_ms = 0;

	s->ok_from = SEC + from_s * SEC;
	while (t < end) {
		while (s->q_n > 0 && s->due[s->q_head] <= t) {
			if (s->legacy && s->st[s->q_head]) {
				s->legacy_ms = 0;
			} else if (s->legacy) {
				s->legacy_ms = s->legacy_ms == 0 ? 100 :
				    s->legacy_ms * 2 > 5000 ? 5000 :
				    s->legacy_ms * 2;
				s->legacy_until = t + s->legacy_ms * 1000;
			}
			if (s->legacy && s->st[s->q_head]) {
				s->ok_total++;
				if (t >= s->ok_from)
					s->ok_measured++;
			} else if (s->legacy) {
				s->thr_total++;
			} else if (s->st[s->q_head]) {
				rate_accepted(r, t);
				s->ok_total++;
				if (t >= s->ok_from)
					s->ok_measured++;
			} else {
				(void)rate_throttled(r, t);
				s->thr_total++;
			}
			s->q_head = (s->q_head + 1) % 64;
			s->q_n--;
		}
		while (s->q_n < s->window && (s->legacy ?
		    t >= s->legacy_until : rate_take(r, t))) {
			int i = (s->q_head + s->q_n) % 64;

			s->due[i] = t + s->rtt;
			s->st[i] = smsc(s, t + s->rtt / 2);
			s->q_n++;
			s->sent++;
			if (t / 1000 != ms) {
				ms = t / 1000;
				in_ms = 0;
			}
			if (++in_ms > s->max_sent_per_ms && t >= s->ok_from)
				s->max_sent_per_ms = in_ms;
		}
		next = s->q_n > 0 ? s->due[s->q_head] : end;
		if (s->q_n < s->window) {
			uint64_t w = !s->legacy ? rate_wait_us(r, t) :
			    s->legacy_until > t ? s->legacy_until - t : 0;

			if (w > 0 && t + w < next)
				next = t + w;
		}
		assert_true(next > t);
		t = next;
	}
}

static void
sim_free(struct sim *s)
{
	free(s->ring);
}

/* Capped SMSC, max_tps = 0: 30 s, the last 20 s at >= 90% of the cap. */
static void
check_cap(uint32_t cap, int calendar, uint64_t rtt)
{
	struct sim s;
	struct rate r;
	uint64_t per_s, legacy_s;

	sim_init(&s, cap, 0, 0);
	s.calendar = calendar;
	s.rtt = rtt;
	s.legacy = 1;
	sim_run(&s, NULL, 30, 10);
	sim_free(&s);
	legacy_s = s.ok_measured / 20;
	sim_init(&s, cap, 0, 0);
	s.calendar = calendar;
	s.rtt = rtt;
	rate_init(&r, 0, SEC);
	sim_run(&s, &r, 30, 10);
	sim_free(&s);
	per_s = s.ok_measured / 20;
	print_message("cap %u/s (%s, RTT %llu ms): %llu accepted/s (doubling "
	    "pause: %llu/s), %llu throttled of %llu sent, %llu cuts, "
	    "%llu undone, gauge %u/s, burst %u/ms\n",
	    cap, calendar ? "calendar" : "rolling",
	    (unsigned long long)rtt / 1000, (unsigned long long)per_s,
	    (unsigned long long)legacy_s, (unsigned long long)s.thr_total,
	    (unsigned long long)s.sent, (unsigned long long)r.cuts,
	    (unsigned long long)r.undos, rate_current(&r), s.max_sent_per_ms);
	assert_true(per_s * 10 >= (uint64_t)cap * 9);
	assert_true(per_s <= cap);
	/* The gauge: near the cap, neither "unlimited" nor far off. */
	assert_true(rate_current(&r) >= cap * 8 / 10);
	assert_true(rate_current(&r) <= cap * 11 / 10 + 1);
	/* Not hammering: under a tenth of the submits throttled... */
	assert_true(s.thr_total * 10 < s.sent);
	/* ...no random throttling was learned, and never a window burst. */
	assert_int_equal(r.undos, 0);
	assert_true(s.max_sent_per_ms <= cap / 20 + 2);
}

static void
test_cap_300(void **state)
{
	(void)state;
	check_cap(300, 0, 1000);
}

static void
test_cap_1000(void **state)
{
	(void)state;
	check_cap(1000, 0, 1000);
}

static void
test_cap_50(void **state)
{
	(void)state;
	check_cap(50, 0, 1000);
}

/* smsc-sim counts per calendar second: the same targets. */
static void
test_cap_calendar(void **state)
{
	(void)state;
	check_cap(300, 1, 1000);
	check_cap(1000, 1, 1000);
}

/* A far-away SMSC (RTT 20 ms, W = 64 still allows 3,200/s). */
static void
test_cap_slow_answers(void **state)
{
	(void)state;
	check_cap(300, 0, 20000);
	check_cap(1000, 1, 20000);
}

/*
 * 20% throttled and 10% queue full at random, no cap: the throttling is not
 * about our rate, so cutting does not help. Today's doubling pause gets
 * ~280/s from smsc-sim; the controller must not sink below that.
 */
static void
test_random_throttles(void **state)
{
	struct sim s;
	struct rate r;
	uint64_t per_s, legacy_s;

	(void)state;
	sim_init(&s, 0, 200000, 100000);
	s.legacy = 1;
	sim_run(&s, NULL, 30, 10);
	sim_free(&s);
	legacy_s = s.ok_measured / 20;
	sim_init(&s, 0, 200000, 100000);
	rate_init(&r, 0, SEC);
	sim_run(&s, &r, 30, 10);
	sim_free(&s);
	per_s = s.ok_measured / 20;
	print_message("random 30%%: %llu accepted/s (doubling pause: %llu/s), "
	    "%llu cuts, %llu undone, gauge %u/s\n", (unsigned long long)per_s,
	    (unsigned long long)legacy_s, (unsigned long long)r.cuts,
	    (unsigned long long)r.undos, rate_current(&r));
	assert_true(per_s >= 280);
	assert_true(per_s >= 2 * legacy_s);
	assert_true(r.undos >= 1);
	/* Not a limit: nothing learned, the window alone paces. */
	assert_int_equal(rate_current(&r), 0);
}

/* Random throttles under a cap: the cap still holds the rate down. */
static void
test_random_throttles_with_cap(void **state)
{
	struct sim s;
	struct rate r;
	uint64_t per_s;

	(void)state;
	sim_init(&s, 1000, 200000, 100000);
	rate_init(&r, 0, SEC);
	sim_run(&s, &r, 30, 10);
	sim_free(&s);
	per_s = s.ok_measured / 20;
	print_message("random 30%% + cap 1000/s: %llu accepted/s, %llu cuts, "
	    "%llu undone, gauge %u/s\n", (unsigned long long)per_s,
	    (unsigned long long)r.cuts, (unsigned long long)r.undos,
	    rate_current(&r));
	assert_true(per_s >= 600);
	assert_true(per_s <= 1000);
}

/* max_tps and no throttles: step for step what tbucket does. */
static void
test_max_tps_is_tbucket(void **state)
{
	struct tbucket tb;
	struct rate r;
	uint64_t t = 5 * SEC;

	(void)state;
	tbucket_init(&tb, 100, t);
	rate_init(&r, 100, t);
	assert_int_equal(rate_current(&r), 100);
	for (int i = 0; i < 200000; i++, t += 37 + (uint64_t)(i % 11) * 53) {
		assert_int_equal(rate_wait_us(&r, t), tbucket_wait_us(&tb, t));
		assert_int_equal(rate_take(&r, t), tbucket_take(&tb, t));
		rate_accepted(&r, t + 1000);
	}
	assert_int_equal(rate_current(&r), 100);
	/* A reload to another cap: as a fresh tbucket. */
	rate_set_max(&r, 7, t);
	tbucket_init(&tb, 7, t);
	for (int i = 0; i < 20000; i++, t += 1009) {
		assert_int_equal(rate_wait_us(&r, t), tbucket_wait_us(&tb, t));
		assert_int_equal(rate_take(&r, t), tbucket_take(&tb, t));
	}
}

/* max_tps below the SMSC's cap: exactly max_tps, no throttle ever. */
static void
test_max_tps_under_cap(void **state)
{
	struct sim s;
	struct rate r;

	(void)state;
	sim_init(&s, 300, 0, 0);
	rate_init(&r, 200, SEC);
	sim_run(&s, &r, 30, 10);
	sim_free(&s);
	/* 20 s at 200/s, give or take the bucket's tokens at the boundary. */
	assert_true(s.ok_measured >= 4000 - 1 && s.ok_measured <= 4000 + 10);
	assert_int_equal(s.thr_total, 0);
	assert_int_equal(rate_current(&r), 200);
}

/* max_tps above the cap: learns the cap, never goes over max_tps. */
static void
test_max_tps_over_cap(void **state)
{
	struct sim s;
	struct rate r;

	(void)state;
	sim_init(&s, 300, 0, 0);
	rate_init(&r, 400, SEC);
	sim_run(&s, &r, 30, 10);
	sim_free(&s);
	assert_true(s.ok_measured / 20 >= 270);
	assert_true(rate_current(&r) <= 400 && rate_current(&r) >= 240);
}

/* Unlimited until the first throttle; then 0.85 x accepted, a 50 ms pause,
 * and the throttles of the rest of the window are one cut, not 64. */
static void
test_one_cut_per_window(void **state)
{
	struct rate r;
	uint64_t t = SEC;

	(void)state;
	rate_init(&r, 0, t);
	assert_int_equal(rate_current(&r), 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(rate_take(&r, t), 1);
	for (int i = 0; i < 400; i++)
		rate_accepted(&r, t + 50000 + (uint64_t)i * 100);
	t += 100000;
	assert_int_equal(rate_throttled(&r, t), 1);
	assert_int_equal(rate_current(&r), 340);
	for (int i = 1; i < 64; i++)
		assert_int_equal(rate_throttled(&r, t + (uint64_t)i * 10), 0);
	assert_int_equal(r.cuts, 1);
	assert_int_equal(rate_current(&r), 340);
	/* The pause, then no more than a twentieth of a second at once. */
	assert_int_equal(rate_take(&r, t + 1000), 0);
	assert_int_equal(rate_wait_us(&r, t + 1000), 49000);
	t += 50000;
	int burst = 0;
	while (rate_take(&r, t))
		burst++;
	assert_int_equal(burst, 340 / 20);
	assert_true(rate_wait_us(&r, t) > 0);
}

/* Fewer than 16 answers in the last second say nothing about a rate: a
 * throttle then only pauses. With 16 and none accepted: the floor, 1/s. */
static void
test_thin_evidence_and_floor(void **state)
{
	struct rate r;
	uint64_t t = 3 * SEC;

	(void)state;
	rate_init(&r, 0, SEC);
	for (int i = 0; i < 15; i++)
		assert_int_equal(rate_throttled(&r, t), 0);
	assert_int_equal(rate_current(&r), 0);
	assert_int_equal(rate_take(&r, t + 1000), 0);
	assert_int_equal(rate_wait_us(&r, t + 1000), 49000);
	assert_int_equal(rate_take(&r, t + 50000), 1);
	assert_int_equal(rate_current(&r), 0);
	assert_int_equal(rate_throttled(&r, t + 60000), 1);
	assert_int_equal(rate_current(&r), 1);
	t += 60000;
	assert_int_equal(rate_wait_us(&r, t), 50000);
	assert_int_equal(rate_take(&r, t + 50000), 1);
	assert_int_equal(rate_take(&r, t + 50000), 0);
	assert_int_equal(rate_wait_us(&r, t + 50000), SEC);
}

/* Additive increase: from 0.7 x a cap it was at back to it in a few
 * seconds of success; an idle link does not grow its rate. */
static void
test_climbs_back(void **state)
{
	struct rate r;
	uint64_t t = SEC;
	uint32_t at;
	int secs;

	(void)state;
	rate_init(&r, 0, t);
	/* A second at 1000/s, then a throttle: 850/s. */
	for (int i = 0; i < 1000; i++, t += 1000)
		rate_accepted(&r, t);
	assert_int_equal(rate_throttled(&r, t), 1);
	assert_int_equal(rate_current(&r), 850);
	/* Idle for 10 s: no increase. */
	t += 10 * SEC;
	rate_accepted(&r, t);
	assert_int_equal(rate_current(&r), 850);
	/* Busy at the rate in force: climbs. */
	for (secs = 0; secs < 10 && rate_current(&r) < 1000; secs++) {
		at = rate_current(&r);
		for (uint32_t i = 0; i < at; i++)
			rate_accepted(&r, t + (uint64_t)i * SEC / at);
		t += SEC;
	}
	assert_true(secs <= 2);
	/* And on past the old level, by 2% a tick. */
	for (int k = 0; k < 3; k++) {
		at = rate_current(&r);
		for (uint32_t i = 0; i < at; i++)
			rate_accepted(&r, t + (uint64_t)i * SEC / at);
		t += SEC;
	}
	assert_true(rate_current(&r) > 1300);
}

/* A reload keeps what was learned, lowered to a new cap. */
static void
test_set_max_keeps_learned(void **state)
{
	struct rate r;
	uint64_t t = SEC;

	(void)state;
	rate_init(&r, 0, t);
	for (int i = 0; i < 500; i++, t += 2000)
		rate_accepted(&r, t);
	(void)rate_throttled(&r, t);
	assert_int_equal(rate_current(&r), 425);
	rate_set_max(&r, 1000, t);
	assert_int_equal(rate_current(&r), 425);
	rate_set_max(&r, 100, t);
	assert_int_equal(rate_current(&r), 100);
	rate_set_max(&r, 0, t);
	assert_int_equal(rate_current(&r), 100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cap_300),
		cmocka_unit_test(test_cap_1000),
		cmocka_unit_test(test_cap_50),
		cmocka_unit_test(test_cap_calendar),
		cmocka_unit_test(test_cap_slow_answers),
		cmocka_unit_test(test_random_throttles),
		cmocka_unit_test(test_random_throttles_with_cap),
		cmocka_unit_test(test_max_tps_is_tbucket),
		cmocka_unit_test(test_max_tps_under_cap),
		cmocka_unit_test(test_max_tps_over_cap),
		cmocka_unit_test(test_one_cut_per_window),
		cmocka_unit_test(test_thin_evidence_and_floor),
		cmocka_unit_test(test_climbs_back),
		cmocka_unit_test(test_set_max_keeps_learned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
