#!/usr/bin/env perl
# A soak: mixed citizens' traffic (queries for imported cases from the
# registered phone and from others, help, garbage) and notifications
# (smsgwctl case set-status, import-cases --notify) through a hostile SMSC
# (the link dropped every few thousand PDUs, 10% of submits throttled), a
# SIGHUP reload at a fixed period and one kill -9 + restart half-way.
# Every inbound text gets its reply and every notification arrives; the
# duplicates stay within what the delivery promise allows; RSS stays flat.
#
# SMSGWD_SOAK_SECONDS sets the length of the traffic phase (default 120,
# the CI version); the reload period is 60 s from 10 minutes up, else 10 s.
# SMSGWD_SOAK_REPORT=FILE writes the figures as key=value lines.
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

my $secs = $ENV{SMSGWD_SOAK_SECONDS} // 120;
$secs =~ /^\d+$/ && $secs >= 30 or die "SMSGWD_SOAK_SECONDS: at least 30\n";
my $reload_every = $secs >= 600 ? 60 : 10;
my $rate = 40;                       # citizens' texts per second
my $drop_after = $secs >= 600 ? 4000 : 2000;
my ($window, $mo_window) = (10, 10);
my $ncases = 2000;
my $start_date = `date -u +%Y-%m-%dT%H:%M:%SZ`; chomp $start_date;

# Under AddressSanitizer freed memory sits in a quarantine (256 MiB by
# default) before it is reused, so RSS climbs for minutes whatever the
# daemon does; a small quarantine keeps the flatness check meaningful and
# still catches use-after-free of recent blocks.
my $bin = build_dir() . '/smsgwd';
my $asan = `grep -c __asan_init $bin 2>/dev/null` + 0 > 0;
$ENV{ASAN_OPTIONS} = join ':', grep { length } $ENV{ASAN_OPTIONS} // '',
    'quarantine_size_mb=4' if $asan;

my $dir = tmpdir();
open my $csv, '>', "$dir/cases.csv" or die;
print $csv "receipt_no,id_number,name,msisdn,status,submitted_at,courier,tracking_no\n";
printf $csv "SK%05d,11010519491231002X,Test,1350%07d,mailed,2026-10-01,EMS,T%05d\n",
    $_, $_, $_ for 1 .. $ncases;
close $csv;

my $sim = start_sim(dir => $dir, args => ['--drop-after', $drop_after,
    '--throttle', '0.1', '--mo-window', $mo_window]);
my %smpp = (window => $window);
my %sect = (limits => { per_sender_per_hour => 0 });
my $gw = start_gw(dir => $dir, port => $sim->port, smpp => \%smpp, sections => \%sect);
my $ctl = build_dir() . "/smsgwctl -c $gw->{conf}";
is(system("$ctl import-cases $dir/cases.csv >/dev/null 2>&1") >> 8, 0,
    "$ncases cases imported");
ok($gw->wait_log(qr/-> bound/, 60), 'bound');

# What we expect per destination address, and what the SMSC got. Events are
# consumed as they come so that a long run keeps the harness's memory flat.
my (%want, %got, %stat);
sub consume {
    $sim->pump(0);
    my $evs = $sim->{events};
    while (my $e = shift @$evs) {
        my $t = $e->{event};
        if ($t eq 'message') { $got{$e->{dst}}++; $stat{messages}++ }
        elsif ($t eq 'submit_sm') {
            $stat{throttled}++ if $e->{status} eq 'ESME_RTHROTTLED';
            $stat{submits}++;
        }
        elsif ($t eq 'close') { $stat{drops}++ if $e->{reason} eq 'drop-after' }
        elsif ($t eq 'deliver_sm') { $stat{deliver_sm}++ }
        elsif ($t eq 'unbind') { $stat{unbinds}++ }
        elsif ($t eq 'deliver_sm_resp') {
            $stat{"deliver_sm_resp $e->{status}"}++;
        }
    }
}

my ($n, $case_i, $notify_i, $texts, $notes) = (0, 0, 0, 0, 0);
my @status = (['ready', '--place', 'Station'], ['mailed', '--courier', 'SF',
    '--tracking', 'X1']);
sub one_text {
    $n++;
    my $kind = $n % 10;
    my ($phone, $text);
    if ($kind < 6) {            # a query from the registered phone
        my $c = ($case_i++ % $ncases) + 1;
        ($phone, $text) = (sprintf('1350%07d', $c), sprintf('CX SK%05d', $c));
    } elsif ($kind < 8) {       # a query from some other phone: privacy reply
        my $c = ($n % $ncases) + 1;
        ($phone, $text) = (sprintf('1380%07d', $n), sprintf('查询 SK%05d', $c));
    } elsif ($kind == 8) {
        ($phone, $text) = (sprintf('1390%07d', $n), $n % 20 < 10 ? 'HELP' : '帮助');
    } else {
        ($phone, $text) = (sprintf('1370%07d', $n), "zq$n blah ~~ ??x");
    }
    $sim->send_mo($phone, $text);
    $want{$phone}++;
    $texts++;
}

# Notifications: a status change every 2 s, cycling through the cases
# (ready on the first round, mailed on the next, ...); the notice goes to
# 86<msisdn> (international form), replies to <msisdn>, so they count apart.
sub one_notify {
    my $c = ($notify_i % $ncases) + 1;
    my $st = $status[int($notify_i / $ncases) % 2];
    $notify_i++;
    my $r = system(sprintf('%s case set-status SK%05d %s >/dev/null 2>&1',
        $ctl, $c, join ' ', @$st)) >> 8;
    if ($r == 0) { $want{sprintf '861350%07d', $c}++; $notes++ }
    else { $stat{set_status_failed}++ }
}

my (@rss, $killed, $imported);
my $t0 = time;
my ($next_text, $next_note, $next_hup, $next_rss) = ($t0, $t0 + 2,
    $t0 + $reload_every, $t0 + 2);
my $proc_no = 1;
my $gw_start = $t0;
while ((my $now = time) < $t0 + $secs) {
    if ($now >= $next_text) {
        one_text() for 1 .. $rate / 10;
        $next_text += 0.1;
    }
    if ($now >= $next_note) { one_notify(); $next_note += 2 }
    if ($now >= $next_hup) {
        kill 'HUP', $gw->pid;
        $stat{reloads}++;
        $next_hup += $reload_every;
    }
    if ($now >= $next_rss) {
        if (open my $f, '<', "/proc/" . $gw->pid . "/status") {
            my ($kb) = join('', <$f>) =~ /^VmRSS:\s+(\d+)/m;
            push @rss, [$proc_no, $now - $gw_start, $kb] if $kb;
        }
        $next_rss += $secs >= 600 ? 10 : 2;
    }
    if (!$imported && $now >= $t0 + $secs / 3) {
        open my $f, '>', "$dir/new.csv" or die;
        print $f "receipt_no,id_number,name,msisdn,status,submitted_at,pickup_place\n";
        printf $f "SN%05d,11010519491231002X,Test,1360%07d,ready,2026-10-01,Hall\n",
            $_, $_ for 1 .. 200;
        close $f;
        is(system("$ctl import-cases --notify $dir/new.csv >/dev/null 2>&1") >> 8,
            0, '200 new cases imported with --notify');
        $want{sprintf '861360%07d', $_}++ for 1 .. 200;
        $notes += 200;
        $imported = 1;
    }
    if (!$killed && $now >= $t0 + $secs / 2) {
        ok($gw->alive, 'smsgwd alive before the kill');
        $gw->kill9;
        $gw = start_gw(dir => $dir, port => $sim->port, smpp => \%smpp,
            sections => \%sect);
        $killed = 1;
        $proc_no = 2;
        $gw_start = time;
        # SIGHUP's default action kills: give it a whole period to install
        # its handler (it takes milliseconds).
        $next_hup = $gw_start + $reload_every;
    }
    consume();
    sleep 0.005;
}
my $sent_phase = time - $t0;

# Drain: everything owed must arrive, bounded.
my $drained = SmsgwdTest::wait_until(sub {
    consume();
    for (keys %want) { return 0 if ($got{$_} // 0) < $want{$_} }
    1;
}, 120 + $secs / 10);
ok($drained, "every reply and notification arrived ($texts texts, $notes notifications)");
# Late duplicates count too: stop smsgwd, and once the simulator has
# reported its unbind it has reported everything sent before it.
is($gw->stop('TERM', 60), 0, 'clean stop');
ok(SmsgwdTest::wait_until(sub { consume(); ($stat{unbinds} // 0) >= 1 }),
    'the simulator saw the unbind');

my ($missing, $dups) = (0, 0);
for (keys %want) { my $d = ($got{$_} // 0) - $want{$_}; $d < 0 ? ($missing -= $d) : ($dups += $d) }
$dups += $got{$_} for grep { !exists $want{$_} } keys %got;
is($missing, 0, 'nothing lost');
my $drops = $stat{drops} // 0;
# Each link loss (a drop or the kill) can duplicate the submits in flight
# (the window) and the texts committed but not yet acknowledged (the SMSC's
# deliver_sm window), whose replies are sent again on redelivery.
my $bound = ($drops + 1) * ($window + $mo_window);
cmp_ok($dups, '<=', $bound, "duplicates ($dups) within (drops $drops + 1 kill) x "
    . "(window $window + SMSC window $mo_window) = $bound");
cmp_ok($drops, '>=', 2, "the link was dropped $drops times");
cmp_ok($stat{throttled} // 0, '>=', $stat{submits} / 20,
    "throttled $stat{throttled} of $stat{submits} submits");
is(`sqlite3 $gw->{db} "select count(*) from messages where state='queued'"` + 0,
    0, 'nothing left queued');

# RSS flat: per process, the highest of its last third of samples is not
# above the highest of its first third (after 10 s of warm-up) by more than
# the margin. The margin covers what may legitimately still grow after the
# warm-up: SQLite's page cache (cache_size default, 2 MiB per connection)
# filling as the tables grow, the WAL index (-shm, mapped), and the
# allocator's slack (glibc arenas, about 1 MiB): 6 MiB. In the 2-minute
# version this catches gross leaks only (60 s x 40 texts/s x 2.5 KiB would
# exceed it); in the 30-minute run it means less than about 100 bytes per
# message.
my $margin_kb = 6 * 1024;
for my $p (1, 2) {
    my @s = grep { $_->[0] == $p && $_->[1] >= 10 } @rss;
    next unless @s >= 6;
    my $third = int(@s / 3);
    my ($early) = sort { $b <=> $a } map { $_->[2] } @s[0 .. $third - 1];
    my ($late) = sort { $b <=> $a } map { $_->[2] } @s[$#s - $third + 1 .. $#s];
    cmp_ok($late, '<=', $early + $margin_kb,
        "process $p: RSS late $late kB <= early $early kB + $margin_kb kB");
}

my $rss_line = join ' ', map { sprintf '%d:%ds=%dkB', @$_ } @rss;
my %fig = (date => $start_date, seconds => sprintf('%.0f', $sent_phase),
    texts => $texts, notifications => $notes, messages => $stat{messages} // 0,
    submits => $stat{submits} // 0, throttled => $stat{throttled} // 0,
    drops => $drops, reloads => $stat{reloads} // 0, kills => 1,
    duplicates => $dups, missing => $missing, bound => $bound,
    refused => $stat{'deliver_sm_resp ESME_RX_T_APPN'} // 0,
    deliver_sm => $stat{deliver_sm} // 0, asan => $asan ? 1 : 0,
    rss => $rss_line);
diag join ' ', map { "$_=$fig{$_}" } grep { $_ ne 'rss' } sort keys %fig;
diag "rss (process:age=VmRSS) $rss_line";
if (my $rf = $ENV{SMSGWD_SOAK_REPORT}) {
    open my $f, '>', $rf or die "$rf: $!";
    print $f "$_=$fig{$_}\n" for sort keys %fig;
    close $f;
}

unlike($gw->log_text, qr/AddressSanitizer|runtime error/, 'no sanitizer report');
$sim->stop('TERM', 60);
done_testing;
