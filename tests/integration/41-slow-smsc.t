#!/usr/bin/env perl
# A slow SMSC (every response 2 s late) and an SMSC that never answers
# submit_sm: the window caps what is in flight, timeouts retry, and smsgwd's
# memory stays bounded while 200 replies and notifications wait; when a
# normal SMSC takes over the same port, every one of them is delivered.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use SmsgwdTest;
use Test::More;

# A simulator that dies must fail the test, not kill it with SIGPIPE before
# the END blocks clean up (processes, mounts).
$SIG{PIPE} = "IGNORE";
use Time::HiRes qw(time sleep);

my ($window, $mo_window) = (10, 10);
my ($nnotify, $ntexts) = (100, 100);

sub rss_kb {
    my ($pid) = @_;
    open my $f, '<', "/proc/$pid/status" or return;
    my ($kb) = join('', <$f>) =~ /^VmRSS:\s+(\d+)/m;
    return $kb;
}

# The bound on growth while the 200 wait: each queued message costs the
# send queue well under 2 KiB (row, text, segments), the window caps PDUs
# in flight at $window, and the SQLite page cache is capped by cache_size
# (2 MiB by default per connection). 200 x 2 KiB + 2 MiB + 2 MiB of
# allocator slack: 4.5 MiB; we allow 6 MiB above the idle, bound process.
# An unbounded queue of PDUs or of retries would pass that quickly: the
# no-answer phase re-sends for 15 s.
my $bound_kb = 6 * 1024;

# Under AddressSanitizer freed blocks wait in a quarantine (256 MiB by
# default) and every allocation carries redzones and shadow: cap the
# quarantine at 4 MiB and allow the same budget three times over (redzones
# and shadow roughly double each block; the quarantine adds its 4 MiB).
my $asan = `grep -c __asan_init ${\ build_dir()}/smsgwd 2>/dev/null` + 0 > 0;
if ($asan) {
    $ENV{ASAN_OPTIONS} = join ':', grep { length } $ENV{ASAN_OPTIONS} // '',
        'quarantine_size_mb=4';
    $bound_kb *= 3;
}

# At most $window submits are outstanding, and a slot is reused only when
# its response comes ($period s later: the SMSC's delay) or its response
# timeout ends (later still): so in $secs seconds at most this many go out.
# Measured rather than assumed, the elapsed time keeps the bound right on
# a loaded machine, where every step takes longer.
sub paced {
    my ($secs, $period) = @_;
    return $window * (1 + int($secs / $period));
}

sub phase {
    my ($label, $sim_args, $prefix, $period) = @_;
    my $dir = tmpdir();
    open my $csv, '>', "$dir/cases.csv" or die;
    print $csv "receipt_no,id_number,name,msisdn,status,submitted_at,courier,tracking_no\n";
    printf $csv "%s%05d,11010519491231002X,Test,1350%d%06d,mailed,2026-10-01,EMS,T%05d\n",
        $prefix, $_, length $prefix, $_, $_ for 1 .. $nnotify;
    close $csv;
    my $sim = start_sim(dir => $dir, args => [@$sim_args, '--mo-window', $mo_window]);
    my $port = $sim->port;
    my $t_start = time;
    my $gw = start_gw(dir => $dir, port => $port,
        smpp => { window => $window, response_timeout_s => 3 });
    ok($gw->wait_log(qr/-> bound/, 60), "$label: bound");
    my $idle = rss_kb($gw->pid);
    my $ctl = build_dir() . "/smsgwctl -c $gw->{conf}";
    is(system("$ctl import-cases --notify $dir/cases.csv >/dev/null 2>&1") >> 8, 0,
        "$label: $nnotify notifications queued");
    my %want;
    $want{sprintf '861350%d%06d', length $prefix, $_} = 1 for 1 .. $nnotify;
    for (1 .. $ntexts) {
        my $phone = sprintf '1360%07d', $_;
        $sim->send_mo($phone, 'HELP');
        $want{$phone} = 1;
    }
    ok(SmsgwdTest::wait_until(sub {
        (grep { $_->{status} eq 'ESME_ROK' } $sim->events('deliver_sm_resp'))
            >= $ntexts }, 120), "$label: all $ntexts texts acknowledged");

    # 15 s of the slow or silent SMSC: in flight never above the window,
    # memory under the bound.
    # Within the first $period s no response can have come (2 s late, or
    # never): what has been sent is what is outstanding. Later, each
    # response or timeout frees one slot (paced above).
    my $early = () = $sim->events('submit_sm');
    my $early_bound = paced(time - $t_start, $period);
    cmp_ok($early, '<=', $early_bound,
        "$label: outstanding ($early) within the window ($early_bound so far)");
    my ($peak, $end) = ($idle, time + 15);
    while (time < $end) {
        my $kb = rss_kb($gw->pid) // last;
        $peak = $kb if $kb > $peak;
        sleep 0.25;
    }
    my @sub = $sim->events('submit_sm');
    my $watched = time - $t_start;
    my @msg = $sim->events('message');
    cmp_ok($peak, '<=', $idle + $bound_kb,
        "$label: peak RSS $peak kB <= idle $idle kB + $bound_kb kB");
    ok($gw->alive, "$label: smsgwd still running");
    diag sprintf "%s: idle %d kB, peak %d kB, %d submit_sm seen, %d accepted in 15 s",
        $label, $idle, $peak, scalar @sub, scalar @msg;

    # A normal SMSC takes over the port.
    my %got;
    $got{$_->{dst}}++ for @msg;
    my $old = $sim->stop('TERM', 60);
    my $sim2 = start_sim(dir => $dir, args => ['--listen', "127.0.0.1:$port",
        '--no-stdin']);
    is($sim2->port, $port, "$label: normal SMSC on the same port");
    my $done = SmsgwdTest::wait_until(sub {
        my %g = %got;
        $g{$_->{dst}}++ for $sim2->events('message');
        !grep { !$g{$_} } keys %want;
    }, 180);
    ok($done, "$label: every reply and notification delivered after the switch");
    $got{$_->{dst}}++ for $sim2->events('message');
    my $missing = grep { !$got{$_} } keys %want;
    is($missing, 0, "$label: nothing lost");
    my $dups = 0;
    $dups += $_ - 1 for values %got;
    cmp_ok($dups, '<=', $window, "$label: duplicates ($dups) within the window");
    is(`sqlite3 $gw->{db} "select count(*) from messages where state='queued'"` + 0,
        0, "$label: nothing left queued");
    is($gw->stop('TERM', 60), 0, "$label: clean stop");
    unlike($gw->log_text, qr/AddressSanitizer|runtime error/, "$label: no sanitizer report");
    $sim2->stop('TERM', 60);
    return (\@sub, $gw, $watched);
}

my ($sub, $gw, $secs) = phase('slow SMSC', ['--delay-ms', '2000'], 'SL', 2);
# 2 s per response and a window of 10: about 5 submits a second, never a
# burst above the window.
cmp_ok(scalar @$sub, '<=', paced($secs, 2),
    sprintf('slow: the window paces the submits (%.1f s)', $secs));

($sub, $gw, $secs) = phase('silent SMSC', ['--no-resp'], 'NR', 3);
# Nothing is ever answered: the first $window go out; each response
# timeout (3 s) frees the window for the next $window (the timed-out ones
# wait for their retry, 1 s doubling). So at most $window per 3 s.
cmp_ok(scalar @$sub, '>', $window, 'silent: timed-out submits were sent again');
cmp_ok(scalar @$sub, '<=', paced($secs, 3),
    sprintf('silent: ... at most a window per response timeout (%.1f s)', $secs));
like($gw->log_text, qr/RESPONSE_TIMEOUT|timeout/, 'silent: the timeouts are logged');
done_testing;
