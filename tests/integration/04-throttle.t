#!/usr/bin/env perl
# Throttling: the SMSC answers a fifth of the submit_sm at random with
# ESME_RTHROTTLED; smsgwd pauses and resends (daemon/rate learns the rate),
# and every reply arrives exactly once. Then
# max_tps: 30 replies at max_tps = 10 cannot arrive faster than the cap.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SmsgwdTest;
use Test::More;
use Time::HiRes qw(time);

sub inject {
    my ($dir, $n, $tag) = @_;
    open my $f, '>', "$dir/mo-$tag.txt" or die;
    printf $f "1390013%04d %s %d\n", $_, $tag, $_ for 1 .. $n;
    close $f;
    return "$dir/mo-$tag.txt";
}

sub collect {
    my ($sim, $n) = @_;
    my %got;
    SmsgwdTest::wait_until(sub {
        $got{$_->{dst}}++ for grep { !$_->{seen}++ } $sim->events('message');
        keys %got >= $n;
    }, 120);
    return \%got;
}

{
    my $dir = tmpdir();
    my $sim = start_sim(dir => $dir, args => ['--inject', inject($dir, 30, 'thr'),
        '--throttle', '0.2', '--no-stdin']);
    my $gw = start_gw(port => $sim->port, smpp => { window => 4 });
    my $got = collect($sim, 30);
    is(scalar keys %$got, 30, 'all 30 replies arrive despite throttling');
    ok(!grep({ $_ != 1 } values %$got), 'each sender answered exactly once');
    my @thr = grep { $_->{status} eq 'ESME_RTHROTTLED' } $sim->events('submit_sm');
    cmp_ok(scalar @thr, '>=', 6, 'the SMSC throttled some submits');
    like($gw->log_text, qr/outcome status=ESME_RTHROTTLED \(will retry\)/,
        'smsgwd retries a throttled submit');
    is($gw->stop('TERM', 60), 0, 'clean stop');
    $sim->stop('TERM', 60);
}

{
    my $dir = tmpdir();
    my $sim = start_sim(dir => $dir, args => ['--inject', inject($dir, 30, 'tps'),
        '--no-stdin']);
    my $gw = start_gw(port => $sim->port, smpp => { window => 30, max_tps => 10 });
    my $t0 = time;
    my $got = collect($sim, 30);
    my $secs = time - $t0;
    is(scalar keys %$got, 30, 'all 30 replies at max_tps = 10');
    # The bucket holds one token at this rate: 30 submits need >= 2.9 s.
    cmp_ok($secs, '>=', 2.5, sprintf('not faster than the cap (%.2f s)', $secs));
    is($gw->stop('TERM', 60), 0, 'clean stop');
    $sim->stop('TERM', 60);
}
done_testing;
