#!/usr/bin/env perl
# Proactive notifications and delivery tracking end to end: set-status
# mailed -> exactly one SMS carrying the tracking number; the same change
# again -> none; an opted-out phone -> none; quiet hours -> later; receipts
# (DELIVRD on every part of a long message, ids quoted in the other base,
# UNDELIV with one retry) update the outbox rows.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use POSIX qw(strftime);
use SmsgwdTest;
use Test::More;

binmode STDOUT, ':utf8';
binmode STDERR, ':utf8';

my $dir = tmpdir();
open my $csv, '>:encoding(UTF-8)', "$dir/cases.csv" or die;
print $csv "receipt_no,id_number,name,msisdn,status,submitted_at\n";
print $csv "JX1,11010519491231002X,张三,13800138000,producing,2026-10-01\n";
print $csv "JX2,440524188001010014,李四,13900139000,producing,2026-10-01\n";
close $csv;

# Quiet hours around now: notifications wait until a reload lifts them.
my $now = time;
my $quiet = strftime('%H:%M', localtime($now - 120)) . '-'
    . strftime('%H:%M', localtime($now + 600));
my $sim = start_sim(dir => $dir, args => ['--dlr', '--msgid', 'dec', '--dlr-id-other-form']);
my $gw = start_gw(dir => $dir, port => $sim->port,
    sections => { notify => { quiet_hours => $quiet } });
ok($sim->wait_type('bind', 60), 'bound');
my $ctl = build_dir() . "/smsgwctl -c $gw->{conf}";
is(system("$ctl import-cases $dir/cases.csv >/dev/null 2>&1") >> 8, 0, 'cases imported');

sub sql { my $q = shift; my $r = `sqlite3 $gw->{db} "$q"`; chomp $r; $r }
sub notices_to { my $to = shift; grep { $_->{dst} eq $to } $sim->events('message') }

my $out = `$ctl case set-status JX1 mailed --courier EMS --tracking EA123456789CN 2>&1`;
like($out, qr/notification queued/, 'set-status mailed queues a notification');
is(sql("select count(*) from messages where class='notify'"), 1, 'one outbox row');
my $want = template('zh', 'notify.mailed', ref => 'JX1', courier => 'EMS',
    tracking_no => 'EA123456789CN');
# Silence has no event to wait for and a marker text would add replies to
# the counts below: a bounded watch (2 s, four notification polls). Load
# can only make it miss a notification sent in error, never fail falsely.
ok(!$sim->wait_event(sub { $_[0]{event} eq 'message' }, 2), 'held during quiet hours');

# The same change again queues nothing.
$out = `$ctl case set-status JX1 mailed --courier EMS --tracking EA123456789CN 2>&1`;
like($out, qr/no notification/, 'the same change again: no notification');
is(sql("select count(*) from messages where class='notify'"), 1, 'still one row');

# An opted-out phone gets none.
system("$ctl optout add 13900139000 >/dev/null 2>&1");
$out = `$ctl case set-status JX2 ready --place 城关派出所 2>&1`;
like($out, qr/opted out/, 'opted-out phone: no notification');

# Lift quiet hours: the notification goes, to the international number.
open my $f, '<', $gw->{conf} or die;
my $conf = do { local $/; <$f> };
close $f;
$conf =~ s/^quiet_hours = .*$/quiet_hours = /m;
open $f, '>', $gw->{conf} or die;
print $f $conf;
close $f;
kill 'HUP', $gw->pid;
my $m = $sim->wait_type('message', 60);
ok($m, 'sent once quiet hours end');
is($m && $m->{text}, $want, 'the notice carries courier and tracking number');
is($m && $m->{dst}, '8613800138000', 'to the case phone, international form');
is($m && $m->{dst_ton}, 1, 'TON 1');
is($m && $m->{src}, '10659000', 'from the short code');
ok(!$sim->wait_event(sub { $_[0]{event} eq 'message' }, 2),
    'exactly one notification (a bounded watch, as above)');

# Receipts: DELIVRD quoted in the other base than submit_sm_resp used.
ok(SmsgwdTest::wait_until(sub {
    sql("select state from messages where class='notify'") eq 'delivered' }, 60),
    'the DELIVRD receipt (decimal id, quoted in hex) marks it delivered');

# A long reply: delivered only when every part is.
$sim->send_mo('13800138000', '帮助');
ok($sim->wait_type('message', 60), 'a two-part reply');
ok(SmsgwdTest::wait_until(sub {
    sql("select count(*) from outbox_parts p join messages m on m.id = p.msg_id "
        . "where m.class='reply' and p.state='delivered'") == 2
    && sql("select state from messages where class='reply' order by id desc limit 1")
        eq 'delivered' }, 60),
    'both parts delivered, then the message');
is($gw->stop('TERM', 60), 0, 'clean stop');
$sim->stop('TERM', 60);

# UNDELIV: one more try (retry_undelivered = 1), then failed.
my $sim2 = start_sim(dir => $dir, args => ['--dlr', '--dlr-stat', 'UNDELIV']);
my $gw2 = start_gw(dir => $dir, port => $sim2->port);
$gw->{db} = $gw2->{db};
ok($sim2->wait_type('bind', 60), 'bound again');
$sim2->send_mo('13700137000', 'BZ');
my @got;
SmsgwdTest::wait_until(sub {
    @got = grep { $_->{dst} eq '13700137000' } $sim2->events('message');
    @got >= 2 }, 60);
is(scalar @got, 2, 'UNDELIV: sent one more time');
ok(SmsgwdTest::wait_until(sub {
    sql("select state || ' ' || last_status from messages where class='reply' "
        . "and msisdn='13700137000' and direction='out'") =~ /^failed UNDELIV/ }, 60),
    'then failed with the receipt state');
is($gw2->stop('TERM', 60), 0, 'clean stop');
unlike($gw2->log_text, qr/AddressSanitizer|runtime error/, 'no sanitizer report');
$sim2->stop('TERM', 60);
done_testing;
