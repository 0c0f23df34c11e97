#!/usr/bin/env perl
# A bulk of notifications through a hostile SMSC: the link is dropped every
# 80 PDUs and a fifth of all submits are throttled. Every notification is
# delivered; none is lost.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SmsgwdTest;
use Test::More;

my $n = 200;
my $dir = tmpdir();
open my $csv, '>', "$dir/cases.csv" or die;
print $csv "receipt_no,id_number,name,msisdn,status,submitted_at,courier,tracking_no\n";
printf $csv "BF%05d,11010519491231002X,Test,1370000%04d,mailed,2026-10-01,SF,S%05d\n",
    $_, $_, $_ for 1 .. $n;
close $csv;

my $sim = start_sim(dir => $dir, args => ['--no-stdin', '--drop-after', '80',
    '--throttle', '0.2']);
my $gw = start_gw(dir => $dir, port => $sim->port, smpp => { window => 10 });
my $ctl = build_dir() . "/smsgwctl -c $gw->{conf}";
is(system("$ctl import-cases --notify $dir/cases.csv >/dev/null 2>&1") >> 8, 0,
    "$n notifications queued");
my %to;
ok(SmsgwdTest::wait_until(sub {
    %to = ();
    $to{$_->{dst}}++ for $sim->events('message');
    keys %to >= $n }, 180), 'all delivered');
is(scalar keys %to, $n, "$n distinct phones got their notice");
my $drops = grep { $_->{reason} eq 'drop-after' } $sim->events('close');
cmp_ok($drops, '>=', 2, "the link was dropped $drops times");
my $thr = grep { $_->{status} eq 'ESME_RTHROTTLED' } $sim->events('submit_sm');
cmp_ok($thr, '>=', $n / 10, "$thr submits were throttled");
my $dups = 0;
$dups += $_ - 1 for values %to;
diag "$drops drops, $thr throttled, $dups duplicates";
is(`sqlite3 $gw->{db} "select count(*) from messages where class='notify' and state='queued'"` + 0,
    0, 'no notification left queued');
is($gw->stop('TERM', 60), 0, 'clean stop');
unlike($gw->log_text, qr/AddressSanitizer|runtime error/, 'no sanitizer report');
$sim->stop('TERM', 60);
done_testing;
