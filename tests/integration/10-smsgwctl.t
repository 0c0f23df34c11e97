#!/usr/bin/env perl
# smsgwctl import-cases and case show against a real database: a good file,
# a file with bad rows (all reported, nothing imported), upserts, RFC 4180
# quoting, masking, a 100,000-row file, and a write lock held by another
# process (smsgwd) while importing.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use POSIX ();
use SmsgwdTest;
use Test::More;
use Time::HiRes qw(time);

my $build = $ENV{SMSGWD_BUILD} // 'build';
my $bin = "$build/smsgwctl";
-x $bin or die "no $bin: run make first";
my $dir = tmpdir();
my $db = "$dir/cases.db";
my $conf = "$dir/smsgwd.conf";

spew($conf, "[smpp]\nsystem_id = smsgwd\nsource_addr = 10659000\n"
    . "[store]\npath = $db\n");

# Runs smsgwctl -c $conf @args; returns (exit code, stdout, stderr).
sub ctl { return run_ctl($conf, $dir, @_) }

sub cases {
    my $n = `sqlite3 $db 'SELECT count(*) FROM cases'`;
    chomp $n;
    return $n;
}

# A valid resident ID number (GB 11643-1999 check character).
sub id_number {
    my ($region, $birth, $seq) = @_;
    my @w = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2);
    my $s = sprintf '%06d%08d%03d', $region, $birth, $seq;
    my $sum = 0;
    $sum += substr($s, $_, 1) * $w[$_] for 0 .. 16;
    return $s . substr('10X98765432', $sum % 11, 1);
}

my ($rc, $out, $err);

# ---- a good file --------------------------------------------------------

spew("$dir/good.csv", <<'EOF');
receipt_no,id_number,name,msisdn,status,submitted_at,courier,tracking_no
R0001,11010519491231002x,张三,+8613800138000,mailed,2024-03-01,EMS,E12345
r0002,440524188001010014,李四,13900139000,accepted,2024-02-29,,
R0003,440524188001010014,李四,008613900139000,reviewing,2024-05-02,,
EOF
($rc, $out, $err) = ctl('import-cases', "$dir/good.csv");
is($rc, 0, 'a good file imports') or diag $err;
is($out, "imported 3 cases (3 new, 0 updated)\n", 'and says how many');
is($err, '', 'quietly (stderr is not a terminal: no progress bar)');
is(cases(), 3, 'three rows in the database');

($rc, $out) = ctl('case', 'show', 'R0001');
is($rc, 0, 'case show by receipt');
like($out, qr/^receipt_no:\s+R0001$/m, 'receipt number');
like($out, qr/^id_number:\s+\*\*\*\*002X$/m, 'ID number masked');
like($out, qr/^name:\s+张\*$/m, 'name masked');
like($out, qr/^msisdn:\s+138\*\*\*\*8000$/m, 'msisdn masked, national form');
like($out, qr/^status:\s+mailed$/m, 'status');
like($out, qr/^tracking_no:\s+E12345$/m, 'tracking number');
unlike($out, qr/11010519491231002X|张三|13800138000/, 'nothing personal leaks');
my @cols = map { index($_, ':') + 1 + length((/:(\s+)/)[0]) } split /\n/, $out;
is(scalar(keys %{{ map { $_ => 1 } @cols }}), 1, 'values are aligned');

($rc, $out) = ctl('case', 'show', 'R0001', '--reveal');
like($out, qr/^id_number:\s+11010519491231002X$/m,
    '--reveal: the whole ID number (canonical X)');
like($out, qr/^name:\s+张三$/m, '--reveal: the name');
like($out, qr/^msisdn:\s+13800138000$/m, '--reveal: the msisdn');

($rc, $out) = ctl('case', 'show', 'r0002');
like($out, qr/^receipt_no:\s+R0002$/m, 'receipts are upper-cased');

($rc, $out) = ctl('case', 'show', '440524188001010014');
is($rc, 0, 'case show by ID number');
like($out, qr/^receipt_no:\s+R0003$/m, 'gives the latest case');
like($out, qr/^msisdn:\s+139\*\*\*\*9000$/m, '0086 prefix stripped');

($rc, $out, $err) = ctl('case', 'show', 'NOPE');
is($rc, 1, 'an unknown key exits 1');
like($err, qr/no case for 'NOPE'/, 'and says so');
($rc, $out, $err) = ctl('case', 'show', '110105194912310037');
like($err, qr/no case for \*\*\*\*0037/, 'an ID-shaped key is masked');

# ---- bad rows: every one reported, nothing imported -----------------------

spew("$dir/bad.csv", <<'EOF');
receipt_no,id_number,name,msisdn,status,submitted_at
NEW1,11010519491231002X,王五,13700137000,accepted,2024-01-01
NEW2,110105194912310029,王五,13700137000,shipped,2024-01-01
NEW3,11010519491231002X,王五,13700137000,ready,2024-01-02
NEW4,11010519491231002X,,13700137000,ready,2023-02-29
EOF
($rc, $out, $err) = ctl('import-cases', "$dir/bad.csv");
is($rc, 1, 'a file with bad rows exits 1');
my ($l3, $l5) = map { "$dir/bad.csv:$_: " } 3, 5;
like($err, qr/^\Q$l3\Eid_number \*{4}0029: .*; status 'shipped' is not one/m,
    'line 3 with every reason');
like($err, qr/^\Q$l5\Ename is empty; submitted_at '2023-02-29' is not a/m,
    'line 5 with every reason');
is(scalar(() = $err =~ /^\S+\.csv:\d+: /mg), 2, 'exactly the two bad rows');
like($err, qr/2 bad rows; nothing imported/, 'a summary');
is($out, '', 'nothing on stdout');
is(cases(), 3, 'nothing imported');
is((ctl('case', 'show', 'NEW1'))[0], 1, 'not even the good rows');

spew("$dir/hdr.csv", "receipt_no,id_number,name,msisdn,status,when\n");
($rc, $out, $err) = ctl('import-cases', "$dir/hdr.csv");
is($rc, 1, 'a bad header exits 1');
like($err, qr{hdr\.csv:1: unknown column 'when'}, 'unknown column');
like($err, qr{hdr\.csv:1: missing column 'submitted_at'}, 'missing column');

# ---- upsert ----------------------------------------------------------------

spew("$dir/update.csv", <<'EOF');
status,submitted_at,receipt_no,id_number,name,msisdn
collected,2024-03-01,R0001,11010519491231002X,张三,13800138000
ready,2024-06-01,R0004,11010519491231002X,张三,13800138000
EOF
($rc, $out, $err) = ctl('import-cases', "$dir/update.csv");
is($rc, 0, 're-import') or diag $err;
is($out, "imported 2 cases (1 new, 1 updated)\n", 'one new, one updated');
is(cases(), 4, 'one more row');
($rc, $out) = ctl('case', 'show', 'R0001');
like($out, qr/^status:\s+collected$/m, 'the status is updated');
like($out, qr/^courier:\s+EMS$/m,
    'a column the file does not have keeps its value');

# ---- RFC 4180: quotes, commas, doubled quotes, CRLF, BOM --------------------

spew("$dir/quoted.csv", "\xEF\xBB\xBF"
    . "receipt_no,id_number,name,msisdn,status,submitted_at,pickup_place,"
    . "reason\r\n"
    . "Q1,11010519491231002X,\"Wang, Wu\",13800138000,ready,2024-01-05,"
    . "\"Hall 3, \"\"East\"\" gate\",\r\n"
    . "Q2,11010519491231002X,\"O\"\"Neil\",13800138000,rejected,2024-01-06,,"
    . "\"photo: blurry, retake\"\r\n");
($rc, $out, $err) = ctl('import-cases', "$dir/quoted.csv");
is($rc, 0, 'quoted fields import') or diag $err;
($rc, $out) = ctl('case', 'show', 'Q1', '--reveal');
like($out, qr/^name:\s+Wang, Wu$/m, 'comma inside quotes');
like($out, qr/^pickup_place:\s+Hall 3, "East" gate$/m, 'doubled quotes');
($rc, $out) = ctl('case', 'show', 'Q2', '--reveal');
like($out, qr/^name:\s+O"Neil$/m, 'a doubled quote inside a word');
like($out, qr/^reason:\s+photo: blurry, retake$/m, 'the last field, CRLF');

# ---- another process holds the write lock: import waits for it ------------

# The writer holds the lock until the test says so (the file "release"),
# not for a fixed time that a loaded machine could use up before the
# import starts. A helper lets go 0.5 s after the import starts (well
# inside its 5 s busy_timeout), so the import cannot finish before that.
open my $sql, '|-', 'sqlite3', $db or die "sqlite3: $!";
print $sql "BEGIN IMMEDIATE;\nINSERT INTO optouts VALUES ('13000000000', 1);\n"
    . ".shell touch $dir/locked\n"
    . ".shell while [ ! -e $dir/release ]; do sleep 0.05; done\nCOMMIT;\n";
$sql->flush;
ok(wait_until(sub { -e "$dir/locked" }, 60), 'another writer holds the lock');
my $t0 = time;
my $releaser = fork // die "fork: $!";
if ($releaser == 0) {
    select undef, undef, undef, 0.5;
    open my $r, '>', "$dir/release" or POSIX::_exit(1);
    POSIX::_exit(0);
}
($rc, $out, $err) = ctl('import-cases', "$dir/good.csv");
waitpid $releaser, 0;
is($rc, 0, 'import waits for it (busy_timeout) and succeeds') or diag $err;
ok(time - $t0 > 0.3, 'it did wait');
close $sql;
is($? >> 8, 0, 'the other writer committed too');

# ---- 100,000 rows ---------------------------------------------------------

my @status = qw(accepted reviewing producing mailed ready collected rejected
    appointment);
open my $big, '>', "$dir/big.csv" or die;
print $big "receipt_no,id_number,name,msisdn,status,submitted_at,tracking_no\n";
for my $i (1 .. 100_000) {
    printf $big "B%07d,%s,Name %d,1%010d,%s,2024-%02d-%02d,%s\n", $i,
        id_number(440524, 19800101 + $i % 28, $i % 1000), $i,
        3_000_000_000 + $i, $status[$i % 8], 1 + $i % 12, 1 + $i % 28,
        $i % 8 == 3 ? "T$i" : '';
}
close $big;
my $before = cases();
($rc, $out, $err) = ctl('import-cases', "$dir/big.csv");
is($rc, 0, '100,000 rows import') or diag $err;
is($out, "imported 100000 cases (100000 new, 0 updated)\n", 'all of them');
is(cases(), $before + 100_000, 'and they are in the database');
($rc, $out) = ctl('case', 'show', 'B0099999');
like($out, qr/^status:\s+$status[99999 % 8]$/m, 'the last one is right');

# ---- usage ------------------------------------------------------------------

($rc, $out, $err) = ctl('frobnicate');
is($rc, 2, 'an unknown command exits 2');
like($err, qr/unknown command 'frobnicate'/, 'and says which');
like($err, qr/^usage: smsgwctl/m, 'with the usage');
($rc, $out, $err) = ctl('import-cases');
is($rc, 2, 'a missing argument exits 2');
($rc, $out) = ctl('--help');
is($rc, 0, '--help exits 0');
like($out, qr/^  import-cases FILE\.csv \[--notify\] \[--json\]$/m,
    'and lists import-cases');
like($out, qr/^  case show KEY \[--reveal\] \[--json\]$/m, 'and case show');

done_testing;
