#!/usr/bin/env perl
# A wrong password: the SMSC refuses the bind, smsgwd logs the status by name
# and retries with backoff (reconnect_min_s 1, max 2), never in a tight loop.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SmsgwdTest;
use Test::More;
use Time::HiRes qw(time);

my $sim = start_sim(args => ['--password', 'right']);
my $t0 = time;
my $gw = start_gw(port => $sim->port, smpp => { password => 'wrong',
    reconnect_min_s => 1, reconnect_max_s => 2 });

my $b = $sim->wait_type('bind', 10);
is($b->{status}, 'ESME_RINVPASWD', 'the SMSC refuses the bind');
ok($gw->wait_log(qr/bind refused status=ESME_RINVPASWD/, 5),
    'smsgwd logs the status by name');
# Within about 4.5 s a well-behaved client binds at most 1 + 4.5/1 times
# (the first delay is reconnect_min_s, then it doubles, capped at 2 s).
ok($sim->wait_event(sub { $_[0]{event} eq 'bind' }, 5), 'and retries');
sleep 3;
my @binds = $sim->events('bind');
my $secs = time - $t0;
cmp_ok(scalar @binds, '>=', 2, 'retried at least once');
cmp_ok(scalar @binds, '<=', 1 + int($secs / 1) , 'no tight loop: at most one '
    . 'attempt per reconnect_min_s');
ok(!grep({ $_->{status} eq 'ESME_ROK' } @binds), 'never bound');
like($gw->log_text, qr/reconnect in \d+ ms/, 'the delay is logged');
ok($gw->alive, 'smsgwd keeps running (a carrier outage is not fatal)');
is($gw->stop('TERM', 10), 0, 'stops cleanly while unbound');
$sim->stop('TERM', 5);
done_testing;
