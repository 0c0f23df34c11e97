#!/usr/bin/env perl
# smsgwctl's operator commands against a real database: case set-status and
# import-cases --notify queue exactly one notification per change (the
# shipped template, to the phone in international form), none when the
# status is unchanged or the phone opted out; messages, outbox, stats and
# optout in text and --json; personal data masked unless --reveal.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP;
use SmsgwdTest;
use Test::More;

my $build = $ENV{SMSGWD_BUILD} // 'build';
my $bin = "$build/smsgwctl";
-x $bin or die "no $bin: run make first";
my $src = src_dir();
my $dir = tmpdir();
my $db = "$dir/smsgwd.db";
my $conf = "$dir/smsgwd.conf";
my $json = JSON::PP->new;     # stdout is decoded UTF-8 already

spew($conf, "[smpp]\nsystem_id = smsgwd\nsource_addr = 10659000\n"
    . "[store]\npath = $db\n"
    . "[templates]\npath = $src/conf/templates.conf\n"
    . "[parsers]\npatterns = $src/conf/patterns.conf\n");

# Runs smsgwctl -c $conf @args; returns (exit code, stdout, stderr).
sub ctl { return run_ctl($conf, $dir, @_) }

# The command's --json output, decoded (undef if it does not parse).
sub ctl_json {
    my ($rc, $out, $err) = ctl(@_, '--json');
    my $doc = eval { $json->decode($out) };
    diag "smsgwctl @_ --json: exit $rc: $@$err" unless defined $doc && $rc == 0;
    return $doc;
}

# Rows of an SQL query, each an array of columns ("|"-separated).
sub sql {
    my ($q) = @_;
    open my $p, '-|:encoding(UTF-8)', 'sqlite3', '-separator', "\t", $db, $q
        or die "sqlite3: $!";
    my @rows = map { chomp; [split /\t/, $_, -1] } <$p>;
    close $p;
    return @rows;
}

sub notices { scalar sql("SELECT id FROM messages WHERE class = 'notify'") }

my ($rc, $out, $err, $doc, @rows);

# ---- cases, imported without notifications -------------------------------

spew("$dir/cases.csv", <<'EOF');
receipt_no,id_number,name,msisdn,status,submitted_at
JX2026000123,11010519491231002X,张三,+8613800138000,reviewing,2026-01-10
JX2026000124,440524188001010014,李四,13900139000,producing,2026-01-11
JX2026000125,11010519491231002X,王五,008613700137000,accepted,2026-01-12
EOF
($rc, $out, $err) = ctl('import-cases', "$dir/cases.csv");
is($rc, 0, 'import') or diag $err;
is($out, "imported 3 cases (3 new, 0 updated)\n", 'three new cases');
is(scalar(sql('SELECT id FROM messages')), 0, 'a plain import queues nothing');

# ---- set-status: one notification, the shipped template ------------------

($rc, $out, $err) = ctl(qw(case set-status jx2026000123 mailed --courier EMS
    --tracking E123456789CN));
is($rc, 0, 'set-status mailed') or diag $err;
like($out, qr/^JX2026000123: reviewing -> mailed; notification queued \(id (\d+)\)$/,
    'says what changed and what was queued');
my ($id) = $out =~ /id (\d+)/;
@rows = sql("SELECT id, direction, class, state, msisdn, ton, npi, text,"
    . " attempts, coalesce(reply_to, '-') FROM messages WHERE class = 'notify'");
is(scalar @rows, 1, 'exactly one notification');
my $want = template('zh', 'notify.mailed', ref => 'JX2026000123',
    courier => 'EMS', tracking_no => 'E123456789CN');
is_deeply($rows[0], [$id, 'out', 'notify', 'queued', '8613800138000', 1, 1,
    $want, 0, '-'], 'its row: the template text, to 86…, TON 1 NPI 1, queued');
like($rows[0][7], qr/E123456789CN/, 'it carries the tracking number');

($rc, $out) = ctl(qw(case set-status JX2026000123 mailed));
is($rc, 0, 'the same change again');
is($out, "JX2026000123: mailed -> mailed; no notification (unchanged)\n",
    'says unchanged');
is(notices(), 1, 'and queues nothing');

($rc, $out) = ctl(qw(case set-status JX2026000125 reviewing));
is($out, "JX2026000125: accepted -> reviewing; no notification "
    . "(reviewing is not notified)\n", 'a status citizens are not told of');
is(notices(), 1, 'queues nothing');

# ---- opted out --------------------------------------------------------------

($rc, $out, $err) = ctl(qw(optout add +8613900139000));
is($rc, 0, 'optout add') or diag $err;
is($out, "139****9000: opted out of notifications\n", 'masked, national form');
($rc, $out) = ctl(qw(optout add 13900139000));
is($out, "139****9000: already opted out\n", 'twice is fine');
is_deeply([sql('SELECT msisdn FROM optouts')], [['13900139000']],
    'stored in national form');

($rc, $out, $err) = ctl(qw(case set-status JX2026000124 ready --place),
    '东城分局户籍大厅');
is($rc, 0, 'set-status ready for an opted-out phone') or diag $err;
is($out, "JX2026000124: producing -> ready; no notification (opted out)\n",
    'says opted out');
is(notices(), 1, 'no notification');
is_deeply([sql("SELECT status, pickup_place FROM cases WHERE receipt_no ="
    . " 'JX2026000124'")], [['ready', '东城分局户籍大厅']],
    'but the case changed');

# ---- refusals ---------------------------------------------------------------

($rc, $out, $err) = ctl(qw(case set-status JX2099999999 mailed));
is($rc, 1, 'an unknown receipt exits 1');
like($err, qr/no such case: JX2099999999/, 'and says so');
($rc, $out, $err) = ctl(qw(case set-status JX2026000123 shipped));
is($rc, 2, 'an unknown status is a usage error');
like($err, qr/unknown status 'shipped'/, 'and says which');
($rc, $out, $err) = ctl(qw(case set-status JX2026000125 mailed --tracking T1));
is($rc, 1, 'mailed without a courier is refused');
like($err, qr/mailed needs --courier/, 'with the reason');
is_deeply([sql("SELECT status FROM cases WHERE receipt_no = 'JX2026000125'")],
    [['reviewing']], 'and nothing changed');
($rc, $out, $err) = ctl(qw(case set-status JX2026000123 ready --color red));
is($rc, 2, 'an unknown option is a usage error');
like($err, qr/unknown option '--color'/, 'named');

spew("$dir/badtmpl.conf", "[zh]\nhelp.list = x\n");
spew("$dir/bad.conf", slurp($conf) =~ s{\Q$src\E/conf/templates\.conf}
    {$dir/badtmpl.conf}r);
{
    my $good = $conf;
    $conf = "$dir/bad.conf";
    ($rc, $out, $err) = ctl(qw(case set-status JX2026000125 collected));
    $conf = $good;
}
is($rc, 1, 'templates that do not load: exit 1');
like($err, qr/badtmpl\.conf:.*missing/, 'with their errors');

# ---- import --notify -------------------------------------------------------

spew("$dir/update.csv", <<'EOF');
receipt_no,id_number,name,msisdn,status,submitted_at,reason
JX2026000123,11010519491231002X,张三,13800138000,mailed,2026-01-10,
JX2026000125,11010519491231002X,王五,13700137000,rejected,2026-01-12,照片不清晰
EOF
($rc, $out, $err) = ctl('import-cases', "$dir/update.csv", '--notify');
is($rc, 0, 'import --notify') or diag $err;
is($out, "imported 2 cases (0 new, 2 updated); 1 notification queued, "
    . "0 opted out\n", 'one change, one notification');
is(notices(), 2, 'one more notification in all');
@rows = sql("SELECT msisdn, text FROM messages WHERE class = 'notify'"
    . " ORDER BY id DESC LIMIT 1");
is_deeply($rows[0], ['8613700137000', template('zh', 'notify.rejected',
    ref => 'JX2026000125', reason => '照片不清晰')],
    'the rejection, with its reason, to the case phone');
is_deeply([sql("SELECT courier, tracking_no FROM cases WHERE receipt_no ="
    . " 'JX2026000123'")], [['EMS', 'E123456789CN']],
    'columns the file lacks keep their values');

($rc, $out) = ctl('import-cases', "$dir/update.csv", '--notify');
like($out, qr/; 0 notifications queued/, 'the same file again: none');
is(notices(), 2, 'nothing more queued');

spew("$dir/silent.csv", <<'EOF');
receipt_no,id_number,name,msisdn,status,submitted_at,pickup_place
JX2026000125,11010519491231002X,王五,13700137000,ready,2026-01-12,A hall
EOF
($rc, $out) = ctl('import-cases', "$dir/silent.csv");
is($out, "imported 1 cases (0 new, 1 updated)\n", 'without --notify');
is(notices(), 2, 'a change imported without --notify queues nothing');

# ---- messages ---------------------------------------------------------------

# Texts citizens sent (what smsgwd logs): an ID number, a loss report.
sql("INSERT INTO messages (direction, at, msisdn, ton, npi, text, intent)"
    . " VALUES ('in', 1800000000, '+8613800138000', 1, 1,"
    . " 'CX 11010519491231002X', 'query'),"
    . " ('in', 1800000001, '8613800138000', 1, 1,"
    . " 'GS 11010519491231002X 张三', 'report_loss'),"
    . " ('in', 1800000002, '13900139000', 0, 0,"
    . " '挂失４４０５２４１８８００１０１００１４李四', 'report_loss')");

($rc, $out, $err) = ctl('messages');
is($rc, 0, 'messages') or diag $err;
my @lines = split /\n/, $out;
like($lines[0], qr/^ID\s+AT\s+DIRECTION\s+CLASS\s+STATE\s+MSISDN\s+INTENT\s+LINKS\s+TEXT$/,
    'a header');
is(scalar @lines, 1 + 5, 'every row (fewer than the default 20)');
like($lines[1], qr/^\d+\s.*\s139\*\*\*\*9000\s+report_loss\s+-\s+挂失\*\*\*\*0014李\*$/,
    'newest first; full-width ID masked; the name in a loss report masked');
like($lines[2], qr/\sGS \*\*\*\*002X 张\*$/, 'loss report: ID and name masked');
like($lines[3], qr/\sCX \*\*\*\*002X$/, 'a query: the ID masked');
unlike($out, qr/11010519491231002X|440524188001010014|１００１４|张三|李四|13800138000|13900139000/,
    'nothing personal in the default view');
my $col = index($lines[0], 'MSISDN');
is(scalar(grep { substr($_, $col, 3) =~ /^1[34]\d$/ } @lines[1 .. $#lines]),
    5, 'the columns are aligned');

($rc, $out) = ctl(qw(messages --reveal --limit 3));
@lines = split /\n/, $out;
is(scalar @lines, 4, '--limit 3');
like($out, qr/CX 11010519491231002X$/m, '--reveal: the whole text');
like($out, qr/GS 11010519491231002X 张三$/m, '--reveal: the name');
like($out, qr/\s\+8613800138000\s/, '--reveal: the number as stored');

for my $form ('+8613800138000', '008613800138000', '8613800138000',
    '13800138000') {
    $doc = ctl_json('messages', '--msisdn', $form);
    is(scalar(grep { $_->{msisdn} eq '138****8000' } @$doc), 3,
        "--msisdn $form: the 3 rows of that phone, in any form")
        or diag explain $doc;
}
$doc = ctl_json(qw(messages --msisdn 13800138000 --limit 2));
is(scalar @$doc, 2, '--msisdn with --limit');
ok($doc->[0]{id} > $doc->[1]{id}, 'newest first');
($rc, $out, $err) = ctl(qw(messages --msisdn abc));
is($rc, 2, 'a bad --msisdn is a usage error');
($rc, $out, $err) = ctl(qw(messages --limit 0));
is($rc, 2, 'a bad --limit is a usage error');

$doc = ctl_json(qw(messages --limit 20));
is(scalar @$doc, 5, 'messages --json: an array of every row');
my ($n1) = grep { $_->{id} == $id } @$doc;
is_deeply([@{$n1}{qw(direction class state msisdn intent text)}],
    ['out', 'notify', 'queued', '138****8000', undef, $want],
    'a notification row in JSON (masked phone, null intent)');
like($n1->{at}, qr/^\d+$/, 'times are unix seconds in JSON');

# ---- outbox ------------------------------------------------------------------

($rc, $out, $err) = ctl('outbox');
is($rc, 0, 'outbox') or diag $err;
@lines = split /\n/, $out;
like($lines[0], qr/^ID\s+AT\s+CLASS\s+STATE\s+ATTEMPTS\s+MSISDN\s+REF\s+PARTS\s+LINKS\s+SMSC_IDS\s+LAST_STATUS\s+TEXT$/,
    'a header');
is(scalar @lines, 3, 'both queued notifications');
like($lines[1], qr/^$id\s.*\snotify\s+queued\s+0\s+138\*\*\*\*8000\s+-\s+-\s+-\s+-\s+-\s+\Q$want\E$/,
    'oldest first, parts none yet');

# The daemon's work, by hand: one submitted in two parts, one delivered.
my ($n2) = map { $_->[0] } sql("SELECT max(id) FROM messages WHERE class"
    . " = 'notify'");
sql("UPDATE messages SET state = 'submitted', attempts = 1, ref = 7 WHERE"
    . " id = $id; INSERT INTO outbox_parts VALUES ($id * 256 + 1, $id, 1,"
    . " 'a1', 'delivered', 'DELIVRD', 1, 'mobile'), ($id * 256 + 2, $id, 2,"
    . " 'a2', 'submitted', NULL, 1, 'mobile');"
    . " UPDATE messages SET state = 'delivered', attempts = 1,"
    . " last_status = 'DELIVRD' WHERE id = $n2");
$doc = ctl_json('outbox');
is(scalar @$doc, 1, 'outbox --json: only what is not final');
is_deeply([@{$doc->[0]}{qw(id state attempts ref parts links)}],
    [$id, 'submitted', 1, 7, { delivered => 1, submitted => 1 },
    'mobile mobile'], 'with its parts and the link of each');
($rc, $out) = ctl('outbox');
like($out, qr/\s7\s+delivered:1 submitted:1\s+mobile mobile\s+a1, a2\s+-\s/,
    'parts in text, with their SMSC ids');
$doc = ctl_json(qw(messages --limit 20));
my ($withparts) = grep { $_->{id} == $id } @$doc;
is($withparts->{links}, 'mobile mobile', 'messages: the link of each part');
$doc = ctl_json(qw(outbox --state delivered));
is_deeply([map { $_->{id} } @$doc], [$n2], '--state delivered');
is($doc->[0]{last_status}, 'DELIVRD', 'with the last status');
($rc, $out, $err) = ctl(qw(outbox --state bogus));
is($rc, 2, 'an unknown state is a usage error');
like($err, qr/unknown state 'bogus'/, 'named');
($rc, $out) = ctl(qw(outbox --state failed));
is($out, "outbox empty\n", 'nothing in a state: said so');
is_deeply(ctl_json(qw(outbox --state failed)), [], 'an empty JSON array');

# ---- stats --------------------------------------------------------------------

$doc = ctl_json('stats');
is_deeply($doc, {
    cases => { accepted => 0, reviewing => 0, producing => 0, mailed => 1,
        ready => 2, collected => 0, rejected => 0, appointment => 0 },
    outbox => { queued => 0, submitted => 1, delivered => 1, failed => 0,
        expired => 0 },
    messages => { in => 3, out => 2 },
    loss_reports => { pending => 0, effective => 0, released => 0 },
    optouts => 1,
}, 'stats --json') or diag explain $doc;
($rc, $out) = ctl('stats');
like($out, qr/^cases\.ready:\s+2$/m, 'stats in text');
like($out, qr/^outbox\.submitted:\s+1$/m, 'outbox counts');
like($out, qr/^optouts:\s+1$/m, 'opt-outs');

# ---- optout list / remove ---------------------------------------------------

($rc, $out) = ctl(qw(optout list));
like($out, qr/^MSISDN\s+AT\n139\*\*\*\*9000\s+\d{4}-\d\d-\d\d /, 'optout list, masked');
($rc, $out) = ctl(qw(optout list --reveal));
like($out, qr/^13900139000\s/m, '--reveal');
$doc = ctl_json(qw(optout list));
is_deeply([map { $_->{msisdn} } @$doc], ['139****9000'], 'optout list --json');
$doc = ctl_json(qw(optout remove 13900139000));
is_deeply($doc, { msisdn => '139****9000', opted_out => JSON::PP::false,
    changed => JSON::PP::true }, 'optout remove --json');
$doc = ctl_json(qw(optout add 13900139000 --reveal));
is_deeply($doc, { msisdn => '13900139000', opted_out => JSON::PP::true,
    changed => JSON::PP::true }, 'optout add --json --reveal');
($rc, $out, $err) = ctl(qw(optout add 12ab));
is($rc, 2, 'not a phone number');

# ---- --json for every command --------------------------------------------

$doc = ctl_json(qw(case set-status JX2026000123 collected));
is_deeply($doc, { receipt_no => 'JX2026000123', from => 'mailed',
    to => 'collected', notification => 'none', reason => 'not notified',
    message_id => undef }, 'case set-status --json');
$doc = ctl_json(qw(case set-status JX2026000123 ready --place), 'Hall 2');
is($doc->{notification}, 'queued', 'a notifying change --json');
like($doc->{message_id}, qr/^\d+$/, 'with the message id');
is_deeply([sql("SELECT class, msisdn FROM messages WHERE id ="
    . " $doc->{message_id}")], [['notify', '8613800138000']],
    'which is the notification');
$doc = ctl_json(qw(case set-status JX2026000124 mailed --courier SF
    --tracking SF1));
is($doc->{notification}, 'opted_out', 'opted out --json');

$doc = ctl_json(qw(case show JX2026000123));
is_deeply([@{$doc}{qw(receipt_no id_number name msisdn status pickup_place)}],
    ['JX2026000123', '****002X', '张*', '138****8000', 'ready', 'Hall 2'],
    'case show --json, masked');
$doc = ctl_json(qw(case show JX2026000123 --reveal));
is_deeply([@{$doc}{qw(id_number name msisdn)}],
    ['11010519491231002X', '张三', '13800138000'], 'and --reveal');

$doc = ctl_json('import-cases', "$dir/update.csv", '--notify');
is_deeply($doc, { file => "$dir/update.csv", rows => 2, new => 0,
    updated => 2, notifications => 2, opted_out => 0 },
    'import-cases --json (both changed since)');
is(notices(), 5, 'every notification in all, once each');

done_testing;
