#!/usr/bin/env perl
# Bad input from the SMSC: unknown commands get generic_nack, a frame split
# across TCP writes is reassembled, and a command_length below 16 or above
# 64 KiB drops the link (framing is lost), which is bound again. A whole
# frame that does not unpack keeps the link: a deliver_sm is refused for
# good (ESME_RX_P_APPN), another request gets generic_nack, a response is
# handled from its header; each is logged once and counted in /metrics.
# smsgwd never crashes (the sanitizers would say so).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use RawSmsc;
use SmsgwdTest;
use Encode qw(decode);
use HTTP::Tiny;
use Test::More;

use constant { GENERIC_NACK => 0x80000000, DELIVER_SM => 5,
    DELIVER_SM_RESP => 0x80000005, SUBMIT_SM => 4, ENQUIRE_LINK => 0x15,
    ENQUIRE_LINK_RESP => 0x80000015 };

my $dir = tmpdir();
my $token_file = "$dir/api.token";
spew($token_file, "it-malformed-token-0123456789abcdef\n");
chmod 0600, $token_file;
my $hport = free_port();
my $smsc = RawSmsc->new;
my $gw = start_gw(dir => $dir, port => $smsc->port,
    sections => { http => { listen => "127.0.0.1:$hport",
        token_file => $token_file } });
my $http = HTTP::Tiny->new(timeout => 60);
# One sample of GET /metrics, or undef.
sub metric {
    my ($series) = @_;
    my $r = $http->get("http://127.0.0.1:$hport/metrics");
    return undef unless $r->{success};
    return $r->{content} =~ /^\Q$series\E (\S+)$/m ? $1 : undef;
}

my $c = $smsc->accept_bound(60);
ok($c, 'smsgwd connects and binds');
ok($gw->wait_log(qr/binding -> bound/, 60), 'bound');

# Unknown commands: data_sm (not ours) and an id that does not exist.
$smsc->send_pdu($c, 0x00000103, 0, 41, "x\0" x 4);
my @p = $smsc->expect($c, GENERIC_NACK, 60);
is($p[2], 41, 'generic_nack for data_sm, same sequence');
is($p[1], 3, 'with ESME_RINVCMDID');
$smsc->send_pdu($c, 0x00001234, 0, 42);
@p = $smsc->expect($c, GENERIC_NACK, 60);
is($p[2], 42, 'generic_nack for an unknown command id');

# The SMSC's enquire_link is answered.
$smsc->send_pdu($c, ENQUIRE_LINK, 0, 43);
@p = $smsc->expect($c, ENQUIRE_LINK_RESP, 60);
is($p[2], 43, 'enquire_link answered');

# A deliver_sm written a few bytes at a time is still one text.
my $pdu = RawSmsc::pdu(DELIVER_SM, 0, 44, RawSmsc::deliver_body(sm => 'split'));
for my $i (0 .. length($pdu) - 1) {
    print $c substr($pdu, $i, 1);
}
@p = $smsc->expect($c, DELIVER_SM_RESP, 60);
is($p[2], 44, 'deliver_sm split over many writes is acknowledged');
is($p[1], 0, 'with ESME_ROK');
@p = $smsc->expect($c, SUBMIT_SM, 60);
my $s = RawSmsc::parse_submit($p[3]);
is(decode('UCS-2BE', $s->{sm}), template('zh', 'unknown.hint'), 'and answered');
$smsc->send_pdu($c, 0x80000004, 0, $p[2], "id1\0");

# command_length below 16: dropped and bound again.
print $c pack('NNNN', 8, DELIVER_SM, 0, 45);
ok($smsc->closed($c, 60), 'command_length 8 drops the link');
ok($gw->wait_log(qr/bad frame: command_length 8/, 60), 'and says why');
$c = $smsc->accept_bound(60);
ok($c, 'smsgwd binds again');

# command_length above 64 KiB.
print $c pack('NNNN', 65537, DELIVER_SM, 0, 46);
ok($smsc->closed($c, 60), 'command_length 65537 drops the link');
$c = $smsc->accept_bound(60);
ok($c, 'and binds again');

# A deliver_sm whose sm_length runs past the end never unpacks: refused
# for good from its header, and the link is kept.
my $body = RawSmsc::deliver_body(sm => 'abc');
substr($body, -4, 1) = chr(200);
$smsc->send_pdu($c, DELIVER_SM, 0, 47, $body);
@p = $smsc->expect($c, DELIVER_SM_RESP, 60);
is($p[2], 47, 'a deliver_sm with sm_length past the end is answered');
is($p[1], 0x65, 'with ESME_RX_P_APPN (permanent)');
ok($gw->wait_log(qr/undecodable deliver_sm \(0x00000005\) seq=47 len=\d+, refused for good: deliver_sm does not unpack/, 60),
    'logged with its sequence number and length');
# A TLV whose length runs past the end.
$smsc->send_pdu($c, DELIVER_SM, 0, 147,
    RawSmsc::deliver_body(sm => 'abc', tlvs => "\x04\x24\x00\x09ab"));
@p = $smsc->expect($c, DELIVER_SM_RESP, 60);
is($p[2], 147, 'a deliver_sm with a broken TLV is answered');
is($p[1], 0x65, 'with ESME_RX_P_APPN');
ok($gw->wait_log(qr/undecodable deliver_sm \(0x00000005\) seq=147 len=\d+, refused for good: .*runs past the end/, 60),
    'logged');
# Another request that does not unpack: enquire_link with a body.
$smsc->send_pdu($c, ENQUIRE_LINK, 0, 148, "junk");
@p = $smsc->expect($c, GENERIC_NACK, 60);
is($p[2], 148, 'an enquire_link with a body gets generic_nack');
is($p[1], 2, 'with ESME_RINVCMDLEN');
# The link is the same: a good text is still answered on it...
$smsc->send_pdu($c, DELIVER_SM, 0, 149, RawSmsc::deliver_body(sm => 'hello'));
@p = $smsc->expect($c, DELIVER_SM_RESP, 60);
is($p[2], 149, 'the link is kept: a good deliver_sm is acknowledged');
is($p[1], 0, 'with ESME_ROK');
@p = $smsc->expect($c, SUBMIT_SM, 60);
is(decode('UCS-2BE', RawSmsc::parse_submit($p[3])->{sm}),
    template('zh', 'unknown.hint'), 'and replied to (one part)');
# ...and a submit_sm_resp ESME_ROK whose message_id has no NUL is handled
# from its header: the reply is submitted (not sent again), link kept.
$smsc->send_pdu($c, 0x80000004, 0, $p[2], "x" x 70);
ok($gw->wait_log(qr/undecodable submit_sm_resp \(0x80000004\) seq=$p[2] len=86, handled from its header/, 60),
    'an undecodable submit_sm_resp is handled from its header');
ok(wait_until(sub { (metric('smsgwd_outbound_total{state="submitted"}') // 0) == 2 }, 60),
    'and its reply counts as submitted')
    or diag $http->get("http://127.0.0.1:$hport/metrics")->{content}, $gw->log_text;
# Bound three times (at start, after each bad command_length), no more.
is(scalar(() = $gw->log_text =~ /binding -> bound/g), 3, 'no rebind');
is(scalar(() = $gw->log_text =~ /dropped:/g), 2, 'no drop');
ok(!$smsc->connecting(0), 'no new connection');
is(metric('smsgwd_undecodable_pdus_total{command="deliver_sm"}'), 2,
    '/metrics counts the undecodable deliver_sm');
is(metric('smsgwd_undecodable_pdus_total{command="enquire_link"}'), 1,
    'and the enquire_link');
is(metric('smsgwd_undecodable_pdus_total{command="submit_sm_resp"}'), 1,
    'and the submit_sm_resp');
is(metric('smsgwd_inbound_refused_total'), 2,
    'the two deliver_sm count as refused texts');

# A bad UDH (length past the end) is refused for good, link kept.
$smsc->send_pdu($c, DELIVER_SM, 0, 48,
    RawSmsc::deliver_body(esm => 0x40, sm => "\x09\x00\x03\x01"));
@p = $smsc->expect($c, DELIVER_SM_RESP, 60);
is($p[2], 48, 'a text with a broken UDH is answered');
is($p[1], 0x65, 'with ESME_RX_P_APPN (permanent)');
# Odd-length UCS-2.
$smsc->send_pdu($c, DELIVER_SM, 0, 49,
    RawSmsc::deliver_body(dcs => 8, sm => "\x67\xe5\x8b"));
@p = $smsc->expect($c, DELIVER_SM_RESP, 60);
is($p[1], 0x65, 'odd-length UCS-2 refused for good');
ok($gw->wait_log(qr/odd/i, 60), 'with a clear reason in the log');

ok($gw->alive, 'smsgwd is still running');
is($gw->stop('TERM', 60), 0, 'and stops cleanly');
unlike($gw->log_text, qr/AddressSanitizer|runtime error|LeakSanitizer/,
    'no sanitizer report');
done_testing;
