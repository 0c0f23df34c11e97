#!/usr/bin/env perl
# A full disk and a read-only database. While the store cannot commit,
# smsgwd must refuse every deliver_sm with ESME_RX_T_APPN (so the SMSC
# keeps the texts and delivers them again), log why, and recover by itself
# when space comes back or the file is writable again; every text then gets
# exactly one reply, and nothing it acknowledged is lost.
#
# The full disk is real: the database lives on a 4 MiB tmpfs that a filler
# file fills to the last page. Read-only is the immutable attribute
# (chattr +i) on the database and its WAL: root ignores file modes, but not
# that, and it stops write(2) even on descriptors opened before (EPERM).
# Both need root (mount, CAP_LINUX_IMMUTABLE); without them the test says
# which part cannot run. RLIMIT_FSIZE is not an alternative: past the
# limit the kernel sends SIGXFSZ, which smsgwd does not ignore, so it would
# die rather than see EFBIG.
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

my $dir = tmpdir();
my $fs = "$dir/fs";
mkdir $fs or die "$fs: $!";
my (@immutable, $mounted);
my $stopped = 0;     # smsgwd processes stopped cleanly (each unbinds)
END {
    system('chattr', '-i', $_) for grep { -e } @immutable;
    system('umount', '-l', $fs) if $mounted;
}
if (system("mount -t tmpfs -o size=4m,mode=0700 smsgwd-it $fs 2>/dev/null") == 0) {
    $mounted = 1;
} else {
    plan skip_all => 'cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN): '
        . 'no way to fill a real disk without it';
}

my $sim = start_sim(dir => $dir, args => ['--mo-window', '10', '--mo-retry-ms', '300']);
my $gw = start_gw(dir => $dir, port => $sim->port, smpp => { window => 10 },
    sections => { store => { path => "$fs/smsgwd.db" },
        limits => { per_sender_per_hour => 0 } });
ok($gw->wait_log(qr/-> bound/, 60), 'bound');

my %want;        # phone -> texts sent
my $seq = 0;
sub send_texts {
    my ($prefix, $n) = @_;
    my @phones;
    for (1 .. $n) {
        my $phone = sprintf '%s%06d', $prefix, ++$seq;
        $sim->send_mo($phone, 'HELP');
        $want{$phone}++;
        push @phones, $phone;
    }
    return @phones;
}
sub replies {
    my %got;
    $got{$_->{dst}}++ for $sim->events('message');
    return \%got;
}
sub resp_status {       # phone -> list of deliver_sm_resp statuses
    my %st;
    push @{ $st{$_->{to}} }, $_->{status} for $sim->events('deliver_sm_resp');
    return \%st;
}
sub all_answered {
    my @phones = @_;
    return SmsgwdTest::wait_until(sub {
        my $g = replies();
        !grep { !$g->{$_} } @phones;
    }, 120);
}

my @base = send_texts('13610', 5);
ok(all_answered(@base), 'texts answered before the fault');

# ---- a full disk ----------------------------------------------------------
system("dd if=/dev/zero of=$fs/filler bs=4k 2>/dev/null");
my $free = `df -k --output=avail $fs | tail -1` + 0;
is($free, 0, "the tmpfs is full ($free kB free)");
my $log_before = length $gw->log_text;

# The WAL may still have room inside pages it already holds, so a few
# batches can commit; keep sending (bounded) until the store refuses.
my @fault;
my $refused = SmsgwdTest::wait_until(sub {
    push @fault, send_texts('13620', 5) if @fault < 200;
    sleep 0.2;
    grep { $_->{status} eq 'ESME_RX_T_APPN' } $sim->events('deliver_sm_resp');
}, 120);
ok($refused, 'with the disk full, deliver_sm is refused with ESME_RX_T_APPN');
my $why = substr $gw->log_text, $log_before;
like($why, qr/not committed.*(full|space)/i, 'the log says the disk is full')
    or diag $why;
diag 'full-disk log: ' . ((grep { /not committed/ } split /\n/, $why)[0] // '-');

# While the disk stays full nothing more is acknowledged, and the SMSC
# keeps redelivering what was refused.
my @held = send_texts('13621', 10);
my $redelivered = SmsgwdTest::wait_until(sub {
    grep { $_->{attempt} >= 3 && $_->{src} eq $held[-1] } $sim->events('deliver_sm');
}, 60);
ok($redelivered, 'the SMSC redelivers the refused texts');
my $st = resp_status();
my @acked = grep { grep { $_ eq 'ESME_ROK' } @{ $st->{$_} // [] } } @held;
is(scalar @acked, 0, 'none of the texts sent during the fault was acknowledged');
ok($gw->alive, 'smsgwd keeps running on a full disk');

unlink "$fs/filler" or die "filler: $!";
ok(all_answered(@fault, @held), 'space back: every text sent during the fault is answered');
$st = resp_status();
my @ok = grep { grep { $_ eq 'ESME_ROK' } @{ $st->{$_} // [] } } @fault, @held;
is(scalar @ok, scalar(@fault) + scalar(@held), 'and acknowledged');

# Nothing acknowledged on the full disk is missing from its message log.
sub log_check {
    my ($gw, $db, $label, $prefixes) = @_;
    my $st = resp_status();
    my $acked = grep { my $p = $_; grep({ $p =~ /^$_/ } @$prefixes)
        && grep { $_ eq 'ESME_ROK' } @{ $st->{$p} } } keys %$st;
    is($gw->stop('TERM', 60), 0, "$label: clean stop");
    $stopped++;
    my $logged = `sqlite3 $db "select count(distinct msisdn) from messages where direction='in'" 2>&1`;
    is($logged + 0, $acked, "$label: every acknowledged text ($acked) is in the message log")
        or diag $logged;
    unlike($gw->log_text, qr/AddressSanitizer|runtime error/, "$label: no sanitizer report");
}
log_check($gw, "$fs/smsgwd.db", 'full disk', ['13610', '13620', '13621']);

# ---- a read-only database ----------------------------------------------------
# tmpfs ignores the immutable flag on descriptors already open (only ext4
# and the like check it in their write path), so this part keeps its
# database in the test's own folder, after a probe that the flag really
# stops a write through an open descriptor there.
my $rodir = "$dir/ro";
mkdir $rodir or die "$rodir: $!";
sub immutable_blocks_open_fd {
    my $probe = "$rodir/probe";
    open my $f, '+>', $probe or return 0;
    syswrite $f, 'a';
    system("chattr +i $probe 2>/dev/null") == 0 or return 0;
    push @immutable, $probe;
    my $w = syswrite $f, 'b';
    system('chattr', '-i', $probe);
    @immutable = ();
    return !defined $w;
}
SKIP: {
    skip 'the immutable flag does not stop writes through open descriptors on '
        . "this filesystem (or no CAP_LINUX_IMMUTABLE): no read-only database", 12
        unless immutable_blocks_open_fd();
    my $gw2 = start_gw(dir => $dir, port => $sim->port, smpp => { window => 10 },
        sections => { store => { path => "$rodir/smsgwd.db" },
            limits => { per_sender_per_hour => 0 } });
    ok($gw2->wait_log(qr/-> bound/, 60), 'read-only: bound');
    my @pre = send_texts('13631', 3);
    ok(all_answered(@pre), 'read-only: texts answered before');
    my @files = grep { -e } map { "$rodir/smsgwd.db$_" } '', '-wal';
    is(system('chattr', '+i', @files), 0, 'chattr +i on ' . join ' ', map { s{.*/}{}r } @files);
    @immutable = @files;
    my $mark = grep { $_->{status} eq 'ESME_RX_T_APPN' } $sim->events('deliver_sm_resp');
    my $log_before = length $gw2->log_text;
    my @rofault = send_texts('13630', 10);
    ok(SmsgwdTest::wait_until(sub {
        my @r = grep { $_->{status} eq 'ESME_RX_T_APPN' } $sim->events('deliver_sm_resp');
        @r > $mark }, 60), 'read-only database: deliver_sm refused with ESME_RX_T_APPN');
    my $ro_log = substr $gw2->log_text, $log_before;
    like($ro_log, qr/not committed/, 'the log says the batch was not committed')
        or diag $ro_log;
    diag 'read-only log: ' . (grep({ /not committed/ } split /\n/, $ro_log))[0] // '-';
    SmsgwdTest::wait_until(sub {
        grep { $_->{attempt} >= 3 && $_->{src} eq $rofault[-1] } $sim->events('deliver_sm');
    }, 60);
    $st = resp_status();
    @acked = grep { grep { $_ eq 'ESME_ROK' } @{ $st->{$_} // [] } } @rofault;
    is(scalar @acked, 0, 'none acknowledged while read-only');
    ok($gw2->alive, 'smsgwd keeps running');
    system('chattr', '-i', @files);
    @immutable = ();
    ok(all_answered(@rofault), 'writable again: every text answered');
    $st = resp_status();
    @ok = grep { grep { $_ eq 'ESME_ROK' } @{ $st->{$_} // [] } } @rofault;
    is(scalar @ok, scalar @rofault, 'and acknowledged');
    log_check($gw2, "$rodir/smsgwd.db", 'read-only', ['13630', '13631']);
}

# Exactly one reply per text, across both parts. Every smsgwd has stopped;
# once the simulator has reported their unbinds it has reported every
# reply they sent before.
SmsgwdTest::wait_until(sub { $sim->events('unbind') >= $stopped });
my $g = replies();
my @wrong = grep { ($g->{$_} // 0) != $want{$_} } keys %want;
is(scalar @wrong, 0, 'every text got exactly one reply')
    or diag join ' ', map { "$_:" . ($g->{$_} // 0) } @wrong[0 .. ($#wrong > 9 ? 9 : $#wrong)];
$sim->stop('TERM', 60);
done_testing;
