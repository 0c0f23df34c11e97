#!/usr/bin/env perl
# Time-driven session behaviour against a scripted SMSC: a submit_sm whose
# response never comes is retried (new sequence, same text) and not lost;
# an unanswered enquire_link drops the link and smsgwd binds again.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use RawSmsc;
use SmsgwdTest;
use Encode qw(decode);
use Test::More;
use Time::HiRes qw(time);

use constant { DELIVER_SM => 5, DELIVER_SM_RESP => 0x80000005,
    SUBMIT_SM => 4, SUBMIT_SM_RESP => 0x80000004, ENQUIRE_LINK => 0x15 };

my $smsc = RawSmsc->new;
# -v: a sent message's line ("outbox sent ... smsc_ids=") is debug.
# enquire_link_s 3: this scripted SMSC answers enquire_link only while the
# test reads, so a shorter idle period plus the 1 s deadline could drop
# the link on a loaded machine before the test means it to.
my $gw = start_gw(port => $smsc->port, args => ['-v'],
    smpp => { response_timeout_s => 1, enquire_link_s => 3 });
my $c = $smsc->accept_bound(60);
ok($c, 'bound');

$smsc->send_pdu($c, DELIVER_SM, 0, 7, RawSmsc::deliver_body(sm => 'ping'));
my @p = $smsc->expect($c, SUBMIT_SM, 60);
ok(@p, 'first submit_sm');
my $first_seq = $p[2];
# Not answered. After response_timeout_s the same text comes again.
my $t0 = time;
@p = $smsc->expect($c, SUBMIT_SM, 60);
ok(@p, 'the submit is sent again after the response timeout');
isnt($p[2], $first_seq, 'with a new sequence number');
is(decode('UCS-2BE', RawSmsc::parse_submit($p[3])->{sm}), template('zh', 'unknown.hint'),
    'same text');
ok(time - $t0 >= 0.5, 'not before the timeout');
$smsc->send_pdu($c, SUBMIT_SM_RESP, 0, $p[2], "m1\0");
ok($gw->wait_log(qr/outbox sent id=\d+ .*smsc_ids=m1/, 60), 'then sent');
ok($gw->wait_log(qr/no response in 1 s, will retry/, 60), 'the timeout is logged');

# A late response to the first attempt is logged, not fatal.
$smsc->send_pdu($c, SUBMIT_SM_RESP, 0, $first_seq, "late\0");
ok($gw->wait_log(qr/matches no submit/, 60), 'late response ignored');

# Stop answering enquire_link: the link is dropped and bound again.
@p = $smsc->read_pdu($c, 60);
is($p[0], ENQUIRE_LINK, 'enquire_link after 3 s idle');
ok($gw->wait_log(qr/dropped: enquire_link timeout/, 60), 'unanswered: dropped');
my $c2 = $smsc->accept_bound(60);
ok($c2, 'and bound again');
kill 'TERM', $gw->pid;
my @u = $smsc->expect($c2, 0x00000006, 60);
$smsc->send_pdu($c2, 0x80000006, 0, $u[2]) if @u;
is($gw->stop('TERM', 60), 0, 'clean stop');
unlike($gw->log_text, qr/AddressSanitizer|runtime error/, 'no sanitizer report');

# The rest is not about timeouts: a second smsgwd with a response timeout
# no loaded machine reaches, so that the drain below (which ends at the
# outstanding submit's deadline) waits for the response the test sends.
$smsc = RawSmsc->new;
$gw = start_gw(port => $smsc->port, args => ['-v'],
    smpp => { response_timeout_s => 60, enquire_link_s => 60 });
$c2 = $smsc->accept_bound(60);
ok($c2, 'a second smsgwd binds');

# A permanent error status fails the message with the status by name.
$smsc->send_pdu($c2, DELIVER_SM, 0, 8, RawSmsc::deliver_body(sm => 'perm'));
@p = $smsc->expect($c2, SUBMIT_SM, 60);
$smsc->send_pdu($c2, SUBMIT_SM_RESP, 0x0B, $p[2]);
ok($gw->wait_log(qr/outbox failed id=\d+ .*status=ESME_RINVDSTADR/, 60),
    'a permanent error fails the message, status named');
# Nothing to wait for here: watch the link for 3 s of silence (a retry
# would come within 1 s). Load can only hide a retry, not invent one.
my $retried = 0;
while (my @q = $smsc->read_pdu($c2, 3)) {
    $retried = 1 if $q[0] == SUBMIT_SM;
    $smsc->send_pdu($c2, 0x80000015, 0, $q[2]) if $q[0] == ENQUIRE_LINK;
}
ok(!$retried, 'and it is not retried');

# SIGTERM with a submit outstanding: smsgwd waits for its response, then
# unbinds. A text arriving meanwhile is refused with a temporary error so
# the SMSC keeps it.
$smsc->send_pdu($c2, DELIVER_SM, 0, 9, RawSmsc::deliver_body(sm => 'last'));
@p = $smsc->expect($c2, SUBMIT_SM, 60);
my $pending = $p[2];
kill 'TERM', $gw->pid;
ok($gw->wait_log(qr/stopping: no new texts/, 60), 'stop begins');
$smsc->send_pdu($c2, DELIVER_SM, 0, 10, RawSmsc::deliver_body(sm => 'late'));
@p = $smsc->expect($c2, DELIVER_SM_RESP, 60);
is($p[1], 0x64, 'a text during the stop gets ESME_RX_T_APPN');
# Again a bounded watch (0.5 s of silence) for something that must not
# happen; the drain itself has 60 s.
my $unbound_early = 0;
while (my @q = $smsc->read_pdu($c2, 0.5)) {
    $unbound_early = 1 if $q[0] == 0x00000006;
    $smsc->send_pdu($c2, 0x80000015, 0, $q[2]) if $q[0] == ENQUIRE_LINK;
}
ok(!$unbound_early, 'no unbind while a submit is outstanding');
$smsc->send_pdu($c2, SUBMIT_SM_RESP, 0, $pending, "m9\0");
@p = $smsc->expect($c2, 0x00000006, 60);
ok(@p, 'unbind once the window is empty');
$smsc->send_pdu($c2, 0x80000006, 0, $p[2]);
is($gw->stop('TERM', 60), 0, 'clean stop, exit 0');
like($gw->log_text, qr/outbox sent id=\d+ .*smsc_ids=m9/, 'the last reply counted as sent');
unlike($gw->log_text, qr/AddressSanitizer|runtime error/, 'no sanitizer report');
done_testing;
