#!/usr/bin/env perl
# Interop with several carriers (issue 12): Perl's Net::SMPP (Debian
# libnet-smpp-perl) plays one carrier's SMSC, link "ns", next to an
# smsc-sim link "sim". Texts come in on each and their replies go out on
# each; notifications go by the routes file; a receipt from Net::SMPP for
# an SMSC id that smsc-sim also handed out updates the part on "ns" only;
# at SIGTERM smsgwd unbinds from both.
use strict;
use warnings;
use utf8;
use Encode qw(decode encode);
use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Select;
use Net::SMPP;
use Carriers;
use SmsgwdTest;
use Test::More;

binmode STDOUT, ':utf8';
binmode STDERR, ':utf8';

my $port = free_port();
my $listener = Net::SMPP->new_listen('127.0.0.1', port => $port,
    async => 1, smpp_version => 0x34) or die "listen: $!";
my $sim = start_sim();
my $gw = start_gw(
    links => [ { name => 'sim', port => $sim->port },
               { name => 'ns', port => $port, system_id => 'interop',
                 password => 'pw1234', source_addr => '10655000' } ],
    routes => "139 ns sim\n* sim ns\n");

ok(IO::Select->new($listener)->can_read(60), 'smsgwd connects to Net::SMPP');
my $smsc = $listener->accept or die "accept: $!";
my $pdu = $smsc->read_pdu;
is($pdu->{cmd}, 0x00000009, 'bind_transceiver');
is($pdu->{system_id}, 'interop', "the ns link's system_id");
is($pdu->{password}, 'pw1234', "the ns link's password");
$smsc->bind_transceiver_resp(seq => $pdu->{seq}, system_id => 'netsmpp');
my $b = $sim->wait_type('bind');
is($b && $b->{status}, 'ESME_ROK', 'and binds smsc-sim');

# Reads PDUs until a submit_sm and answers it with the next message id
# (a0000000, a0000001, ...: the ids smsc-sim hands out too); answers
# enquire_link and notes deliver_sm_resp on the way.
my $msgid = 0xA0000000;
my @resps;
sub next_submit {
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
            $p->{given_id} = sprintf '%x', $msgid++;
            $smsc->submit_sm_resp(seq => $p->{seq}, message_id => $p->{given_id});
            return $p;
        }
    }
    return undef;
}
sub ucs2 { encode('UCS-2BE', $_[0]) }
sub text_of { my $p = shift; decode($p->{data_coding} == 8 ? 'UCS-2BE' : 'latin1',
    $p->{short_message}) }
# Waits (bounded) for smsgwd's deliver_sm_resp to what we sent.
sub wait_resps {
    my ($n) = @_;
    my $sel = IO::Select->new($smsc);
    while (@resps < $n && $sel->can_read(60)) {
        my $p = $smsc->read_pdu or last;
        push @resps, $p->{status} if $p->{cmd} == 0x80000005;
        $smsc->enquire_link_resp(seq => $p->{seq}) if $p->{cmd} == 0x15;
    }
    return @resps >= $n;
}

my $hint = template('zh', 'unknown.hint');

# A 139 text in on smsc-sim: the routes say ns, but the reply goes back on
# the link the text came in on.
$sim->send_mo('13900139001', '你好');
my $m = $sim->wait_event(sub { $_[0]{event} eq 'message' && $_[0]{dst} eq '13900139001' });
ok($m, 'a text in on smsc-sim: the reply goes out on smsc-sim');
is($m && $m->{text}, $hint, 'the reply');
is($m && $m->{src}, '10659000', "from the sim link's short code");
my ($simsub) = grep { $_->{status} eq 'ESME_ROK' } $sim->events('submit_sm');

# A 137 text in on Net::SMPP: the routes say sim; the reply goes back on ns.
$smsc->deliver_sm(source_addr_ton => 1, source_addr_npi => 1,
    source_addr => '8613700137002', destination_addr => '10655000',
    data_coding => 8, short_message => ucs2('你好'));
my $s = next_submit();
ok($s, 'a text in on Net::SMPP: the reply goes out on Net::SMPP');
is($s && text_of($s), $hint, 'the reply, in UCS-2');
is($s && $s->{destination_addr}, '8613700137002', 'to the sender');
is($s && $s->{source_addr}, '10655000', "from the ns link's short code");
ok(wait_resps(1) && $resps[0] == 0, 'deliver_sm_resp ESME_ROK');
is(scalar(grep { $_->{dst} =~ /137001370/ } $sim->events('message')), 0,
    'not sent on smsc-sim');

# Notifications by the routes file.
queue_notices($gw, '13900139003', '13700137004');
my $n1 = next_submit();
is($n1 && $n1->{destination_addr}, intl('13900139003'), 'the 139 notification goes to Net::SMPP');
like($n1 ? text_of($n1) : '', qr/S13900139003/, 'with its tracking number');
ok($sim->wait_event(sub { $_[0]{event} eq 'message' && $_[0]{dst} eq intl('13700137004') }),
    'the 137 notification goes to smsc-sim');
is(scalar(received_by($sim, intl('13900139003'))), 0, 'the 139 one not on smsc-sim');

# The same SMSC id on both links: Net::SMPP sends a receipt for its first
# id, which is also the id smsc-sim gave the first reply (no --dlr there).
my $same = $s ? $s->{given_id} : 'none';
is($simsub && $simsub->{message_id}, $same, "both SMSCs handed out $same");
$smsc->deliver_sm(source_addr_ton => 1, source_addr_npi => 1,
    source_addr => '8613700137002', destination_addr => '10655000',
    esm_class => 0x04, data_coding => 0,
    short_message => "id:$same sub:001 dlvrd:001 submit date:2612041200 "
        . "done date:2612041201 stat:DELIVRD err:000 text:x");
ok(wait_resps(2) && $resps[1] == 0, 'the receipt is acknowledged');
my $parts;
ok(wait_until(sub {
    $parts = sql($gw, "select link || ' ' || state from outbox_parts where"
        . " smsc_id = '$same' order by link");
    $parts eq "ns delivered\nsim submitted" }),
    "Net::SMPP's receipt delivered the part on ns, not the one on sim")
    or diag "$parts\n" . $gw->log_text;
ok(wait_until(sub { sql($gw, "select state from messages where class = 'reply'"
    . " and msisdn = '8613700137002'") eq 'delivered' }),
    'the reply sent on ns is delivered');

# Graceful stop: smsgwd unbinds from both.
kill 'TERM', $gw->pid;
my $sel = IO::Select->new($smsc);
my $u;
while (!$u && $sel->can_read(60)) {
    my $p = $smsc->read_pdu or last;
    $u = $p if $p->{cmd} == 0x00000006;
    $smsc->enquire_link_resp(seq => $p->{seq}) if $p->{cmd} == 0x15;
}
ok($u, 'smsgwd unbinds from Net::SMPP');
$smsc->unbind_resp(seq => $u->{seq}) if $u;
ok($sim->wait_type('unbind'), 'and from smsc-sim');
is($gw->stop('TERM'), 0, 'and exits 0');
unlike($gw->log_text, qr/AddressSanitizer|runtime error/, 'no sanitizer report');
$sim->stop('TERM');
done_testing;
