#!/usr/bin/env perl
# The delivery promise under kill -9: 300 notifications and 250 citizens'
# texts, smsgwd killed with submits in flight, started again. Every reply
# and every notification reaches the SMSC; duplicates are bounded by what
# can be in flight (the submit window plus the SMSC's deliver_sm window).
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use SmsgwdTest;
use Test::More;

my ($ncases, $ntexts, $window, $mo_window) = (300, 250, 10, 10);
my $dir = tmpdir();
open my $csv, '>', "$dir/cases.csv" or die;
print $csv "receipt_no,id_number,name,msisdn,status,submitted_at,courier,tracking_no\n";
printf $csv "KC%05d,11010519491231002X,Test,1350000%04d,mailed,2026-10-01,EMS,T%05d\n",
    $_, $_, $_ for 1 .. $ncases;
close $csv;
open my $mo, '>', "$dir/mo.txt" or die;
printf $mo "1360000%04d hello %d\n", $_, $_ for 1 .. $ntexts;
close $mo;

# Slow answers keep the window full; the texts start as soon as we bind.
my $sim = start_sim(dir => $dir, args => ['--inject', "$dir/mo.txt", '--no-stdin',
    '--delay-ms', '15', '--mo-window', $mo_window]);
my %smpp = (window => $window);
my %sect = (limits => { per_sender_per_hour => 100 });
my $gw = start_gw(dir => $dir, port => $sim->port, smpp => \%smpp, sections => \%sect);
my $ctl = build_dir() . "/smsgwctl -c $gw->{conf}";
is(system("$ctl import-cases --notify $dir/cases.csv >/dev/null 2>&1") >> 8, 0,
    "$ncases cases imported with notifications");

ok(SmsgwdTest::wait_until(sub { $sim->events('message') >= 150 }, 90),
    'under way: 150 messages received');
$gw->kill9;
my $at_kill = () = $sim->events('message');
cmp_ok($at_kill, '<', $ncases + $ntexts, "killed mid-stream ($at_kill sent)");

my $gw2 = start_gw(dir => $dir, port => $sim->port, smpp => \%smpp, sections => \%sect);
my (%seen, $total);
my $done = SmsgwdTest::wait_until(sub {
    %seen = ();
    $seen{"$_->{dst} $_->{text}"}++ for $sim->events('message');
    keys %seen >= $ncases + $ntexts;
}, 180);
ok($done, 'every message arrived after the restart');
my @n = grep { /^861350000/ } keys %seen;
my @r = grep { /^1360000/ } keys %seen;
is(scalar @n, $ncases, "all $ncases notifications");
is(scalar @r, $ntexts, "all $ntexts replies");
my $dups = 0;
$dups += $_ - 1 for values %seen;
cmp_ok($dups, '<=', $window + $mo_window,
    "duplicates ($dups) within the window ($window) + the SMSC's window ($mo_window)");
diag "kill -9 after $at_kill messages: $dups duplicates";
is($gw2->stop('TERM', 60), 0, 'clean stop after the restart');
unlike($gw2->log_text, qr/AddressSanitizer|runtime error/, 'no sanitizer report');
$sim->stop('TERM', 60);
done_testing;
