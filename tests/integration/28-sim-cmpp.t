#!/usr/bin/env perl
# smsc-sim as a China Mobile ISMG (--protocol cmpp30|cmpp20), driven by a
# raw CMPP client written in Perl from the spec (lib/RawCmpp.pm, MD5 from
# Digest::MD5): CONNECT with a right and a wrong secret (AuthenticatorISMG
# checked here), a long UCS-2 SUBMIT with UDH reassembled into one
# "message", Msg_Ids with the time in them, status reports, MO texts as
# DELIVER in ASCII, UCS-2 and GBK with 8- and 16-bit UDH, ACTIVE_TEST both
# ways, Result 8 under --throttle, slow responses and drops, and --load.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Encode qw(encode decode);
use POSIX qw(mktime);
use RawCmpp;
use SmsgwdTest;
use Test::More;
use Time::HiRes qw(time);

binmode Test::More->builder->$_, ':utf8'
    for qw(output failure_output todo_output);

my ($SP, $SECRET) = ('901234', 'cmpp-Secret1');
my $PHONE = '13800138000';

sub sim_args { ('--system-id', $SP, '--password', $SECRET, @_) }

# Msg_Id's time is the ISMG's local time: at most 30 s before ours.
sub time_ok {
    my ($f) = @_;
    my $year = (localtime)[5];
    my $t = mktime($f->{second}, $f->{minute}, $f->{hour}, $f->{day},
        $f->{month} - 1, $year, 0, 0, -1);
    return defined $t && $t <= time + 1 && $t >= time - 30;
}

# ---- CMPP 3.0 ----------------------------------------------------------------

my $sim = start_sim(args => [sim_args('--protocol', 'cmpp30', '--dlr')]);
is($sim->events('listening') && ($sim->events('listening'))[0]{protocol},
    'cmpp30', 'listening as cmpp30');

# A wrong secret: Status 3, an empty AuthenticatorISMG.
{
    my $c = RawCmpp->new(port => $sim->port);
    my $r = $c->login($SP, 'not-the-secret');
    ok($r, 'CONNECT_RESP to a wrong secret');
    is($r->{len}, 21, 'a 3.0 CONNECT_RESP body (Status 4 octets)');
    is($r->{status}, 3, 'Status 3 (authentication failed)');
    is($r->{auth_ismg}, "\0" x 16, 'no AuthenticatorISMG on a refusal');
    my $b = $sim->wait_type('bind');
    is($b->{cmpp_status}, 3, 'the bind event has Status 3');
    like($b->{error} // '', qr/auth/i, 'and names it');
    isnt($b->{status}, 'ESME_ROK', 'not bound');
}

# A 2.0 CONNECT to a 3.0 ISMG: Status 4, in the 2.0 layout it can read.
{
    my $c = RawCmpp->new(port => $sim->port, version => 0x20);
    my $r = $c->login($SP, $SECRET);
    is($r && $r->{status}, 4, 'another version: Status 4');
    is($r && $r->{len}, 18, 'answered in the 2.0 layout');
    $sim->wait_type('bind');
}

my $c = RawCmpp->new(port => $sim->port);
my $login = $c->login($SP, $SECRET);
is($login->{status}, 0, 'the right secret: Status 0');
is($login->{auth_ismg}, RawCmpp::auth_ismg(0x30, 0, $login->{source}, $SECRET),
    'AuthenticatorISMG = MD5(Status, AuthenticatorSource, secret)');
is($login->{version}, 0x30, 'Version 0x30');
my $bind = $sim->wait_type('bind');
is($bind->{status}, 'ESME_ROK', 'bind event: accepted');
is($bind->{system_id}, $SP, 'with the SP_Id');
is($bind->{protocol}, 'cmpp30', 'over cmpp30');

# ACTIVE_TEST from the SP.
{
    my $seq = $c->send_msg(RawCmpp::ACTIVE_TEST);
    my $m = $c->expect(RawCmpp::ACTIVE_TEST | RawCmpp::RESP, 60, $seq);
    ok($m, 'ACTIVE_TEST answered with the same Sequence_Id');
    ok($sim->wait_type('enquire_link'), 'enquire_link event');
}

# A 2-part UCS-2 SUBMIT with an 8-bit-reference UDH, a report asked for.
my $long = '您的申请已受理，受理编号为 A2024-0001，请携带身份证原件于工作日'
    . '前往区政务服务中心第三窗口办理后续手续。办理时间为上午九点至下午五点，'
    . '节假日休息。如有疑问请回复帮助。';
my $ucs = encode('UTF-16BE', $long);
ok(length $ucs > 140 && length $ucs <= 2 * 134, 'the text needs two parts')
    or diag length $ucs;
my @chunks = (substr($ucs, 0, 134), substr($ucs, 134));
my (@seqs, @ids);
for my $i (0, 1) {
    my $content = pack('C6', 5, 0, 3, 0x2a, 2, $i + 1) . $chunks[$i];
    push @seqs, $c->send_msg(RawCmpp::SUBMIT, $c->submit_body(
        pk_total => 2, pk_number => $i + 1, registered => 1, udhi => 1,
        fmt => 8, msg_src => $SP, dest => $PHONE, content => $content));
}
for my $i (0, 1) {
    my $m = $c->expect(RawCmpp::SUBMIT | RawCmpp::RESP, 60, $seqs[$i]);
    my $r = $m && $c->parse_submit_resp($m->{body});
    is($r && $r->{result}, 0, "SUBMIT_RESP $i: Result 0");
    push @ids, $r ? $r->{msg_id} : "\0" x 8;
}
my @f = map { RawCmpp::msgid_fields($_) } @ids;
ok(time_ok($f[0]) && time_ok($f[1]), 'Msg_Id holds the time now')
    or diag explain \@f;
is($f[0]{gateway}, 12345, 'Msg_Id gateway code');
# One counter for every Msg_Id: a status report's DELIVER may take one
# between the two SUBMIT_RESPs.
my $step = ($f[1]{sequence} - $f[0]{sequence}) & 0xffff;
ok($step >= 1 && $step <= 2, 'Msg_Id sequence counts up') or diag $step;

my $msg = $sim->wait_event(sub { $_[0]{event} eq 'message' && $_[0]{dst} eq $PHONE });
ok($msg, 'one "message" event');
is($msg && $msg->{text}, $long, 'with the whole text, decoded');
is($msg && $msg->{parts}, 2, 'from two parts');
is($msg && $msg->{protocol}, 'cmpp30', 'over cmpp30');
my @sub = $sim->events('submit_sm');
is(scalar @sub, 2, 'two submit_sm events');
is($sub[0]{message_id}, unpack('H*', $ids[0]), 'message_id is Msg_Id in hex');
is($sub[1]{msg_src}, $SP, 'Msg_src seen');

# The status reports, one per part.
my %want = map { $_ => 1 } @ids;
for my $i (0, 1) {
    my $d = $c->take_deliver(60);
    ok($d && $d->{registered} == 1, "status report $i: Registered_Delivery 1");
    my $r = $d && $d->{report} || {};
    ok(delete $want{$r->{msg_id} // ''}, 'for a Msg_Id we were given');
    is($r->{stat}, 'DELIVRD', 'Stat DELIVRD');
    is($r->{dest}, $PHONE, 'Dest_terminal_Id');
    like($r->{submit_time} // '', qr/^\d{10}$/, 'Submit_time YYMMDDHHMM');
    is($d && length $d->{content}, 71, 'a 71-octet report body');
    is($d && $d->{src}, $PHONE, 'from the handset');
    is($d && $d->{dest_id}, '10659000', 'to the SP code');
}
ok($sim->wait_event(sub { $_[0]{event} eq 'deliver_sm_resp' &&
    $_[0]{kind} eq 'receipt' && $_[0]{result} == 0 }), 'report acknowledged');

# MO texts typed at the simulator.
$sim->send_mo('+8613900139000', 'CX A2024-0001');
my $d = $c->take_deliver(60);
is($d && $d->{fmt}, 0, 'ASCII MO: Msg_Fmt 0');
is($d && $d->{content}, 'CX A2024-0001', 'the ASCII octets');
is($d && $d->{src}, '8613900139000', 'Src_terminal_Id');
is($d && $d->{dest_id}, '10659000', 'Dest_Id is the short code');
is($d && $d->{udhi}, 0, 'no UDH');
is($d && $d->{tail}, 20, 'LinkID after the content');
my $resp = $sim->wait_event(sub { $_[0]{event} eq 'deliver_sm_resp' && $_[0]{kind} eq 'mo' });
is($resp && $resp->{status}, 'ESME_ROK', 'deliver_sm_resp event');
is($resp && $resp->{result}, 0, 'with the Result');

$sim->send_mo('13900139000', '查询 张三');
$d = $c->take_deliver(60);
is($d && $d->{fmt}, 8, 'Chinese MO: Msg_Fmt 8');
is($d && $d->{content}, encode('UTF-16BE', '查询 张三'), 'UCS-2 octets');

my $mo_long = '我于昨日下午在地铁二号线人民广场站遗失了身份证和社保卡，'
    . '请问应该如何办理挂失和补办手续？需要准备哪些材料，大概需要多长时间？'
    . '我明天上午可以去政务服务中心吗？谢谢。';
ok(length $mo_long > 70 && length $mo_long <= 2 * 66, 'an MO text of two parts')
    or diag length $mo_long;
$sim->send_mo('13900139000', $mo_long);
my ($bytes, %refs) = ('');
for my $i (1, 2) {
    $d = $c->take_deliver(60);
    ok($d && $d->{udhi} == 1 && $d->{fmt} == 8, "long MO part $i: UCS-2, TP_udhi");
    my ($ref, $total, $seq, $hl) = RawCmpp::udh_concat($d ? $d->{content} : '');
    is($hl, 6, '6-octet UDH');
    is("$total/$seq", "2/$i", 'part of 2');
    $refs{$ref // ''} = 1;
    $bytes .= substr($d->{content}, $hl // 0) if $d;
}
is(scalar keys %refs, 1, 'one reference');
is(decode('UTF-16BE', $bytes), $mo_long, 'the parts make the text');

# Msg_src must be the SP_Id the link connected with.
{
    my $seq = $c->send_msg(RawCmpp::SUBMIT, $c->submit_body(fmt => 0,
        msg_src => '999999', dest => $PHONE, content => 'x'));
    my $m = $c->expect(RawCmpp::SUBMIT | RawCmpp::RESP, 60, $seq);
    is($m && $c->parse_submit_resp($m->{body})->{result}, 11,
        'another Msg_src: Result 11');
}

# TERMINATE.
{
    my $seq = $c->send_msg(RawCmpp::TERMINATE);
    ok($c->expect(RawCmpp::TERMINATE | RawCmpp::RESP, 60, $seq), 'TERMINATE_RESP');
    ok($c->closed(60), 'then the ISMG closes');
    my $cl = $sim->wait_event(sub { $_[0]{event} eq 'close' && $_[0]{reason} eq 'terminate' });
    ok($cl, 'close event: terminate');
}
is($sim->stop('TERM'), 0, 'exits cleanly') or diag $sim->log_text;

# ---- CMPP 2.0, GBK, a 16-bit reference, throttling, our ACTIVE_TEST --------

my $sim2 = start_sim(args => [sim_args('--protocol', 'cmpp20', '--mo-gbk',
    '--mo-udh16', '--throttle', '1.0', '--enquire-link', '1')]);
my $c2 = RawCmpp->new(port => $sim2->port, version => 0x20);
my $l2 = $c2->login($SP, $SECRET);
is($l2->{status}, 0, '2.0: Status 0');
is($l2->{len}, 18, 'a 2.0 CONNECT_RESP body (Status 1 octet)');
is($l2->{auth_ismg}, RawCmpp::auth_ismg(0x20, 0, $l2->{source}, $SECRET),
    '2.0 AuthenticatorISMG (Status 1 octet)');
is($l2->{version}, 0x20, 'Version 0x20');

$sim2->send_mo('13900139000', '你好，我要挂失');
$d = $c2->take_deliver(60);
is($d && $d->{fmt}, 15, '--mo-gbk: Msg_Fmt 15');
is($d && $d->{content}, encode('cp936', '你好，我要挂失'), 'GBK octets');
is($d && $d->{tail}, 8, 'Reserve after the content (2.0)');
$sim2->send_mo('13900139000', 'HELP');
$d = $c2->take_deliver(60);
is($d && $d->{fmt}, 0, 'ASCII stays Msg_Fmt 0 with --mo-gbk');

$sim2->send_mo('13900139000', $mo_long);
($bytes, %refs) = ('');
for my $i (1, 2) {
    $d = $c2->take_deliver(60);
    my ($ref, $total, $seq, $hl) = RawCmpp::udh_concat($d ? $d->{content} : '');
    is($hl, 7, "long GBK part $i: 7-octet UDH (16-bit reference)");
    is("$total/$seq", "2/$i", 'part of 2');
    ok(length($d->{content}) <= 140, 'fits one SMS') if $d;
    $refs{$ref // ''} = 1;
    $bytes .= substr($d->{content}, $hl // 0) if $d;
}
is(scalar keys %refs, 1, 'one reference');
is(decode('cp936', $bytes), $mo_long, 'the GBK parts make the text');

{
    my $seq = $c2->send_msg(RawCmpp::SUBMIT, $c2->submit_body(fmt => 8,
        msg_src => $SP, dest => $PHONE, content => encode('UTF-16BE', '好')));
    my $m = $c2->expect(RawCmpp::SUBMIT | RawCmpp::RESP, 60, $seq);
    is($m && length $m->{body}, 9, '2.0 SUBMIT_RESP (Result 1 octet)');
    is($m && $c2->parse_submit_resp($m->{body})->{result}, 8,
        '--throttle 1.0: Result 8');
    my $e = $sim2->wait_type('submit_sm');
    is($e && $e->{result}, 8, 'submit_sm event with Result 8');
}

{
    my $m = $c2->expect(RawCmpp::ACTIVE_TEST, 60);
    ok($m, '--enquire-link: the ISMG sends ACTIVE_TEST');
    $c2->send_msg(RawCmpp::ACTIVE_TEST | RawCmpp::RESP, "\0", $m->{seq}) if $m;
    ok($sim2->wait_type('enquire_link_resp'), 'and sees the answer');
}
is($sim2->stop('TERM'), 0, 'exits cleanly') or diag $sim2->log_text;

# ---- faults: slow responses, a drop, a result on demand --------------------

my $sim3 = start_sim(args => [sim_args('--protocol', 'cmpp30', '--delay-ms',
    '400', '--drop-after', '3', '--drop-once', '--cmpp-result', '13:0.5')]);
my $c3 = RawCmpp->new(port => $sim3->port);
is($c3->login($SP, $SECRET)->{status}, 0, 'connected (slowly)');
{
    my $t0 = time;
    my $seq = $c3->send_msg(RawCmpp::SUBMIT, $c3->submit_body(fmt => 0,
        msg_src => $SP, dest => $PHONE, content => 'a'));
    my $m = $c3->expect(RawCmpp::SUBMIT | RawCmpp::RESP, 60, $seq);
    ok(time - $t0 >= 0.35, '--delay-ms 400: SUBMIT_RESP late');
    is($m && $c3->parse_submit_resp($m->{body})->{result}, 0,
        '--cmpp-result 13:0.5: the first submit passes');
    $seq = $c3->send_msg(RawCmpp::SUBMIT, $c3->submit_body(fmt => 0,
        msg_src => $SP, dest => $PHONE, content => 'b'));
    ok($c3->closed(60), '--drop-after 3: the link drops');
    ok($sim3->wait_event(sub { $_[0]{event} eq 'close' &&
        $_[0]{reason} eq 'drop-after' }), 'close event: drop-after');
}
my $c3b = RawCmpp->new(port => $sim3->port);
is($c3b->login($SP, $SECRET)->{status}, 0, 'connected again');
{
    my @r;
    for my $i (1, 2) {
        my $seq = $c3b->send_msg(RawCmpp::SUBMIT, $c3b->submit_body(fmt => 0,
            msg_src => $SP, dest => $PHONE, content => "c$i"));
        my $m = $c3b->expect(RawCmpp::SUBMIT | RawCmpp::RESP, 60, $seq);
        push @r, $m ? $c3b->parse_submit_resp($m->{body})->{result} : -1;
    }
    # The submit lost in the drop was the second: 13 comes every other.
    is("@r", '0 13', 'then Result 13 for every other submit');
}
is($sim3->stop('TERM'), 0, 'exits cleanly') or diag $sim3->log_text;

# ---- --load over CMPP ------------------------------------------------------

my $dir = tmpdir();
spew("$dir/cases.csv", join('', "key,msisdn\n",
    map { sprintf "A%04d,1390000%04d\n", $_, $_ } 1 .. 40));
my $sim4 = start_sim(args => [sim_args('--protocol', 'cmpp30', '--load', '20',
    '--load-window', '8', '--load-cases', "$dir/cases.csv")]);
my $c4 = RawCmpp->new(port => $sim4->port);
is($c4->login($SP, $SECRET)->{status}, 0, '--load: connected');
my ($texts, $bad) = (0, 0);
while ($texts < 20) {
    my $dd = $c4->take_deliver(30) or last;
    $texts++;
    $bad++ unless $dd->{fmt} == 0 || $dd->{fmt} == 8;
    my $text = $dd->{fmt} == 8 ? decode('UTF-16BE', $dd->{content}) : $dd->{content};
    $bad++ unless length $text;
    # The reply goes back to the sender, as smsgwd's would.
    my $seq = $c4->send_msg(RawCmpp::SUBMIT, $c4->submit_body(fmt => 8,
        msg_src => $SP, dest => $dd->{src}, content => encode('UTF-16BE', '收到')));
}
is($texts, 20, '--load: 20 DELIVERs');
is($bad, 0, 'each ASCII or UCS-2 with a text');
my $load = $sim4->wait_type('load', 60);
is($load && $load->{end}, 'complete', 'the load completes');
is($load && $load->{replies}, 20, 'every reply matched by Dest_terminal_Id');
is($load && $load->{missing}, 0, 'none missing');
is($load && $load->{unmatched}, 0, 'none unmatched');
my $m = $c4->expect(RawCmpp::SUBMIT | RawCmpp::RESP, 10);
is($m && $c4->parse_submit_resp($m->{body})->{result}, 0, 'submits answered');
is($sim4->stop('TERM', 60), 0, 'exits cleanly after the load')
    or diag $sim4->log_text;

done_testing();
