#!/usr/bin/env perl
# The citizen text pipeline end to end: real smsgwd, real smsc-sim, a real
# SQLite file filled by smsgwctl import-cases. Every intent in both
# languages, registered and other phones, the privacy reply, the loss-report
# flow, opt-out, the rate limit, and senders we must not answer; each
# checked on the reply text the simulator received.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use POSIX qw(strftime);
use SmsgwdTest;
use Test::More;

binmode STDOUT, ':utf8';
binmode STDERR, ':utf8';

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

my %id = (
    mailed => '11010519491231002X', ready => '440524188001010014',
    rejected => idno('11010519800101123'), reviewing => idno('11010519900202234'),
    overdue => idno('11010519700303345'), appt => idno('11010519850404456'),
    nocase => idno('11010519950505567'),
);
my $dir = tmpdir();
open my $csv, '>:encoding(UTF-8)', "$dir/cases.csv" or die;
print $csv "receipt_no,id_number,name,msisdn,status,submitted_at,courier,tracking_no,pickup_place,reason\n";
print $csv "JX2026000123,$id{mailed},张三,13800138000,mailed,${\ day(-20)},EMS,EA123456789CN,,\n";
print $csv "JX2026000124,$id{ready},李四,+8613900139000,ready,${\ day(-30)},,,城关派出所户籍窗口,\n";
print $csv "JX2026000125,$id{rejected},Wang Wu,13600136000,rejected,${\ day(-5)},,,,照片不合格\n";
print $csv "JX2026000126,$id{reviewing},赵六,13500135000,reviewing,${\ day(-10)},,,,\n";
print $csv "JX2026000127,$id{overdue},钱七,13400134000,producing,${\ day(-100)},,,,\n";
close $csv;

my $sim = start_sim(dir => $dir);
my $gw = start_gw(dir => $dir, port => $sim->port,
    sections => { limits => { per_sender_per_hour => 7 } });
ok($sim->wait_type('bind', 60), 'bound');

my $ctl = build_dir() . '/smsgwctl';
my $out = `$ctl -c $gw->{conf} import-cases $dir/cases.csv 2>&1`;
is($? >> 8, 0, 'cases imported') or diag $out;

my ($texts, $replies) = (0, 0);
# Sends a text and returns the reply text, or undef if none comes in $secs.
sub ask {
    my ($from, $text, $secs) = @_;
    $sim->send_mo($from, $text);
    $texts++;
    my $m = $sim->wait_event(sub { $_[0]{event} eq 'message' && $_[0]{dst} eq $from },
        $secs // 60);
    $replies++ if $m;
    return $m && $m->{text};
}

# Sends a text that must get no reply; returns the reply text if one came
# anyway. Silence has no event to wait for, so a marker follows: a help
# request from a fresh phone. Texts are handled and answered in order, so
# once the marker's reply is in, a reply to the first would be in too.
my $markers = 0;
sub ask_silent {
    my ($from, $text) = @_;
    $sim->send_mo($from, $text);
    $texts++;
    my $marker = sprintf '1300000%04d', ++$markers;
    defined ask($marker, 'BZ') or diag "marker $marker got no reply";
    my $m = $sim->wait_event(sub { $_[0]{event} eq 'message' && $_[0]{dst} eq $from }, 0);
    $replies++ if $m;
    return $m && $m->{text};
}

# Progress queries from the registered phone.
is(ask('13800138000', "CX $id{mailed}"),
    template('zh', 'query.mailed', id_last4 => last4($id{mailed}),
        courier => 'EMS', tracking_no => 'EA123456789CN'),
    'mailed: courier and tracking number');
is(ask('13900139000', '查询 jx2026000124'),
    template('zh', 'query.ready', id_last4 => last4($id{ready}),
        place => '城关派出所户籍窗口'),
    'ready, by receipt number, registered as +86…');
is(ask('13600136000', "STATUS $id{rejected}"),
    template('en', 'query.rejected', ref => 'JX2026000125', reason => '照片不合格'),
    'rejected, in English for an English keyword');
is(ask('13500135000', "ｊｄ：$id{reviewing}"),
    template('zh', 'query.status', ref => 'JX2026000126', id_last4 => last4($id{reviewing}),
        status => '审核中', deadline => day(50)),
    'full-width keyword and colon; status with the legal deadline');
is(ask('13400134000', "进度$id{overdue}"),
    template('zh', 'query.overdue', ref => 'JX2026000127', id_last4 => last4($id{overdue}),
        status => '制证中', deadline => day(-40)),
    'past the 60-day deadline: contact the station');

# A query long enough (ideographic spaces typed after it) to travel as a
# two-part UCS-2 message: reassembled, normalised, answered.
my $padded = "查询 JX2026000124" . ("\x{3000}" x 60);
is(ask('13900139000', $padded),
    template('zh', 'query.ready', id_last4 => last4($id{ready}),
        place => '城关派出所户籍窗口'),
    'a concatenated UCS-2 query');
my ($mo) = grep { $_->{text} eq $padded } $sim->events('mo_queued');
is($mo && $mo->{parts}, 2, 'which arrived in 2 parts');

# The privacy reply: another phone, and a case that does not exist, get
# exactly the same words.
my $other = ask('13700137000', "CX $id{mailed}");
is($other, template('zh', 'query.privacy'), 'another phone gets the privacy reply');
is(ask('13700137000', "CX $id{nocase}"), $other, 'the same for no such case');
is(ask('13700137000', 'CX 110105194912310021'),
    template('zh', 'query.invalid_id', id_last4 => '****0021'),
    'a bad check character: only the last four shown');
is(ask('13700137000', 'CX'), template('zh', 'query.missing'), 'keyword alone');

# A digit too few or too many is a mistyped ID number, not a receipt number:
# the reply says what is wrong (never the privacy reply, which would send
# the citizen to the police station for nothing) and shows the last four.
my $short = ask('13000130000', 'CX 11010519491231002');
is($short, template('zh', 'query.id_length', id_last4 => '****1002'),
    '17 digits: the wrong length');
isnt($short, template('zh', 'query.privacy'), 'not the privacy reply');
is(ask('13000130000', 'STATUS 1101 0519 4912 3100 2'),
    template('en', 'query.id_length', id_last4 => '****1002'),
    '17 digits typed in groups: the same, in English');
is(ask('13000130000', 'CX 110105491231002'),
    template('zh', 'query.id_length', id_last4 => '****1002'),
    'an old 15-digit number: the wrong length');
is(ask('13000130000', 'CX 110105194902301234'),
    template('zh', 'query.id_date', id_last4 => '****1234'),
    'no 30 February: the birth date');
is(ask('13000130000', 'GS 11010519491231002 张三'),
    template('zh', 'report_loss.id_length', id_last4 => '****1002'),
    'a loss report with 17 digits');
is(ask('13000130000', 'JG 1101051949123100'),
    template('zh', 'found.id_length', id_last4 => '****3100'),
    'a release with 16 digits');
like($gw->log_text, qr/outcome=query\.id_length/, 'the log names the outcome');

# Loss reports.
my $eff = ask('13800138000', "挂失 $id{mailed} 张三");
like($eff, qr/GS\d{10}/, 'loss report from the registered phone takes effect');
my ($ref) = $eff =~ /(GS\d{10})/;
is($eff, template('zh', 'report_loss.effective', ref => $ref, id_last4 => last4($id{mailed})),
    'with its reference and the guidance');
is(ask('13800138000', "GS $id{mailed} 张三"),
    template('zh', 'report_loss.already', ref => $ref, id_last4 => last4($id{mailed})),
    'a repeated report creates no second one');
my $pend = template('zh', 'report_loss.pending', id_last4 => last4($id{ready}));
is(ask('13900139000', "GS $id{ready} 王五"), $pend, 'wrong name: pending');
is(ask('13700137000', "GS $id{ready} 李四"), $pend, 'other phone: the same pending wording');
is(ask('13600136000', "LOST $id{rejected}"), template('en', 'report_loss.missing'),
    'LOST without a name');
is(ask('13800138000', "JG $id{mailed}"),
    template('zh', 'found.released', ref => $ref, id_last4 => last4($id{mailed})),
    'found: released from the registered phone');
is(ask('13700137000', "FOUND $id{ready}"),
    template('en', 'found.none', id_last4 => last4($id{ready})),
    'found from another phone releases nothing');

# Help, opt-out, unknown.
is(ask('13300133000', 'BZ'), template('zh', 'help.list'), 'help in Chinese');
is(ask('13300133000', 'help'), template('en', 'help.list'), 'help in English');
is(ask('13300133000', 'TD'), template('zh', 'stop.done'), 'stop');
is(`sqlite3 $gw->{db} "select count(*) from optouts where msisdn='13300133000'"` + 0, 1,
    'opt-out recorded');
is(ask('13300133000', 'DY'), template('zh', 'start.done'), 'start');
is(`sqlite3 $gw->{db} "select count(*) from optouts"` + 0, 0, 'opt-out cleared');
is(ask('13200132000', '你好，请问身份证怎么办'), template('zh', 'unknown.hint'), 'unknown: the hint');
is(ask('13200132000', "CX 1' OR '1'='1"), template('zh', 'query.missing'),
    'SQL in a text is only text: the keyword without a number');
is(ask('13200132000', 'CX %s%n%x'), template('zh', 'query.missing'),
    'a format string is only text');

# The rate limit: 7 per hour, then one warning, then silence.
ask('13100131000', 'BZ') for 1 .. 7;
is(ask('13100131000', 'BZ'), template('zh', 'limit.exceeded'), 'the 8th text: too many requests');
is(ask_silent('13100131000', 'BZ'), undef, 'then silence');

# Senders we never answer.
is(ask_silent('ABCBANK', 'BZ'), undef, 'no reply to an alphanumeric sender');
is(ask_silent('10659000', 'BZ'), undef, 'no reply to our own short code');

# Every text and every reply is in the message log, with its intent.
my $rows = `sqlite3 $gw->{db} "select count(*) from messages"` + 0;
is($rows, $texts + $replies, "message log: $texts texts and $replies replies");
my $q = `sqlite3 $gw->{db} "select intent from messages where text like 'STATUS %'"`;
like($q, qr/^query$/m, 'inbound rows carry their intent');
unlike($gw->log_text, qr/\Q$id{mailed}\E|张三|13800138000/, 'no full ID, name or phone in the log');
unlike($gw->log_text, qr/11010519491231002|1101051949123100|110105491231002/,
    'nor a mistyped one');
is($gw->stop('TERM', 60), 0, 'clean stop');
unlike($gw->log_text, qr/AddressSanitizer|runtime error/, 'no sanitizer report');
$sim->stop('TERM', 60);
done_testing;
