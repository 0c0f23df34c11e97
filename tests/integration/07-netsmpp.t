#!/usr/bin/env perl
# Interop with an SMPP implementation we did not write: Perl's Net::SMPP
# (Debian libnet-smpp-perl) plays the SMSC. smsgwd binds to it, and texts go
# both ways in UCS-2, concatenated with a UDH, with SAR TLVs and in a
# message_payload; the SMSC's unbind is answered and smsgwd binds again.
use strict;
use warnings;
use utf8;
use Encode qw(decode encode);
use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Select;
use Net::SMPP;
use SmsgwdTest;
use Test::More;

my $port = free_port();
my $listener = Net::SMPP->new_listen('127.0.0.1', port => $port,
    async => 1, smpp_version => 0x34) or die "listen: $!";
my $gw = start_gw(port => $port, smpp => { system_id => 'interop',
    password => 'pw1234', system_type => 'IDCARD' });

ok(IO::Select->new($listener)->can_read(60), 'smsgwd connects');
my $smsc = $listener->accept or die "accept: $!";
my $pdu = $smsc->read_pdu;
is($pdu->{cmd}, 0x00000009, 'bind_transceiver');
is($pdu->{system_id}, 'interop', 'system_id from the config');
is($pdu->{password}, 'pw1234', 'password from the config');
is($pdu->{system_type}, 'IDCARD', 'system_type from the config');
is($pdu->{interface_version}, 0x34, 'SMPP 3.4');
$smsc->bind_transceiver_resp(seq => $pdu->{seq}, system_id => 'netsmpp');

# Reads PDUs until a submit_sm; acknowledges deliver_sm_resp on the way and
# answers enquire_link. Returns the submit_sm (already answered).
my $msgid = 0;
my @resps;
sub next_submit {
    my ($want_resp_status) = @_;
    my $sel = IO::Select->new($smsc);
    while ($sel->can_read(60)) {
        my $p = $smsc->read_pdu or return undef;
        if ($p->{cmd} == 0x80000005) {
            push @resps, $p->{status};
            next;
        }
        if ($p->{cmd} == 0x15) {
            $smsc->enquire_link_resp(seq => $p->{seq});
            next;
        }
        if ($p->{cmd} == 0x04) {
            $smsc->submit_sm_resp(seq => $p->{seq},
                message_id => sprintf('ns%04d', ++$msgid));
            return $p;
        }
    }
    return undef;
}

sub ucs2 { encode('UCS-2BE', $_[0]) }
sub text_of { my $p = shift; decode($p->{data_coding} == 8 ? 'UCS-2BE' : 'latin1',
    $p->{short_message}) }
sub strip_udh { my $sm = shift; substr($sm, 1 + ord(substr($sm, 0, 1))) }

# 1. A UCS-2 text.
$smsc->deliver_sm(source_addr_ton => 1, source_addr_npi => 1,
    source_addr => '8613800138000', destination_addr => '10659000',
    data_coding => 8, short_message => ucs2('你好'));
my $s = next_submit();
ok($s, 'a reply to a UCS-2 text');
is($s->{data_coding}, 8, 'in UCS-2');
is(text_of($s), template('zh', 'unknown.hint'), 'text intact both ways');
is($s->{destination_addr}, '8613800138000', 'to the sender');
is($s->{dest_addr_ton}, 1, 'with the TON it came with');
is($s->{source_addr}, '10659000', 'from the short code');
is($resps[0], 0, 'deliver_sm_resp ESME_ROK');

# 2. "帮助" in two UDH parts sent in reverse order; the help reply is long
# enough to leave in two UDH parts itself.
my @sm = (ucs2('帮'), ucs2('助'));
for my $i (reverse 0 .. 1) {
    $smsc->deliver_sm(source_addr => '13900139000', destination_addr => '10659000',
        esm_class => 0x40, data_coding => 8,
        short_message => pack('C6', 5, 0, 3, 0x2a, 2, $i + 1) . $sm[$i]);
}
my @parts = (next_submit(), next_submit());
ok(@parts == 2 && $parts[1], 'the reply comes in 2 parts');
my %by;
for my $p (@parts) {
    is($p->{esm_class} & 0x40, 0x40, 'part carries a UDH');
    my ($udhl, $iei, $iel, $ref, $tot, $seq) = unpack 'C6', $p->{short_message};
    is($tot, 2, 'of 2 parts');
    $by{$seq} = decode('UCS-2BE', strip_udh($p->{short_message}));
}
is($by{1} . $by{2}, template('zh', 'help.list'), 'reassembled in and out');
is(length(ucs2($by{1})), 134, 'first part is 67 UCS-2 units');

# 3. SAR TLVs.
for my $i (0 .. 1) {
    $smsc->deliver_sm(source_addr => '13700137000', destination_addr => '10659000',
        data_coding => 0, short_message => (qw(HE LP))[$i],
        sar_msg_ref_num => pack('n', 777), sar_total_segments => pack('C', 2),
        sar_segment_seqnum => pack('C', $i + 1));
}
my $help_en = template('en', 'help.list');
my $want = length($help_en) <= 160 ? 1 : int((length($help_en) + 152) / 153);
my $joined = '';
for (1 .. $want) {
    $s = next_submit();
    $joined .= $s->{esm_class} & 0x40 ? strip_udh($s->{short_message}) : $s->{short_message};
}
is($joined, $help_en, 'SAR parts joined: HELP answered in English');

# 4. message_payload.
$smsc->deliver_sm(source_addr => '13600136000', destination_addr => '10659000',
    data_coding => 8, short_message => '', message_payload => ucs2('挂失'));
$s = next_submit();
is(text_of($s), template('zh', 'report_loss.missing'), 'message_payload text');

# 5. The SMSC unbinds: smsgwd answers and binds again.
my $ur = $smsc->unbind(async => 0);   # waits for the response
ok($ur && $ur->{cmd} == 0x80000006, 'unbind answered with unbind_resp')
    or diag $gw->log_text;
is($ur && $ur->{status}, 0, 'ESME_ROK');
ok(IO::Select->new($listener)->can_read(60), 'smsgwd reconnects');
my $smsc2 = $listener->accept;
$pdu = $smsc2->read_pdu;
is($pdu->{cmd}, 0x00000009, 'and binds again');
$smsc2->bind_transceiver_resp(seq => $pdu->{seq}, system_id => 'netsmpp');

# Graceful stop: smsgwd unbinds.
kill 'TERM', $gw->pid;
$pdu = $smsc2->read_pdu;
is($pdu && $pdu->{cmd}, 0x00000006, 'smsgwd unbinds on SIGTERM');
$smsc2->unbind_resp(seq => $pdu->{seq}) if $pdu;
is($gw->stop('TERM', 60), 0, 'and exits 0');
unlike($gw->log_text, qr/AddressSanitizer|runtime error/, 'no sanitizer report');
done_testing;
