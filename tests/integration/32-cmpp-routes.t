#!/usr/bin/env perl
# End to end over CMPP (issue 14), next to an SMPP link (issue 12): a China
# Mobile ISMG (smsc-sim --protocol cmpp30) as the link "mobile" and an SMPP
# aggregator as "unicom". The citizen pipeline over CMPP (a query of an
# imported case, a loss report, help) answers on the CMPP link; a
# notification to a 139 number goes out over CMPP and its status report
# marks it delivered, one to a 186 number over SMPP; a SUBMIT refused with
# Result 13 moves its message to the SMPP link; smsgwctl links shows both
# links bound and smsgwctl outbox the CMPP Msg_Id in hex and decoded.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Carriers;
use POSIX qw(strftime);
use RawCmpp;
use SmsgwdTest;
use Test::More;

binmode STDOUT, ':utf8';
binmode STDERR, ':utf8';

my ($SP, $SECRET, $CODE) = ('901234', 'cmpp-Secret1', '1065730000');

# Synthetic ID numbers with a correct GB 11643 check character.
sub idno {
    my ($first17) = @_;
    my @w = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2);
    my $sum = 0;
    $sum += substr($first17, $_, 1) * $w[$_] for 0 .. 16;
    return $first17 . substr('10X98765432', $sum % 11, 1);
}
sub day { strftime('%Y-%m-%d', localtime(time + 86400 * $_[0])) }
sub last4 { '****' . substr($_[0], -4) }

my $dir = tmpdir();
my %id = (zhang => '11010519491231002X', li => '440524188001010014',
    wang => idno('11010519800101123'), zhao => idno('11010519900202234'));
# JX…123 is the citizen who texts; the other three get notifications:
# 139 (China Mobile: CMPP), 186 (China Unicom: SMPP), 137 (China Mobile,
# but the ISMG refuses the number with Result 13: SMPP after all).
my %phone = (JX2026000124 => '13900139002', JX2026000125 => '18600186004',
    JX2026000126 => '13700137005');
open my $csv, '>:encoding(UTF-8)', "$dir/cases.csv" or die;
print $csv "receipt_no,id_number,name,msisdn,status,submitted_at,courier,tracking_no\n";
print $csv "JX2026000123,$id{zhang},张三,13800138000,mailed,${\ day(-20)},EMS,EA123456789CN\n";
print $csv "JX2026000124,$id{li},李四,13900139002,producing,${\ day(-10)},,\n";
print $csv "JX2026000125,$id{wang},王五,18600186004,producing,${\ day(-10)},,\n";
print $csv "JX2026000126,$id{zhao},赵六,13700137005,producing,${\ day(-10)},,\n";
close $csv;

# The ISMG refuses 137… (national or international form) with Result 13.
my $mob = start_sim(args => ['--protocol', 'cmpp30', '--system-id', $SP,
    '--password', $SECRET, '--short-code', $CODE, '--dlr',
    '--refuse-prefix', '137:0x0B', '--refuse-prefix', '86137:0x0B']);
my $uni = start_sim(args => ['--dlr']);
my $gw = start_gw(dir => $dir,
    links => [ { name => 'mobile', protocol => 'cmpp30', port => $mob->port,
                 system_id => $SP, password => $SECRET, source_addr => $CODE,
                 service_id => 'IDCARD' },
               { name => 'unicom', port => $uni->port } ],
    routes => "# China Mobile prefixes to the ISMG, with the aggregator behind\n"
        . join('', map { "$_ mobile unicom\n" } qw(134 135 136 137 138 139 150 188))
        . "186 unicom mobile\n* unicom mobile\n");

my $b1 = $mob->wait_type('bind');
my $b2 = $uni->wait_type('bind');
is($b1 && $b1->{status}, 'ESME_ROK', 'mobile CONNECTs to the ISMG');
is($b1 && $b1->{protocol}, 'cmpp30', 'over CMPP 3.0');
is($b2 && $b2->{status}, 'ESME_ROK', 'unicom binds over SMPP');
ok($gw->wait_log(qr/link=mobile state binding -> bound/)
    && $gw->wait_log(qr/link=unicom state binding -> bound/),
    'smsgwd logs both links bound') or diag $gw->log_text;

my ($rc, $out, $err) = run_ctl($gw->{conf}, $dir, 'import-cases', "$dir/cases.csv");
is($rc, 0, 'cases imported') or diag "$out$err";

# ---- the citizen pipeline over CMPP ------------------------------------------

# Texts in on the ISMG: each reply back on it (a SUBMIT), none on unicom.
sub ask {
    my ($from, $text) = @_;
    $mob->send_mo($from, $text);
    my $m = $mob->wait_event(sub { $_[0]{event} eq 'message' && $_[0]{dst} eq $from });
    return $m && $m->{text};
}

is(ask('13800138000', "CX $id{zhang}"),
    template('zh', 'query.mailed', id_last4 => last4($id{zhang}),
        courier => 'EMS', tracking_no => 'EA123456789CN'),
    'a query over CMPP: the imported case, mailed');
my $eff = ask('13800138000', "挂失 $id{zhang} 张三");
my ($ref) = ($eff // '') =~ /(GS\d{10})/;
ok($ref, 'a loss report over CMPP takes effect') or diag $eff;
is($eff, template('zh', 'report_loss.effective', ref => $ref // '',
    id_last4 => last4($id{zhang})), 'with its reference and the guidance');
is(sql($gw, "select count(*) from loss_reports"), 1, 'one loss report saved');
my $help = template('zh', 'help.list');
is(ask('13800138000', '帮助'), $help, 'help over CMPP');
# A 186 number texting the China Mobile code: the reply still goes back on
# the link the text came in on, not by the routes file.
is(ask('18600186001', 'BZ'), $help, 'a 186 text in on the ISMG is answered there');

my @mo = grep { $_->{kind} eq 'mo' } $mob->events('deliver_sm_resp');
is(scalar(grep { $_->{result} == 0 } @mo), 4, 'four DELIVERs acknowledged with Result 0');
my @rs = grep { $_->{dst} =~ /^(?:13800138000|18600186001)$/ } $mob->events('submit_sm');
ok(@rs >= 5, scalar(@rs) . ' SUBMITs for the replies (help in two parts)');
is(scalar(grep { $_->{status} ne 'ESME_ROK' || $_->{src} ne $CODE
    || $_->{msg_src} ne $SP || $_->{service_id} ne 'IDCARD' } @rs), 0,
    'every reply SUBMIT accepted, from our Src_Id, Msg_src and Service_Id');
is(scalar($uni->events('submit_sm')), 0, 'no reply went over SMPP');
my $leak = $gw->log_text =~ /\Q$id{zhang}\E|张三/;
ok(!$leak, 'the log has no full ID number or name');

# The replies' status reports (--dlr) mark them delivered.
my $states;
ok(SmsgwdTest::wait_until(sub {
    $states = sql($gw, "select group_concat(state) from messages where"
        . " class = 'reply' and direction = 'out' and state != 'delivered'");
    $states eq '' }), 'every reply delivered by its CMPP status report')
    or diag $states;

# ---- notifications: 139 over CMPP, 186 over SMPP, 137 refused → SMPP ----------

for my $r (sort keys %phone) {
    ($rc, $out, $err) = run_ctl($gw->{conf}, $dir, qw(case set-status), $r,
        qw(mailed --courier SF --tracking), "SF$phone{$r}");
    like($out, qr/notification queued/, "set-status $r mailed: a notification queued")
        or diag "$rc $out$err";
}
my %want = (JX2026000124 => 'mobile', JX2026000125 => 'unicom',
    JX2026000126 => 'unicom');
my %sim = (mobile => $mob, unicom => $uni);
my %got;
for my $r (sort keys %phone) {
    my $p = $phone{$r};
    my $on = $sim{$want{$r}};
    $got{$r} = $on->wait_event(sub { $_[0]{event} eq 'message'
        && $_[0]{dst} =~ /^(?:86)?\Q$p\E$/ });
    ok($got{$r}, "notification to $p arrives on $want{$r}") or diag $gw->log_text;
    is($got{$r} && $got{$r}{text}, template('zh', 'notify.mailed', ref => $r,
        courier => 'SF', tracking_no => "SF$p"), 'its text');
}
is($got{JX2026000124} && $got{JX2026000124}{protocol}, 'cmpp30', '139: a CMPP SUBMIT');
my ($refused) = grep { $_->{dst} =~ /13700137005$/ } $mob->events('submit_sm');
ok($refused, '137: first tried on the ISMG (routes: mobile first)');
is($refused && $refused->{result}, 13, 'which answered Result 13');
is(scalar(grep { $_->{dst} =~ /13700137005$/ && $_->{status} eq 'ESME_ROK' }
    $mob->events('submit_sm')), 0, 'the ISMG accepted nothing for 137');
is(scalar(grep { $_->{dst} =~ /13900139002$/ } $uni->events('message')), 0,
    '139 not sent over SMPP');
is(scalar(grep { $_->{dst} =~ /18600186004$/ } $mob->events('submit_sm')), 0,
    '186 not sent over CMPP');

# Outcomes: each delivered by its own link's report.
my %idof = map { $_ => sql($gw, "select id from messages where class = 'notify'"
    . " and msisdn like '%$phone{$_}'") } keys %phone;
my $ob;
ok(SmsgwdTest::wait_until(sub {
    $ob = ctl_json($gw, qw(outbox --state delivered --limit 100));
    $ob && 3 == grep { $_->{class} eq 'notify' } @$ob }),
    'outbox --state delivered: the three notifications')
    or diag explain $ob;
my %row = map { $_->{id} => $_ } @{ $ob // [] };
for my $r (sort keys %phone) {
    is($row{$idof{$r}} && $row{$idof{$r}}{links}, $want{$r},
        "outbox: $phone{$r} on $want{$r}");
}

# smsc_ids: the CMPP part's Msg_Id as 16 hex digits, then decoded.
my $cm = $row{$idof{JX2026000124}} // {};
my ($hex, $shown) = ($cm->{smsc_ids} // '') =~ /^([0-9a-f]{16}) \((.*)\)$/;
ok($hex, 'the CMPP part: a Msg_Id of 16 hex digits') or diag explain $cm;
my ($sub) = grep { $_->{dst} =~ /13900139002$/ && $_->{status} eq 'ESME_ROK' }
    $mob->events('submit_sm');
is($hex, $sub && $sub->{message_id}, 'the one the ISMG handed out');
my $f = RawCmpp::msgid_fields(pack 'H*', $hex // '0' x 16);
is($shown, sprintf('%02d-%02d %02d:%02d:%02d gw=%d seq=%d', @$f{qw(month day
    hour minute second gateway sequence)}), 'decoded: time, gateway code, sequence');
is($f->{gateway}, 12345, 'the sim\'s gateway code');
my $sm = $row{$idof{JX2026000125}} // {};
my ($usub) = grep { $_->{dst} =~ /18600186004$/ && $_->{status} eq 'ESME_ROK' }
    $uni->events('submit_sm');
is($sm->{smsc_ids}, $usub && $usub->{message_id}, 'the SMPP part: its message_id as given');
my $parts = sql($gw, "select link || ' ' || state || ' ' || coalesce(status, '')"
    . " from outbox_parts where msg_id = $idof{JX2026000124}");
is($parts, 'mobile delivered DELIVRD', 'the 139 part: delivered on mobile');
like($gw->log_text, qr/receipt .*smsc_id=\Q$hex\E.*stat=DELIVRD/, 'its receipt logged')
    if $hex;

# ---- smsgwctl links ------------------------------------------------------------

my $links;
ok(SmsgwdTest::wait_until(sub {
    $links = ctl_json($gw, 'links');
    $links && @$links == 2 && !grep { $_->{state} ne 'bound' } @$links }),
    'smsgwctl links --json: two links, both bound') or diag explain $links;
my %l = map { $_->{link} => $_ } @{ $links // [] };
is($l{mobile}{window}, 16, 'mobile: CMPP\'s window of 16 by default');
ok($l{mobile}{bound_since} && $l{unicom}{bound_since}, 'both: bound since');
($rc, $out) = run_ctl($gw->{conf}, $dir, 'links');
like($out, qr/^mobile\s+bound\s/m, 'smsgwctl links: mobile bound');
like($out, qr/^unicom\s+bound\s/m, 'smsgwctl links: unicom bound');

# ---- stop ---------------------------------------------------------------------

is($gw->stop('TERM'), 0, 'clean stop');
ok($mob->wait_type('unbind') && $uni->wait_type('unbind'),
    'TERMINATE to the ISMG, unbind to the SMSC');
unlike($gw->log_text, qr/AddressSanitizer|runtime error/, 'no sanitizer report');
$mob->stop('TERM');
$uni->stop('TERM');
done_testing;
