#!/usr/bin/env perl
# The backbone end to end: smsgwd binds to smsc-sim, a text comes in and the
# reply goes out (GSM, UCS-2, a concatenated Chinese text), enquire_link
# both ways, and a graceful stop with unbind and exit 0.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use SmsgwdTest;
use Test::More;

my $sim = start_sim(args => ['--enquire-link', '1', '--dlr']);
my $gw = start_gw(port => $sim->port, smpp => { enquire_link_s => 1 });

my $bind = $sim->wait_type('bind', 60);
ok($bind, 'smsgwd binds');
is($bind->{mode}, 'transceiver', 'as a transceiver by default');
is($bind->{status}, 'ESME_ROK', 'bind accepted');
ok($gw->wait_log(qr/state binding -> bound/, 60), 'smsgwd logs the bound state');

sub parts_for {
    my ($text, $gsm) = @_;
    my $n = length $text;
    return $gsm ? ($n <= 160 ? 1 : int(($n + 152) / 153))
                : ($n <= 70 ? 1 : int(($n + 66) / 67));
}

# An English keyword in, the English help out in the GSM alphabet,
# addressed back to the sender.
$sim->send_mo('8613800138000', 'HELP');
my $m = $sim->wait_type('message', 60);
ok($m, 'a reply arrives');
my $help_en = template('en', 'help.list');
is($m->{text}, $help_en, 'the English help text');
is($m->{dst}, '8613800138000', 'to the sender');
is($m->{src}, '10659000', 'from the short code');
is($m->{dcs}, 0, 'in the GSM default alphabet');
is($m->{parts}, parts_for($help_en, 1), 'in 153-character parts');
my $resp = $sim->wait_type('deliver_sm_resp', 60);
is($resp->{status}, 'ESME_ROK', 'deliver_sm acknowledged');

# UCS-2 both ways, concatenated on the way out.
$sim->send_mo('13800138000', '帮助');
$m = $sim->wait_type('message', 60);
my $help_zh = template('zh', 'help.list');
is($m->{text}, $help_zh, 'UCS-2 text in, Chinese help out');
is($m->{dcs}, 8, 'reply in UCS-2');
is($m->{parts}, parts_for($help_zh, 0), 'in 67-unit parts');
my @parts = grep { $_->{event} eq 'submit_sm' && ($_->{parts} // 1) == $m->{parts} } $sim->events;
ok(@parts >= $m->{parts} && !grep({ $_->{esm_class} != 64 } @parts), 'each part with a UDH');

# An emoji (a surrogate pair in UCS-2) is a text like any other.
$sim->send_mo('13800138000', '😀');
$m = $sim->wait_type('message', 60);
is($m->{text}, template('zh', 'unknown.hint'), 'surrogate pair decoded: the hint');

# A 200-character Chinese text arrives in 3 parts and is answered once.
my $long = join '', map { chr(0x4e00 + $_ % 500) } 1 .. 200;
$sim->send_mo('13800138000', $long);
my $q = $sim->wait_event(sub { $_[0]{event} eq 'mo_queued' && $_[0]{text} eq $long }, 60);
is($q->{parts}, 3, 'the simulator sends it in 3 parts');
$m = $sim->wait_type('message', 60);
is($m->{text}, template('zh', 'unknown.hint'), 'reassembled and answered');

# Delivery receipts for what was sent come back and are parsed.
ok($gw->wait_log(qr/receipt id=\d+ part=1 smsc_id=a000000\d stat=DELIVRD/, 60),
    'a delivery receipt is parsed (id and state)');
# The sim reports a receipt's deliver_sm_resp when it reads it, which may
# be after smsgwd logged the receipt.
my @rr;
SmsgwdTest::wait_until(sub {
    @rr = grep { ($_->{kind} // '') eq 'receipt' } $sim->events('deliver_sm_resp') });
ok(@rr && !grep({ $_->{status} ne 'ESME_ROK' } @rr), 'receipts acknowledged') or diag explain [@rr], $gw->log_text;

# enquire_link both ways: the sim sends one every second and smsgwd sends
# its own after a second of silence.
ok($sim->wait_type('enquire_link', 60), 'smsgwd sends enquire_link');
ok($sim->wait_type('enquire_link_resp', 60), 'smsgwd answers the SMSC\'s enquire_link');

# Graceful stop.
my $st = $gw->stop('TERM', 60);
ok(defined $st, 'smsgwd exits on SIGTERM');
is($st, 0, 'with status 0');
ok($sim->wait_type('unbind', 60), 'after unbinding');
like($gw->log_text, qr/stopping: no new texts/, 'logs the stop');
unlike($gw->log_text, qr/AddressSanitizer|runtime error/, 'no sanitizer report');

$sim->stop('TERM', 60);
done_testing;
