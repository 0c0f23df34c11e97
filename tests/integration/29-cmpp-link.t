#!/usr/bin/env perl
# smsgwd's CMPP link (daemon/link/cmpp.c, issue 14) against smsc-sim as a
# China Mobile ISMG, for CMPP 3.0 and then 2.0: CONNECT with the shared
# secret, the citizen pipeline over CMPP (a UCS-2 query and its templated
# reply, a long reply in parts with a UDH, an ASCII text, GBK texts), status
# reports that deliver the parts under a 16-hex-digit Msg_Id, Result 8
# throttling that still delivers each reply exactly once, a wrong secret
# refused and retried, ACTIVE_TEST both ways, and SIGTERM -> TERMINATE.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Carriers qw(sql);
use IO::Select;
use IO::Socket::INET;
use RawCmpp;
use SmsgwdTest;
use Test::More;

binmode STDOUT, ':utf8';
binmode STDERR, ':utf8';

my ($SP, $SECRET) = ('901234', 'secretkey');
my $PHONE = '13800138000';
my $ID = '11010519491231002X';

sub sim_args { ('--system-id', $SP, '--password', $SECRET, @_) }

# A gateway with one CMPP link "mobile". The harness's link defaults hold
# enquire_link_s, an SMPP key a CMPP link refuses, so the config is
# written by it and that line taken out before smsgwd starts.
sub start_cmpp_gw {
    my (%o) = @_;
    my $dir = $o{dir} // tmpdir();
    my $link = { name => 'mobile', port => $o{port}, protocol => $o{proto},
        system_id => $SP, password => $o{password} // $SECRET,
        active_test_s => $o{active_test_s} // 180, service_id => 'IDCARD',
        %{ $o{link} // {} } };
    my ($conf, $db) = SmsgwdTest::write_conf(dir => $dir, links => [$link],
        sections => $o{sections});
    my $text = slurp($conf);
    $text =~ s/^enquire_link_s = .*\n//mg;
    spew($conf, $text);
    my $errfile = "$dir/smsgwd.log";
    my ($pid, $in, $out) = SmsgwdTest::spawn(
        [build_dir() . '/smsgwd', '-c', $conf], $errfile);
    close $out;
    return bless { pid => $pid, in => $in, errfile => $errfile,
        conf => $conf, dir => $dir, db => $db }, 'SmsgwdTest::Proc';
}

sub import_case {
    my ($gw) = @_;
    my $dir = $gw->{dir};
    open my $csv, '>:encoding(UTF-8)', "$dir/cases.csv" or die;
    print $csv "receipt_no,id_number,name,msisdn,status,submitted_at,"
        . "courier,tracking_no,pickup_place,reason\n";
    print $csv "JX2026000123,$ID,张三,$PHONE,mailed,2026-01-05,EMS,"
        . "EA123456789CN,,\n";
    close $csv;
    my ($rc, $out, $err) = run_ctl($gw->{conf}, $dir, 'import-cases',
        "$dir/cases.csv");
    is($rc, 0, 'case imported') or diag "$out$err";
}

# Whole messages the sim received for a phone (national or 86 form).
sub to_phone {
    my ($sim, $phone) = @_;
    return grep { $_->{dst} =~ /\Q$phone\E$/ } $sim->events('message');
}

sub reply_to {
    my ($sim, $phone) = @_;
    return $sim->wait_event(sub { $_[0]{event} eq 'message'
        && $_[0]{dst} =~ /\Q$phone\E$/ });
}

my $mailed = template('zh', 'query.mailed', id_last4 => '****002X',
    courier => 'EMS', tracking_no => 'EA123456789CN');

for my $proto (qw(cmpp30 cmpp20)) {
    my $ver = $proto eq 'cmpp30' ? 0x30 : 0x20;

    # ---- the pipeline, status reports, ACTIVE_TEST, SIGTERM -------------
    {
        my $sim = start_sim(args => [sim_args('--protocol', $proto,
            '--dlr', '--enquire-link', '1')]);
        my $gw = start_cmpp_gw(proto => $proto, port => $sim->port,
            active_test_s => 2);
        my $b = $sim->wait_type('bind');
        is($b && $b->{status}, 'ESME_ROK', "$proto: CONNECT accepted");
        is($b && $b->{system_id}, $SP, "$proto: Source_Addr is the SP_Id");
        is($b && $b->{version}, $ver, "$proto: Version");
        ok($gw->wait_log(qr/cmpp link=mobile state binding -> bound/),
            "$proto: smsgwd logs the link bound") or diag $gw->log_text;
        import_case($gw);

        # A UCS-2 query: its templated reply, one message.
        $sim->send_mo($PHONE, '查询 JX2026000123');
        my $r = reply_to($sim, $PHONE);
        is($r && $r->{text}, $mailed, "$proto: the reply to a UCS-2 query");
        is($r && $r->{parts}, 1, "$proto: in one part");
        is($r && $r->{msg_fmt}, 8, "$proto: Msg_Fmt 8");
        my ($s) = grep { $_->{dst} =~ /$PHONE$/ } $sim->events('submit_sm');
        is($s && $s->{src}, '10659000', "$proto: Src_Id is the short code");
        is($s && $s->{msg_src}, $SP, "$proto: Msg_src is the SP_Id");
        is($s && $s->{service_id}, 'IDCARD', "$proto: Service_Id");
        is($s && $s->{fee_type}, '01', "$proto: FeeType 01 (free)");
        is($s && $s->{fee_code}, '000000', "$proto: FeeCode");
        is($s && $s->{registered_delivery}, 1, "$proto: a report asked for");

        # A long reply: parts with a UDH, Pk_total/Pk_number from it.
        my $p2 = '13900139001';
        $sim->send_mo($p2, 'BZ');
        $r = reply_to($sim, $p2);
        is($r && $r->{text}, template('zh', 'help.list'),
            "$proto: the long help reply, whole");
        ok($r && $r->{parts} >= 2, "$proto: in 2 or more parts");
        my @parts = grep { $_->{dst} =~ /$p2$/ } $sim->events('submit_sm');
        is(scalar(grep { $_->{tp_udhi} == 1 && $_->{pk_total} == @parts }
            @parts), scalar @parts, "$proto: each part with TP_udhi and "
            . "Pk_total") or diag explain \@parts;
        is(join(',', sort map { $_->{pk_number} } @parts),
            join(',', 1 .. @parts), "$proto: Pk_number 1..n");

        # ASCII: Msg_Fmt 0 both ways (the English help is over 140
        # octets: two parts of at most 134 behind the UDH).
        my $p3 = '13900139002';
        $sim->send_mo($p3, 'HELP');
        $r = reply_to($sim, $p3);
        is($r && $r->{text}, template('en', 'help.list'),
            "$proto: an ASCII text gets the English help");
        is($r && $r->{msg_fmt}, 0, "$proto: sent as Msg_Fmt 0 (ASCII)");
        @parts = grep { $_->{dst} =~ /$p3$/ } $sim->events('submit_sm');
        ok(@parts >= 2 && !grep({ $_->{msg_fmt} != 0 } @parts),
            "$proto: in ASCII parts") or diag explain \@parts;

        # Status reports: every part delivered, under its Msg_Id in hex.
        my $rows;
        ok(SmsgwdTest::wait_until(sub {
            $rows = sql($gw, "select count(*) from outbox_parts");
            my $ok = sql($gw, "select count(*) from outbox_parts where"
                . " state = 'delivered' and length(smsc_id) = 16 and"
                . " smsc_id not glob '*[^0-9a-f]*'");
            $rows > 0 && $ok == $rows }),
            "$proto: each part delivered by its status report")
            or diag sql($gw, "select * from outbox_parts") . "\n"
            . $gw->log_text;
        my %sub = map { $_->{message_id} => 1 } $sim->events('submit_sm');
        my @ids = split /\n/, sql($gw, "select smsc_id from outbox_parts");
        is(scalar(grep { $sub{$_} } @ids), scalar @ids,
            "$proto: the smsc ids are the ISMG's Msg_Ids");
        ok(SmsgwdTest::wait_until(sub {
            sql($gw, "select count(*) from messages where direction = 'out'"
                . " and state = 'delivered'") == 3 }),
            "$proto: the three replies delivered");

        # ACTIVE_TEST: the sim's (every second) answered; ours after 2 s
        # idle answered by the sim.
        ok($sim->wait_type('enquire_link_resp'),
            "$proto: the ISMG's ACTIVE_TEST answered");
        ok($sim->wait_type('enquire_link'),
            "$proto: smsgwd sends ACTIVE_TEST when idle");
        unlike($gw->log_text, qr/cmpp link=mobile dropped/,
            "$proto: the link never dropped");

        # SIGTERM: TERMINATE, then exit 0.
        my $st = $gw->stop('TERM');
        is($st, 0, "$proto: SIGTERM: exit 0") or diag $gw->log_text;
        ok($sim->wait_type('unbind'), "$proto: TERMINATE sent");
        like($gw->log_text, qr/cmpp link=mobile closed: terminated/,
            "$proto: TERMINATE answered");
        unlike($gw->log_text, qr/\Q$ID\E|张三/,
            "$proto: no ID number or name in the log");
        unlike($gw->log_text, qr/runtime error|AddressSanitizer/,
            "$proto: sanitizers quiet");
        $sim->stop('TERM');
    }

    # ---- GBK texts, Result 8 throttling -----------------------------------
    {
        my $sim = start_sim(args => [sim_args('--protocol', $proto,
            '--mo-gbk', '--throttle', '0.3')]);
        my $gw = start_cmpp_gw(proto => $proto, port => $sim->port);
        ok($sim->wait_type('bind'), "$proto/gbk: connected");
        import_case($gw);
        $sim->send_mo($PHONE, '查询 JX2026000123');
        # Two parts in GBK with a UDH: reassembled after the conversion.
        $sim->send_mo($PHONE, '查询 JX2026000123' . ("\x{3000}" x 80));
        my @phones = map { sprintf '1350013%04d', $_ } 1 .. 8;
        $sim->send_mo($_, '你好') for @phones;
        my $hint = template('zh', 'unknown.hint');
        for my $p (@phones) {
            my $r = reply_to($sim, $p);
            is($r && $r->{text}, $hint, "$proto/gbk: reply to $p");
        }
        my @q = (reply_to($sim, $PHONE), reply_to($sim, $PHONE));
        is(scalar(grep { $_ && $_->{text} eq $mailed } @q), 2,
            "$proto/gbk: both GBK queries answered (one of two parts)");
        my @mo = grep { $_->{parts} && $_->{parts} > 1 }
            $sim->events('mo_queued');
        ok(@mo, "$proto/gbk: the long one went in parts");
        my @throttled = grep { $_->{result} == 8 } $sim->events('submit_sm');
        ok(@throttled, "$proto/gbk: the ISMG answered Result 8")
            or diag explain [$sim->events('submit_sm')];
        ok($gw->wait_log(qr/link=mobile outcome status=CMPP_RESULT_8 \(will retry\)/),
            "$proto/gbk: Result 8 is a temporary outcome")
            or diag $gw->log_text;
        # Whatever was throttled went again: every reply exactly once.
        my $marker = '13600136000';
        $sim->send_mo($marker, 'BZ');
        ok(reply_to($sim, $marker), "$proto/gbk: a marker reply");
        is(scalar(to_phone($sim, $_)), 1, "$proto/gbk: $_ got one reply")
            for @phones;
        is(scalar(to_phone($sim, $PHONE)), 2,
            "$proto/gbk: the queries got one reply each");
        unlike($gw->log_text, qr/refused: /,
            "$proto/gbk: no DELIVER refused");
        is($gw->stop('TERM'), 0, "$proto/gbk: exit 0");
        $sim->stop('TERM');
    }

    # ---- a wrong secret: refused (Status 3), logged, retried --------------
    {
        my $sim = start_sim(args => [sim_args('--protocol', $proto)]);
        my $gw = start_cmpp_gw(proto => $proto, port => $sim->port,
            password => 'wrongkey');
        my $b1 = $sim->wait_type('bind');
        is($b1 && $b1->{cmpp_status}, 3, "$proto: a wrong secret: Status 3");
        ok($gw->wait_log(qr/cmpp link=mobile connect refused status=3 \(.*auth/i),
            "$proto: smsgwd logs the refusal by name") or diag $gw->log_text;
        my $b2 = $sim->wait_type('bind');
        is($b2 && $b2->{cmpp_status}, 3, "$proto: and tries again");
        unlike($gw->log_text, qr/\Q$SECRET\E|wrongkey/,
            "$proto: the secret is not logged");
        is($gw->stop('TERM'), 0, "$proto: stops while refused");
        $sim->stop('TERM');
    }
}

# ---- a scripted ISMG: what smsc-sim never sends --------------------------------
# A fake ISMG in Perl (RawCmpp's framing on the accepted socket, MD5 from
# Digest::MD5): a wrong AuthenticatorISMG, a DELIVER that does not decode,
# invalid GBK, a vendor Stat, an unknown Command_Id, unanswered ACTIVE_TEST.
{
    my $ln = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
        Proto => 'tcp', Listen => 5, ReuseAddr => 1) or die "listen: $!";
    my $gw = start_cmpp_gw(proto => 'cmpp30', port => $ln->sockport,
        active_test_s => 1, link => { response_timeout_s => 1 });
    my $accept = sub {
        return undef unless IO::Select->new($ln)->can_read(60);
        my $s = $ln->accept or return undef;
        $s->autoflush(1);
        return bless { sock => $s, v => 0x30, seq => 1000, buf => '',
            backlog => [] }, 'RawCmpp';
    };
    # Reads CONNECT; answers Status 0 with a right or a wrong authenticator.
    my $connect = sub {
        my ($c, $good) = @_;
        my $m = $c->expect(RawCmpp::CONNECT, 60) or return undef;
        my ($sp, $src, $ver, $ts) = unpack 'a6 a16 C N', $m->{body};
        my $ok = $sp eq $SP && $ver == 0x30
            && $src eq RawCmpp::auth_source($SP, $SECRET, $ts);
        my $auth = $good ? RawCmpp::auth_ismg(0x30, 0, $src, $SECRET)
            : "\x55" x 16;
        $c->send_msg(RawCmpp::CONNECT | RawCmpp::RESP,
            pack('N a16 C', 0, $auth, 0x30), $m->{seq});
        return $ok;
    };
    my $deliver = sub {
        my ($c, %o) = @_;
        return $c->send_msg(RawCmpp::DELIVER, pack('Q> a21 a10 C C C a32 C C C',
            $o{id}, '10659000', '', 0, 0, $o{fmt} // 0, $PHONE, 0,
            $o{reg} // 0, length $o{content}) . $o{content} . ("\0" x 20));
    };
    my $resp_of = sub {
        my ($c, $seq) = @_;
        my $m = $c->expect(RawCmpp::DELIVER | RawCmpp::RESP, 60, $seq)
            or return undef;
        my ($id, $result) = unpack 'Q> N', $m->{body};
        return { id => $id, result => $result };
    };

    my $c = $accept->();
    ok($c && $connect->($c, 0), 'scripted: CONNECT with the right '
        . 'AuthenticatorSource (checked with Digest::MD5)');
    ok($c && $c->closed(60), 'a wrong AuthenticatorISMG: smsgwd hangs up');
    ok($gw->wait_log(qr/cmpp link=mobile connect refused: AuthenticatorISMG does not match/),
        'and logs why') or diag $gw->log_text;

    $c = $accept->();
    ok($c && $connect->($c, 1), 'reconnects');
    ok($gw->wait_log(qr/cmpp link=mobile state binding -> bound/), 'bound');

    # A DELIVER whose body is cut short: Result 1 with its Msg_Id.
    my $seq = $c->send_msg(RawCmpp::DELIVER, pack("N N a5", 0x11223344, 0x55667788, "xx"));
    my $r = $resp_of->($c, $seq);
    is($r && $r->{result}, 1, 'an undecodable DELIVER: Result 1');
    is($r && sprintf('%x', $r->{id}), '1122334455667788', 'with its Msg_Id');

    # Invalid GBK: refused, the link stays.
    $seq = $deliver->($c, id => 7, fmt => 15, content => "\xB2\xE9\xFF\xFF");
    $r = $resp_of->($c, $seq);
    is($r && $r->{result}, 1, 'invalid GBK: refused with Result 1');
    ok($gw->wait_log(qr/DELIVER seq=$seq Msg_Fmt=15 refused: GBK/),
        'the reason logged');

    # A status report with a vendor Stat for no message of ours: answered 0.
    my $report = pack("N N a7 a10 a10 a32 N", 0x01020304, 0x05060708, "MA:0001",
        '2601051200', '2601051201', $PHONE, 1);
    $seq = $deliver->($c, id => 8, reg => 1, content => $report);
    $r = $resp_of->($c, $seq);
    is($r && $r->{result}, 0, 'a status report with a vendor Stat: Result 0');
    ok($gw->wait_log(qr/smsc_id=0102030405060708 stat=UNDELIV matches no message/),
        'read as undelivered, under its Msg_Id in hex') or diag $gw->log_text;

    # ACTIVE_TEST from the ISMG; then an unknown Command_Id drops the link.
    $seq = $c->send_msg(RawCmpp::ACTIVE_TEST);
    ok($c->expect(RawCmpp::ACTIVE_TEST | RawCmpp::RESP, 60, $seq),
        'ACTIVE_TEST answered');
    $c->send_msg(0x00000099, '');
    ok($c->closed(60), 'an unknown Command_Id: smsgwd hangs up');
    ok($gw->wait_log(qr/cmpp link=mobile dropped: unknown command/),
        'and logs it');

    # ACTIVE_TEST unanswered three times: dropped, reconnected.
    $c = $accept->();
    ok($c && $connect->($c, 1), 'reconnects');
    my $n = 0;
    $n++ while $c->expect(RawCmpp::ACTIVE_TEST, 10);
    is($n, 3, 'three ACTIVE_TESTs unanswered');
    ok($c->closed(10), 'then smsgwd hangs up');
    ok($gw->wait_log(qr/cmpp link=mobile dropped: ACTIVE_TEST unanswered 3 times/),
        'and logs it');
    ok($accept->(), 'and reconnects');
    is($gw->stop('TERM'), 0, 'exit 0');
    unlike($gw->log_text, qr/runtime error|AddressSanitizer/, 'sanitizers quiet');
}

done_testing();
