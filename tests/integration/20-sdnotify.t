#!/usr/bin/env perl
# The systemd notify protocol, over a NOTIFY_SOCKET the test owns: READY=1
# once started (bound or not), STATUS= with the bind state, WATCHDOG=1 pings
# when WATCHDOG_USEC is set, RELOADING=1 then READY=1 around a SIGHUP, and
# STOPPING=1 on SIGTERM.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Select;
use IO::Socket::UNIX;
use Socket qw(SOCK_DGRAM);
use SmsgwdTest;
use Test::More;
use Time::HiRes qw(time);

my $dir = tmpdir();
my $path = "$dir/notify.sock";
my $sock = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $path)
    or die "notify socket: $!";
my @msgs;
sub wait_msg {
    my ($re, $secs) = @_;
    my $end = time + $secs;
    while (1) {
        for my $i (0 .. $#msgs) {
            return splice(@msgs, $i, 1) if $msgs[$i] =~ $re;
        }
        my $left = $end - time;
        return undef if $left <= 0;
        next unless IO::Select->new($sock)->can_read($left);
        $sock->recv(my $buf, 4096);
        push @msgs, split /\n/, $buf;
    }
}

# No SMSC yet: READY=1 must not wait for a bind.
my $port = free_port();
local $ENV{NOTIFY_SOCKET} = $path;
local $ENV{WATCHDOG_USEC} = 1_000_000;
my $gw = start_gw(dir => $dir, port => $port);
ok(wait_msg(qr/^READY=1$/, 60), 'READY=1 without a bind (a carrier outage is not a failed unit)');
ok(wait_msg(qr/^STATUS=SMSC 127\.0\.0\.1:\d+: connecting$/, 60), 'STATUS says it is connecting');
ok(wait_msg(qr/^WATCHDOG=1$/, 60), 'watchdog pings');
ok(wait_msg(qr/^WATCHDOG=1$/, 60), 'and keeps pinging');

kill 'HUP', $gw->pid;
ok(wait_msg(qr/^RELOADING=1$/, 60), 'RELOADING=1 on SIGHUP');
ok(wait_msg(qr/^READY=1$/, 60), 'READY=1 after the reload');

kill 'TERM', $gw->pid;
ok(wait_msg(qr/^STOPPING=1$/, 60), 'STOPPING=1 on SIGTERM');
is($gw->stop('TERM', 60), 0, 'exit 0');

# With an SMSC: the bind state shows in STATUS.
my $sim = start_sim();
my $gw2 = start_gw(dir => $dir, port => $sim->port);
ok(wait_msg(qr/^STATUS=SMSC 127\.0\.0\.1:\d+: link trx bound$/, 60), 'STATUS: link trx bound');
$sim->stop('TERM', 60);
ok(wait_msg(qr/^STATUS=SMSC 127\.0\.0\.1:\d+: link trx not bound$/, 60), 'STATUS: not bound when the SMSC goes');
is($gw2->stop('TERM', 60), 0, 'exit 0');
done_testing;
