#!/usr/bin/env perl
# A CMPP decoder we did not write (issue 14): tshark captures a CMPP 3.0
# session between smsgwd and smsc-sim on loopback (CONNECT, a citizen's
# UCS-2 text in as DELIVER, its long reply out as a two-part UCS-2 SUBMIT
# with a UDH, the status reports, ACTIVE_TEST both ways, TERMINATE), and
# Wireshark's CMPP dissector must decode every frame, with no malformed
# packet and no expert error, and show the addresses and text we sent.
# tshark missing or unable to capture fails the test: it never passes without it.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Encode qw(decode);
use POSIX qw(:sys_wait_h _exit);
use SmsgwdTest;
use Test::More;
use Time::HiRes qw(time sleep);

binmode STDOUT, ':utf8';
binmode STDERR, ':utf8';

my ($SP, $SECRET, $CODE) = ('901234', 'cmpp-Secret1', '1065730000');
my $CITIZEN = '13800138000';
my $dir = tmpdir();
my $port = free_port();
my $pcap = "$dir/cmpp.pcap";

# ---- tshark, our child: stopped by its PID at the end ------------------------

my ($tshark_pid, $tshark_status);
END {
    my $rc = $?;
    if ($tshark_pid && !defined $tshark_status
        && waitpid($tshark_pid, WNOHANG) == 0) {
        kill 'KILL', $tshark_pid;
        waitpid $tshark_pid, 0;
    }
    $? = $rc;
}

sub start_tshark {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null' or _exit(126);
        open STDOUT, '>', "$dir/tshark.out" or _exit(126);
        open STDERR, '>', "$dir/tshark.err" or _exit(126);
        exec 'tshark', '-n', '-i', 'lo', '-f', "tcp port $port", '-w', $pcap
            or _exit(127);
    }
    return $pid;
}

# Exited? (reaps it; its wait status in $tshark_status)
sub tshark_gone {
    return 1 if defined $tshark_status;
    if (waitpid($tshark_pid, WNOHANG) == $tshark_pid) {
        $tshark_status = $?;
        return 1;
    }
    return 0;
}

$tshark_pid = start_tshark();
my $capturing = wait_until(sub {
    slurp("$dir/tshark.err") =~ /Capturing on 'Loopback: lo'/ || tshark_gone() });
unless ($capturing && !tshark_gone()) {
    fail('tshark captures on lo');
    diag slurp("$dir/tshark.err");
    done_testing;
    exit 1;
}
pass("tshark captures on lo, tcp port $port");

# ---- the session --------------------------------------------------------------

my $sim = start_sim(dir => $dir, args => ['--listen', "127.0.0.1:$port",
    '--protocol', 'cmpp30', '--system-id', $SP, '--password', $SECRET,
    '--short-code', $CODE, '--dlr', '--enquire-link', '1']);
is($sim->port, $port, 'smsc-sim (an ISMG, CMPP 3.0) on the captured port');
my $gw = start_gw(dir => $dir, links => [ { name => 'mobile',
    protocol => 'cmpp30', port => $port, system_id => $SP,
    password => $SECRET, source_addr => $CODE, service_id => 'IDCARD',
    active_test_s => 1 } ]);

my $bind = $sim->wait_type('bind');
is($bind && $bind->{status}, 'ESME_ROK', 'smsgwd CONNECTs') or diag $gw->log_text;

# "帮助" in: the Chinese help text out, longer than one UCS-2 part.
my $help = template('zh', 'help.list');
ok(length $help > 70, 'the zh help text needs two UCS-2 parts') or diag length $help;
$sim->send_mo($CITIZEN, '帮助');
my $reply = $sim->wait_event(sub { $_[0]{event} eq 'message' && $_[0]{dst} eq $CITIZEN });
ok($reply, 'the reply reaches the sim') or diag $gw->log_text;
is($reply && $reply->{text}, $help, 'the zh help text');
is($reply && $reply->{parts}, 2, 'in two parts');
my @subs = grep { $_->{dst} eq $CITIZEN && $_->{status} eq 'ESME_ROK' }
    $sim->events('submit_sm');
is(scalar @subs, 2, 'two SUBMITs accepted');

# The status reports (one a part) acknowledged; the reply delivered.
my @acks;
ok(wait_until(sub {
    @acks = grep { $_->{kind} eq 'receipt' } $sim->events('deliver_sm_resp');
    @acks >= 2 }), 'both status reports acknowledged') or diag explain [$sim->events];
ok(wait_until(sub { $gw->log_text =~ /receipt .*part=2 .*stat=DELIVRD/s
    && $gw->log_text =~ /receipt .*part=1 .*stat=DELIVRD/ }),
    'smsgwd logs both receipts') or diag $gw->log_text;

# ACTIVE_TEST both ways (the sim's every second, smsgwd's after 1 s idle).
ok($sim->wait_type('enquire_link'), 'smsgwd sent an ACTIVE_TEST');
ok($sim->wait_type('enquire_link_resp'), 'smsgwd answered the ISMG\'s ACTIVE_TEST');

is($gw->stop('TERM'), 0, 'smsgwd stops cleanly') or diag $gw->log_text;
ok($sim->wait_type('unbind'), 'with a TERMINATE');
unlike($gw->log_text, qr/AddressSanitizer|runtime error/, 'no sanitizer report');

# ---- what tshark saw -----------------------------------------------------------

# tshark -r on the capture, the port decoded as CMPP, with ARGS; its
# output (its stderr, the "running as root" notice, dropped).
sub tshark_read {
    my (@args) = @_;
    my $pid = open(my $p, '-|') // die "fork: $!";
    if ($pid == 0) {
        open STDERR, '>', '/dev/null' or _exit(126);
        exec 'tshark', '-n', '-r', $pcap, '-d', "tcp.port==$port,cmpp", @args
            or _exit(127);
    }
    my $x = do { local $/; <$p> } // '';
    close $p;
    return $x;
}

sub pdml { tshark_read('-T', 'pdml') }

sub unxml {
    my ($s) = @_;
    $s =~ s/&lt;/</g; $s =~ s/&gt;/>/g; $s =~ s/&quot;/"/g;
    $s =~ s/&apos;/'/g; $s =~ s/&amp;/&/g;
    return $s;
}

# One <field .../> or <field ...>: its attributes.
sub attrs {
    my ($tag) = @_;
    my %a;
    $a{$1} = unxml($2) while $tag =~ /\s([\w.]+)="([^"]*)"/g;
    return \%a;
}

# The packets: { num, srcport, tcplen, retrans, malformed, errors => [..],
# cmpp => [ { pos, size, f => { name => [attrs, ...] } } ] }.
sub packets {
    my ($x) = @_;
    my @pk;
    for my $p (split /<packet>/, $x) {
        next unless $p =~ /<proto name="frame"/;
        my %k = (cmpp => [], errors => []);
        ($k{num}) = $p =~ /<field name="frame.number"[^>]*show="(\d+)"/;
        ($k{srcport}) = $p =~ /<field name="tcp.srcport"[^>]*show="(\d+)"/;
        ($k{tcplen}) = $p =~ /<field name="tcp.len"[^>]*show="(\d+)"/;
        $k{retrans} = $p =~ /name="tcp.analysis.(?:retransmission|fast_retransmission|spurious_retransmission)"/;
        $k{malformed} = $p =~ /name="_ws.malformed/;
        push @{ $k{errors} }, unxml($1)
            while $p =~ /showname="(Expert Info \(Error\/[^"]*)"/g;
        push @{ $k{errors} }, "severity $1"
            while $p =~ /name="_ws.expert.severity"[^>]*show="(\d+)"/g
                && $1 >= 8388608;
        while ($p =~ /<proto name="cmpp"([^>]*)>(.*?)<\/proto>/gs) {
            my ($head, $body) = ($1, $2);
            my $h = attrs($head);
            my %f;
            while ($body =~ /<field(\s[^>]*?)\/?>/g) {
                my $a = attrs($1);
                push @{ $f{$a->{name}} }, $a if defined $a->{name};
            }
            push @{ $k{cmpp} }, { pos => $h->{pos}, size => $h->{size}, f => \%f };
        }
        push @pk, \%k;
    }
    return @pk;
}

# TERMINATE_RESP in the file: everything we want has been written.
ok(wait_until(sub { pdml() =~ /CMPP_TERMINATE_RESP/ }),
    'the capture holds the TERMINATE_RESP');
kill 'INT', $tshark_pid;
ok(wait_until(\&tshark_gone), 'tshark stops on SIGINT');
$sim->stop('TERM');

my $x = pdml();
my @pk = packets($x);
ok(@pk > 10, scalar(@pk) . ' frames captured');

my ($bytes, $pdus) = (0, 0);
my @malformed = map { $_->{num} } grep { $_->{malformed} } @pk;
my @errors = map { my $p = $_; map { "frame $p->{num}: $_" } @{ $p->{errors} } } @pk;
is_deeply(\@malformed, [], 'no malformed packet');
is_deeply(\@errors, [], 'no expert error');

# Every payload byte on the port is in a CMPP message tshark decoded.
my $payload = 0;
for my $p (@pk) {
    $payload += $p->{tcplen} // 0 unless $p->{retrans};
    for my $m (@{ $p->{cmpp} }) {
        $pdus++;
        $bytes += $m->{size};
    }
}
ok($pdus > 0, "$pdus CMPP messages decoded");
is($bytes, $payload, 'every TCP payload byte belongs to a decoded CMPP message');

# Each message: command, direction, and its fields.
sub f1 { my ($m, $n, $i) = @_; my $a = $m->{f}{$n} or return undef; $a->[$i // 0] }
sub show { my $a = f1(@_); $a ? $a->{show} : undef }
sub hexval { my $a = f1(@_); $a ? $a->{value} : undef }

my @msgs;
for my $p (@pk) {
    for my $m (@{ $p->{cmpp} }) {
        my $c = f1($m, 'cmpp.Command_Id');
        my ($name) = ($c && $c->{showname} // '') =~ /Command Id: (\w+)/;
        $m->{cmd} = $name // '?';
        $m->{from} = ($p->{srcport} // 0) == $port ? 'ismg' : 'sp';
        $m->{frame} = $p->{num};
        $m->{seq} = show($m, 'cmpp.Sequence_Id');
        push @msgs, $m;
    }
}
my %by;
push @{ $by{$_->{cmd}} }, $_ for @msgs;
for my $c (qw(CMPP_CONNECT CMPP_CONNECT_RESP CMPP_SUBMIT CMPP_SUBMIT_RESP
    CMPP_DELIVER CMPP_DELIVER_RESP CMPP_ACTIVE_TEST CMPP_ACTIVE_TEST_RESP
    CMPP_TERMINATE CMPP_TERMINATE_RESP)) {
    ok($by{$c}, "$c decoded") or diag "commands: @{[ sort keys %by ]}";
}
is_deeply([grep { !/^CMPP_(CONNECT|SUBMIT|DELIVER|ACTIVE_TEST|TERMINATE)(_RESP)?$/ }
    sort keys %by], [], 'no other command');

# Total_Length = the message tshark took, and = the 3.0 layout's length:
# fixed-size messages by the table, SUBMIT and DELIVER up to their last
# field (LinkID), so no octet is missing or left over.
my %fixed = (CMPP_CONNECT => 39, CMPP_CONNECT_RESP => 33,
    CMPP_SUBMIT_RESP => 24, CMPP_DELIVER_RESP => 24, CMPP_ACTIVE_TEST => 12,
    CMPP_ACTIVE_TEST_RESP => 13, CMPP_TERMINATE => 12, CMPP_TERMINATE_RESP => 12);
my @badlen;
for my $m (@msgs) {
    my $len = show($m, 'cmpp.Total_Length') // -1;
    push @badlen, "frame $m->{frame} $m->{cmd}: Total_Length $len, size $m->{size}"
        if $len != $m->{size};
    if (exists $fixed{$m->{cmd}}) {
        push @badlen, "frame $m->{frame} $m->{cmd}: $len, not $fixed{$m->{cmd}}"
            if $len != $fixed{$m->{cmd}};
    } else {
        my $l = f1($m, 'cmpp.LinkID');
        my $end = $l ? $l->{pos} + $l->{size} - $m->{pos} : -1;
        push @badlen, "frame $m->{frame} $m->{cmd}: LinkID ends at $end of $len"
            if $end != $len;
    }
}
is_deeply(\@badlen, [], 'every Total_Length matches the CMPP 3.0 layout');

# Every response answers a request of its command from the other side.
my @orphans;
for my $m (@msgs) {
    next unless $m->{cmd} =~ /^(.*)_RESP$/;
    my $req = $1;
    push @orphans, "frame $m->{frame} $m->{cmd} seq $m->{seq}"
        unless grep { $_->{from} ne $m->{from} && $_->{seq} == $m->{seq} }
            @{ $by{$req} // [] };
}
is_deeply(\@orphans, [], 'each response carries its request\'s Sequence_Id');

# CONNECT.
my ($conn) = @{ $by{CMPP_CONNECT} // [{}] };
is($conn->{from}, 'sp', 'CONNECT from smsgwd');
is(show($conn, 'cmpp.connect.Source_Addr'), $SP, 'Source_Addr is the SP_Id');
is(show($conn, 'cmpp.Version'), '03.00', 'Version 3.0');
like(show($conn, 'cmpp.connect.Timestamp') // '', qr/^\d\d\/\d\d \d\d:\d\d:\d\d$/,
    'a Timestamp MMDDHHMMSS');
my ($cr) = @{ $by{CMPP_CONNECT_RESP} // [{}] };
is(show($cr, 'cmpp.connect_resp.Status'), 0, 'CONNECT_RESP Status 0');

# The MO text: DELIVER, UCS-2, from the citizen to our short code.
my @mo = grep { $_->{from} eq 'ismg' && (show($_, 'cmpp.deliver.Registered_Delivery') // '') eq '0' }
    @{ $by{CMPP_DELIVER} // [] };
is(scalar @mo, 1, 'one MO DELIVER');
my $mo = $mo[0] // { f => {} };
is(show($mo, 'cmpp.deliver.Src_terminal_Id'), $CITIZEN, 'MO Src_terminal_Id: the citizen');
is(show($mo, 'cmpp.deliver.Dest_Id'), $CODE, 'MO Dest_Id: our short code');
is(show($mo, 'cmpp.Msg_Fmt'), 8, 'MO Msg_Fmt 8 (UCS-2)');
is(decode('UTF-16BE', pack('H*', hexval($mo, 'cmpp.Msg_Content') // '')), '帮助',
    'MO Msg_Content: 帮助');

# The reply: two SUBMITs from smsgwd, UCS-2 with a UDH.
my @sm = sort { show($a, 'cmpp.submit.Pk_number') <=> show($b, 'cmpp.submit.Pk_number') }
    @{ $by{CMPP_SUBMIT} // [] };
is(scalar @sm, 2, 'two SUBMITs');
my ($text, %refs) = ('');
for my $i (0 .. $#sm) {
    my $s = $sm[$i];
    my $n = $i + 1;
    is($s->{from}, 'sp', "SUBMIT $n from smsgwd");
    is(show($s, 'cmpp.Dest_terminal_Id'), $CITIZEN, "SUBMIT $n Dest_terminal_Id: the citizen");
    is(show($s, 'cmpp.submit.DestUsr_tl'), 1, "SUBMIT $n: one destination");
    is(show($s, 'cmpp.submit.Src_Id'), $CODE, "SUBMIT $n Src_Id: our short code");
    is(show($s, 'cmpp.submit.Msg_src'), $SP, "SUBMIT $n Msg_src: the SP_Id");
    is(show($s, 'cmpp.Servicd_Id'), 'IDCARD', "SUBMIT $n Service_Id");
    is(show($s, 'cmpp.submit.FeeType'), '01', "SUBMIT $n FeeType 01 (free)");
    is(show($s, 'cmpp.submit.Pk_total'), 2, "SUBMIT $n Pk_total 2");
    is(show($s, 'cmpp.submit.Pk_number'), $n, "SUBMIT $n Pk_number $n");
    is(show($s, 'cmpp.submit.Registered_Delivery'), 1, "SUBMIT $n asks for a status report");
    is(show($s, 'cmpp.TP_udhi'), 1, "SUBMIT $n TP_udhi 1");
    is(show($s, 'cmpp.Msg_Fmt'), 8, "SUBMIT $n Msg_Fmt 8 (UCS-2)");
    my $octets = pack('H*', hexval($s, 'cmpp.Msg_Content') // '');
    is(length $octets, show($s, 'cmpp.Msg_Length'), "SUBMIT $n Msg_Length");
    ok(length $octets <= 140, "SUBMIT $n fits one SMS");
    # The UDH: 05 00 03 ref total seq.
    my ($udhl, $iei, $iel, $ref, $total, $seq) = unpack 'C6', $octets;
    is("$udhl $iei $iel", '5 0 3', "SUBMIT $n: a 6-octet UDH, concatenation IE");
    is("$total/$seq", "2/$n", "SUBMIT $n: UDH part $n of 2");
    $refs{$ref // ''} = 1;
    my $ucs = substr($octets, 6);
    is(length($ucs) % 2, 0, "SUBMIT $n: whole UCS-2 characters");
    my $part = decode('UTF-16BE', $ucs);
    my ($ev) = grep { $_->{part} == $n } @subs;
    is($part, $ev && $ev->{text}, "SUBMIT $n: the text tshark shows is the part the sim decoded");
    $text .= $part;
}
is(scalar keys %refs, 1, 'one concatenation reference');
is($text, $help, 'the parts tshark shows make the reply text');
is($text, $reply && $reply->{text}, 'and the text the sim reported');

# SUBMIT_RESP: Result 0, the sim's Msg_Ids.
my @sr = @{ $by{CMPP_SUBMIT_RESP} // [] };
is_deeply([sort map { show($_, 'cmpp.submit_resp.Result') } @sr], [0, 0],
    'SUBMIT_RESP Result 0, twice');
my %sids = map { hexval($_, 'cmpp.Msg_Id') => 1 } @sr;
is_deeply([sort keys %sids], [sort map { $_->{message_id} } @subs],
    'SUBMIT_RESP Msg_Ids are the ones the sim handed out');

# The status reports: DELIVER with Registered_Delivery 1, for those Msg_Ids.
my @rep = grep { (show($_, 'cmpp.deliver.Registered_Delivery') // '') eq '1' }
    @{ $by{CMPP_DELIVER} // [] };
is(scalar @rep, 2, 'two status reports');
my %seen;
for my $r (@rep) {
    is($r->{from}, 'ismg', 'report from the ISMG');
    is(show($r, 'cmpp.deliver.Src_terminal_Id'), $CITIZEN, 'report Src_terminal_Id: the citizen');
    is(show($r, 'cmpp.deliver.Dest_Id'), $CODE, 'report Dest_Id: our short code');
    is(show($r, 'cmpp.Msg_Length'), 71, 'a 71-octet report');
    is(show($r, 'cmpp.deliver.Report.Status'), 'DELIVRD', 'Stat DELIVRD');
    # The report's Msg_Id is the second cmpp.Msg_Id (the first is the DELIVER's).
    my $rid = hexval($r, 'cmpp.Msg_Id', 1) // '';
    ok($sids{$rid}, "report for Msg_Id $rid, a SUBMIT_RESP's");
    $seen{$rid} = 1;
    is(show($r, 'cmpp.Dest_terminal_Id'), $CITIZEN, 'report Dest_terminal_Id: the citizen');
}
is(scalar keys %seen, 2, 'one report for each part');

# DELIVER_RESP: Result 0, each for its DELIVER's Msg_Id.
my @dr = @{ $by{CMPP_DELIVER_RESP} // [] };
is(scalar @dr, 3, 'three DELIVER_RESPs');
for my $d (@dr) {
    my ($req) = grep { $_->{seq} == $d->{seq} } @{ $by{CMPP_DELIVER} // [] };
    is($d->{from}, 'sp', 'DELIVER_RESP from smsgwd');
    is(show($d, 'cmpp.deliver_resp.Result'), 0, 'DELIVER_RESP Result 0');
    is(hexval($d, 'cmpp.Msg_Id'), $req && hexval($req, 'cmpp.Msg_Id'),
        'with the DELIVER\'s Msg_Id');
}

# ACTIVE_TEST both ways, each answered; TERMINATE from smsgwd.
for my $side (qw(sp ismg)) {
    my $other = $side eq 'sp' ? 'ismg' : 'sp';
    ok((grep { $_->{from} eq $side } @{ $by{CMPP_ACTIVE_TEST} // [] }),
        "ACTIVE_TEST from the $side");
    ok((grep { $_->{from} eq $other } @{ $by{CMPP_ACTIVE_TEST_RESP} // [] }),
        "ACTIVE_TEST_RESP from the $other");
}
is(join(',', map { $_->{from} } @{ $by{CMPP_TERMINATE} // [] }), 'sp',
    'TERMINATE from smsgwd');
is(join(',', map { $_->{from} } @{ $by{CMPP_TERMINATE_RESP} // [] }), 'ismg',
    'TERMINATE_RESP from the ISMG');

unless (Test::More->builder->is_passing) {
    diag tshark_read();
}
done_testing;
