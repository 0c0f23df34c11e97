#!/usr/bin/env perl
# Several carriers (issue 12): two smsc-sim instances as the links "mobile"
# and "unicom". A reply goes back on the link its text came in on, whatever
# the routes file says; a notification goes to the link of its number's
# longest prefix (or "*"); smsgwctl links, outbox and messages show the
# links; a receipt is matched by (link, SMSC id) when both carriers hand
# out the same id; /metrics counts per link and /healthz lists the links.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Carriers;
use SmsgwdTest;
use Test::More;

binmode STDOUT, ':utf8';
binmode STDERR, ':utf8';

my $dir = tmpdir();
spew("$dir/api.token", "it-token-" . join('', map { int rand 10 } 1 .. 20) . "\n");
chmod 0600, "$dir/api.token";
my $hport = free_port();

# Both simulators number their message ids from the same start, so the
# first part each accepts is "a0000000" on both. mobile's receipts say
# DELIVRD, unicom's EXPIRED: each must land on its own link's part.
my $mob = start_sim(args => ['--dlr']);
my $uni = start_sim(args => ['--dlr', '--dlr-stat', 'EXPIRED']);
my $gw = start_gw(dir => $dir,
    links => [ { name => 'mobile', port => $mob->port, window => 7 },
               { name => 'unicom', port => $uni->port, window => 9 } ],
    routes => "# test routes\n139 mobile unicom\n1391 unicom mobile\n"
        . "186 unicom mobile\n* unicom mobile\n",
    sections => { outbox => { retry_undelivered => 0 },
        http => { listen => "127.0.0.1:$hport",
            token_file => "$dir/api.token" } });

my $b1 = $mob->wait_type('bind');
my $b2 = $uni->wait_type('bind');
is($b1 && $b1->{status}, 'ESME_ROK', 'mobile binds its sim');
is($b2 && $b2->{status}, 'ESME_ROK', 'unicom binds its sim');
ok($gw->wait_log(qr/link=mobile state binding -> bound/)
    && $gw->wait_log(qr/link=unicom state binding -> bound/),
    'smsgwd logs both links bound') or diag $gw->log_text;

# ---- replies: back on the link the text came in on ---------------------------

my $hint = template('zh', 'unknown.hint');
$uni->send_mo('13900139001', '你好');
my $r1 = $uni->wait_event(sub { $_[0]{event} eq 'message' && $_[0]{dst} eq '13900139001' });
ok($r1, 'a 139 text in on unicom: its reply goes out on unicom (routes say mobile)');
is($r1 && $r1->{text}, $hint, 'the reply to it');
$mob->send_mo('18600186001', '你好');
my $r2 = $mob->wait_event(sub { $_[0]{event} eq 'message' && $_[0]{dst} eq '18600186001' });
ok($r2, 'a 186 text in on mobile: its reply goes out on mobile (routes say unicom)');
is($r2 && $r2->{text}, $hint, 'the reply to it');

# ---- a receipt with the same SMSC id on both links ----------------------------

my ($s1) = grep { $_->{status} eq 'ESME_ROK' } $uni->events('submit_sm');
my ($s2) = grep { $_->{status} eq 'ESME_ROK' } $mob->events('submit_sm');
ok($s1 && $s2 && $s1->{message_id} eq $s2->{message_id},
    'both carriers handed out the same message id')
    or diag explain [$s1, $s2];
my $sid = $s1 ? $s1->{message_id} : 'none';
my $parts;
ok(SmsgwdTest::wait_until(sub {
    $parts = sql($gw, "select link || ' ' || state || ' ' || coalesce(status, '')"
        . " from outbox_parts where smsc_id = '$sid' order by link");
    $parts eq "mobile delivered DELIVRD\nunicom expired EXPIRED" }),
    "each link's receipt for $sid updated its own part")
    or diag "parts with $sid:\n$parts\n" . $gw->log_text;
my $states;
ok(SmsgwdTest::wait_until(sub {
    $states = sql($gw, "select msisdn || ' ' || state from messages where"
        . " class = 'reply' and direction = 'out' order by msisdn");
    $states eq "13900139001 expired\n18600186001 delivered" }),
    'the reply on mobile is delivered, the one on unicom expired')
    or diag $states;
ok($gw->wait_log(qr/receipt.*smsc_id=\Q$sid\E.*stat=DELIVRD/)
    && $gw->wait_log(qr/receipt.*smsc_id=\Q$sid\E.*stat=EXPIRED/),
    'both receipts logged');
unlike($gw->log_text, qr/smsc_id=\Q$sid\E.*matches no message/,
    'neither receipt went unmatched');

# ---- notifications: by the routes file ----------------------------------------

my %want = ('13900139002' => 'mobile', '13910139003' => 'unicom',
    '18600186004' => 'unicom', '17700177005' => 'unicom');
my %why = ('13900139002' => '139 -> mobile', '13910139003' => '1391 (longest prefix) -> unicom',
    '18600186004' => '186 -> unicom', '17700177005' => '* -> unicom');
queue_notices($gw, sort keys %want);
my %sim = (mobile => $mob, unicom => $uni);
for my $p (sort keys %want) {
    my $on = $sim{$want{$p}};
    my $m = $on->wait_event(sub { $_[0]{event} eq 'message' && $_[0]{dst} eq intl($p) });
    ok($m, "notification to $p: $why{$p}");
    like($m && $m->{text}, qr/S$p/, 'carrying its tracking number');
}
# Every notification has arrived where it belongs; none on the other sim.
for my $p (sort keys %want) {
    my $other = $want{$p} eq 'mobile' ? $uni : $mob;
    is(scalar(received_by($other, intl($p))), 0, "$p not sent on the other link");
    is(scalar(received_by($sim{$want{$p}}, intl($p))), 1, "$p sent once");
}

# ---- smsgwctl links, outbox, messages -----------------------------------------

my $links;
ok(SmsgwdTest::wait_until(sub {
    $links = ctl_json($gw, 'links');
    $links && @$links == 2 && !grep { $_->{state} ne 'bound' } @$links }),
    'smsgwctl links --json: two links, both bound') or diag explain $links;
my %l = map { $_->{link} => $_ } @{ $links // [] };
is_deeply([sort keys %l], ['mobile', 'unicom'], 'by name');
is($l{mobile}{window}, 7, 'mobile: its window');
is($l{unicom}{window}, 9, 'unicom: its window');
for my $n (qw(mobile unicom)) {
    ok(defined $l{$n}{in_flight} && $l{$n}{in_flight} >= 0, "$n: window in use");
    ok(defined $l{$n}{queued} && $l{$n}{queued} >= 0, "$n: queued");
    is($l{$n}{bind}, 'transceiver', "$n: bind type");
    ok(defined $l{$n}{rate}, "$n: the learned rate");
    ok($l{$n}{bound_since}, "$n: bound since");
}
my ($rc, $out, $err) = run_ctl($gw->{conf}, $dir, 'links');
is($rc, 0, 'smsgwctl links') or diag $err;
my @lines = split /\n/, $out;
like($lines[0] // '', qr/LINK.*STATE.*WINDOW.*QUEUED/, 'a header with link, state, window, queued');
like($out, qr/^mobile\s+bound\s+transceiver\s.*\s\d+\/7\s/m, 'mobile: bound, window in use/7');
like($out, qr/^unicom\s+bound\s+transceiver\s.*\s\d+\/9\s/m, 'unicom: bound, window in use/9');

# outbox and messages: the link of each part.
my %idof = map { my $p = $_; $p => sql($gw, "select id from messages where"
    . " class = 'notify' and msisdn = '" . intl($p) . "'") } keys %want;
# mobile's receipts say DELIVRD, unicom's EXPIRED.
my ($ob, $ox);
ok(SmsgwdTest::wait_until(sub {
    $ob = ctl_json($gw, qw(outbox --state delivered --limit 100));
    $ox = ctl_json($gw, qw(outbox --state expired --limit 100));
    $ob && $ox && 4 == grep { $_->{class} eq 'notify' } @$ob, @$ox }),
    'outbox --state delivered/expired --json: the four notifications')
    or diag explain $ob, $ox;
my %obl = map { $_->{id} => $_->{links} } @{ $ob // [] }, @{ $ox // [] };
for my $p (sort keys %want) {
    is($obl{$idof{$p}}, $want{$p}, "outbox: $p on $want{$p}");
}
my $msgs = ctl_json($gw, qw(messages --limit 100));
my %ml = map { $_->{id} => $_->{links} } @{ $msgs // [] };
for my $p (sort keys %want) {
    is($ml{$idof{$p}}, $want{$p}, "messages: $p on $want{$p}");
}
my $rid = sql($gw, "select id from messages where class = 'reply' and msisdn = '13900139001'");
like($ml{$rid} // '', qr/^unicom( unicom)*$/, 'messages: the reply to the unicom text, every part on unicom');
($rc, $out) = run_ctl($gw->{conf}, $dir, qw(outbox --state delivered --limit 100));
like($out, qr/^\s*\Q$idof{'13900139002'}\E\s.*\smobile\s/m, 'outbox text: the link column');

# ---- /metrics and /healthz ------------------------------------------------------

my $m;
ok(SmsgwdTest::wait_until(sub {
    $m = metrics($hport);
    $m && ($m->{'smsgwd_link_submits_total{link="mobile"}'} // 0) >= 2
        && ($m->{'smsgwd_link_submits_total{link="unicom"}'} // 0) >= 4
        && ($m->{'smsgwd_link_receipts_total{link="mobile"}'} // 0) >= 2
        && ($m->{'smsgwd_link_receipts_total{link="unicom"}'} // 0) >= 4 }),
    '/metrics: submits and receipts by link')
    or diag explain $m;
for my $n (qw(mobile unicom)) {
    is($m->{"smsgwd_link_bound{link=\"$n\"}"}, 1, "smsgwd_link_bound{link=\"$n\"} 1");
    is($m->{"smsgwd_link_binds_total{link=\"$n\"}"}, 1, "$n bound once");
    ok(defined $m->{"smsgwd_link_queue_depth{link=\"$n\"}"}, "$n: a queue depth gauge");
    ok(defined $m->{"smsgwd_link_rate{link=\"$n\"}"}, "$n: a learned-rate gauge");
}
my ($hs, $hb) = healthz($hport);
is($hs, 200, '/healthz 200 with both links bound');
my %hl = map { $_->{name} => $_->{state} } @{ $hb->{links} // [] };
is_deeply(\%hl, { mobile => 'bound', unicom => 'bound' }, '/healthz lists both links, bound')
    or diag explain $hb;

# ---- stop ---------------------------------------------------------------------

is($gw->stop('TERM'), 0, 'clean stop');
ok($mob->wait_type('unbind') && $uni->wait_type('unbind'), 'both links unbound');
unlike($gw->log_text, qr/AddressSanitizer|runtime error/, 'no sanitizer report');
$mob->stop('TERM');
$uni->stop('TERM');
done_testing;
