#!/usr/bin/env perl
# Bad input from the SMSC: unknown commands get generic_nack, a frame split
# across TCP writes is reassembled, and a command_length below 16 or above
# 64 KiB or a PDU that does not unpack drops the link, which is bound again.
# smsgwd never crashes (the sanitizers would say so).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use RawSmsc;
use SmsgwdTest;
use Encode qw(decode);
use Test::More;

use constant { GENERIC_NACK => 0x80000000, DELIVER_SM => 5,
    DELIVER_SM_RESP => 0x80000005, SUBMIT_SM => 4, ENQUIRE_LINK => 0x15,
    ENQUIRE_LINK_RESP => 0x80000015 };

my $smsc = RawSmsc->new;
my $gw = start_gw(port => $smsc->port);

my $c = $smsc->accept_bound(10);
ok($c, 'smsgwd connects and binds');
ok($gw->wait_log(qr/binding -> bound/, 5), 'bound');

# Unknown commands: data_sm (not ours) and an id that does not exist.
$smsc->send_pdu($c, 0x00000103, 0, 41, "x\0" x 4);
my @p = $smsc->expect($c, GENERIC_NACK, 5);
is($p[2], 41, 'generic_nack for data_sm, same sequence');
is($p[1], 3, 'with ESME_RINVCMDID');
$smsc->send_pdu($c, 0x00001234, 0, 42);
@p = $smsc->expect($c, GENERIC_NACK, 5);
is($p[2], 42, 'generic_nack for an unknown command id');

# The SMSC's enquire_link is answered.
$smsc->send_pdu($c, ENQUIRE_LINK, 0, 43);
@p = $smsc->expect($c, ENQUIRE_LINK_RESP, 5);
is($p[2], 43, 'enquire_link answered');

# A deliver_sm written a few bytes at a time is still one text.
my $pdu = RawSmsc::pdu(DELIVER_SM, 0, 44, RawSmsc::deliver_body(sm => 'split'));
for my $i (0 .. length($pdu) - 1) {
    print $c substr($pdu, $i, 1);
}
@p = $smsc->expect($c, DELIVER_SM_RESP, 5);
is($p[2], 44, 'deliver_sm split over many writes is acknowledged');
is($p[1], 0, 'with ESME_ROK');
@p = $smsc->expect($c, SUBMIT_SM, 5);
my $s = RawSmsc::parse_submit($p[3]);
is(decode('UCS-2BE', $s->{sm}), template('zh', 'unknown.hint'), 'and answered');
$smsc->send_pdu($c, 0x80000004, 0, $p[2], "id1\0");

# command_length below 16: dropped and bound again.
print $c pack('NNNN', 8, DELIVER_SM, 0, 45);
ok($smsc->closed($c, 5), 'command_length 8 drops the link');
ok($gw->wait_log(qr/bad frame: command_length 8/, 5), 'and says why');
$c = $smsc->accept_bound(10);
ok($c, 'smsgwd binds again');

# command_length above 64 KiB.
print $c pack('NNNN', 65537, DELIVER_SM, 0, 46);
ok($smsc->closed($c, 5), 'command_length 65537 drops the link');
$c = $smsc->accept_bound(10);
ok($c, 'and binds again');

# A deliver_sm whose sm_length runs past the end does not unpack.
my $body = RawSmsc::deliver_body(sm => 'abc');
substr($body, -4, 1) = chr(200);
$smsc->send_pdu($c, DELIVER_SM, 0, 47, $body);
ok($smsc->closed($c, 5), 'a PDU that does not unpack drops the link');
ok($gw->wait_log(qr/malformed PDU cmd=0x00000005 seq=47/, 5), 'logged');
$c = $smsc->accept_bound(10);
ok($c, 'and binds again');

# A bad UDH (length past the end) is refused for good, link kept.
$smsc->send_pdu($c, DELIVER_SM, 0, 48,
    RawSmsc::deliver_body(esm => 0x40, sm => "\x09\x00\x03\x01"));
@p = $smsc->expect($c, DELIVER_SM_RESP, 5);
is($p[2], 48, 'a text with a broken UDH is answered');
is($p[1], 0x65, 'with ESME_RX_P_APPN (permanent)');
# Odd-length UCS-2.
$smsc->send_pdu($c, DELIVER_SM, 0, 49,
    RawSmsc::deliver_body(dcs => 8, sm => "\x67\xe5\x8b"));
@p = $smsc->expect($c, DELIVER_SM_RESP, 5);
is($p[1], 0x65, 'odd-length UCS-2 refused for good');
ok($gw->wait_log(qr/odd/i, 5), 'with a clear reason in the log');

ok($gw->alive, 'smsgwd is still running');
is($gw->stop('TERM', 15), 0, 'and stops cleanly');
unlike($gw->log_text, qr/AddressSanitizer|runtime error|LeakSanitizer/,
    'no sanitizer report');
done_testing;
