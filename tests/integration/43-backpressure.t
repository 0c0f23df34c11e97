#!/usr/bin/env perl
# Backpressure: when replies pile up faster than the SMSC takes them
# ([outbox] reply_backlog), smsgwd refuses new texts with a temporary error
# before saving them; the SMSC delivers them again later. Accepting resumes
# when the backlog is down to half. Every text is saved and answered
# exactly once, and nothing saved is left unacknowledged.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SmsgwdTest;
use Test::More;
use Time::HiRes qw(time sleep);

$SIG{PIPE} = "IGNORE";

my ($ntexts, $backlog, $mo_window) = (80, 16, 10);
my $dir = tmpdir();
# Every submit_sm answered 200 ms late, at most 2 in flight: about ten
# replies a second, while texts could arrive and be saved far faster.
my $sim = start_sim(dir => $dir, args => ['--delay-ms', '200',
    '--mo-window', $mo_window]);
my $gw = start_gw(dir => $dir, port => $sim->port,
    smpp => { window => 2, response_timeout_s => 30 },
    sections => { outbox => { reply_backlog => $backlog } });
ok($gw->wait_log(qr/-> bound/, 60), 'bound');

my %want;
for (1 .. $ntexts) {
    my $phone = sprintf '1370%07d', $_;
    $sim->send_mo($phone, 'HELP');
    $want{$phone} = 1;
}

# Watch how far acknowledged texts run ahead of the replies the SMSC got.
my ($ahead, $acked, $replied) = (0, 0, 0);
my $end = time + 180;
while (time < $end) {
    $acked = grep { $_->{status} eq 'ESME_ROK' } $sim->events('deliver_sm_resp');
    my %got;
    $got{$_->{dst}}++ for $sim->events('message');
    $replied = grep { $got{"86$_"} || $got{$_} } keys %want;
    $ahead = $acked - $replied if $acked - $replied > $ahead;
    last if $acked >= $ntexts && $replied >= $ntexts;
    sleep 0.05;
}
is($acked, $ntexts, 'every text accepted in the end');
is($replied, $ntexts, 'every text answered');
# Without backpressure the texts are all accepted within a second while
# about ten replies a second go out: 60 or more ahead. With it, the
# backlog plus one SMSC window plus the replies in flight.
cmp_ok($ahead, '<=', $backlog + $mo_window + 4,
    "accepted texts ran at most $ahead ahead of the replies");
my $refused = grep { $_->{status} eq 'ESME_RX_T_APPN' }
    $sim->events('deliver_sm_resp');
cmp_ok($refused, '>', 0, "$refused deliveries refused for later");
like($gw->log_text, qr/backpressure: \d+ replies waiting \(limit $backlog\); new texts refused/,
    'the refusing is logged as a warning');
like($gw->log_text, qr/backpressure over: \d+ replies waiting, [1-9]\d* texts refused meanwhile/,
    'and its end');

my %n;
$n{$_->{dst}}++ for $sim->events('message');
is((grep { $_ > 1 } values %n), 0, 'no text answered twice');
is(`sqlite3 $gw->{db} "select count(*) from messages where direction = 'in'"` + 0,
    $ntexts, 'every text saved once');
is($gw->stop('TERM', 60), 0, 'clean stop');
unlike($gw->log_text, qr/AddressSanitizer|runtime error/, 'no sanitizer report');
$sim->stop('TERM', 60);
done_testing;
