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

my $b = $sim->wait_type('bind', 60);
is($b->{status}, 'ESME_RINVPASWD', 'the SMSC refuses the bind');
ok($gw->wait_log(qr/bind refused status=ESME_RINVPASWD/, 60),
    'smsgwd logs the status by name');
# A well-behaved client binds at most 1 + t/1 times in t seconds (the first
# delay is reconnect_min_s, then it doubles, capped at 2 s). Wait for the
# fourth attempt (no fixed sleep): a tight loop gets there at once, far
# ahead of the bound; on a loaded machine it only takes longer.
ok($sim->wait_event(sub { $_[0]{event} eq 'bind' }), 'and retries');
my @binds;
SmsgwdTest::wait_until(sub { (@binds = $sim->events('bind')) >= 4 });
my $secs = time - $t0;
cmp_ok(scalar @binds, '>=', 4, 'retried again and again');
cmp_ok(scalar @binds, '<=', 1 + int($secs / 1) , 'no tight loop: at most one '
    . 'attempt per reconnect_min_s');
ok(!grep({ $_->{status} eq 'ESME_ROK' } @binds), 'never bound');
like($gw->log_text, qr/reconnect in \d+ ms/, 'the delay is logged');
ok($gw->alive, 'smsgwd keeps running (a carrier outage is not fatal)');
is($gw->stop('TERM', 60), 0, 'stops cleanly while unbound');
$sim->stop('TERM', 60);
done_testing;
