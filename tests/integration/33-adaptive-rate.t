#!/usr/bin/env perl
# The carrier's real rate (issue 12): smsgwd with max_tps = 0 against an
# SMSC that throttles everything above a cap, and against one that refuses
# a share of submits at random (ESME_RTHROTTLED and ESME_RMSGQFUL). Every
# reply arrives exactly once, the link learns a rate (smsgwd_link_rate,
# smsgwctl links) and stays near the cap. The speed figures are benchmarks
# (bench/rate.sh, docs/BENCHMARKS.md), not asserted here.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Carriers;
use SmsgwdTest;
use Test::More;

my $n = 300;

sub inject {
    my ($dir, $tag) = @_;
    open my $f, '>', "$dir/mo-$tag.txt" or die;
    printf $f "1390013%04d HELP\n", $_ for 1 .. $n;
    close $f;
    return "$dir/mo-$tag.txt";
}

# Every sender answered, each exactly once.
sub all_once {
    my ($sim) = @_;
    my %got;
    wait_until(sub {
        %got = ();
        $got{$_->{dst}}++ for $sim->events('message');
        keys %got >= $n;
    }, 180);
    return (scalar keys %got, scalar grep { $_ != 1 } values %got);
}

for my $case (['a cap of 100/s', ['--max-tps', '100']],
    ['20% throttled and 10% queue-full at random',
        ['--throttle', '0.2', '--msgqfull', '0.1']]) {
    my ($name, $faults) = @$case;
    my $dir = tmpdir();
    my $hport = free_port();
    spew("$dir/api.token", "rate-token-0123456789\n");
    chmod 0600, "$dir/api.token";
    my $sim = start_sim(dir => $dir, args => ['--inject', inject($dir, 'r'),
        '--no-stdin', @$faults]);
    my $gw = start_gw(dir => $dir,
        links => [ { name => 'mobile', port => $sim->port, window => 32,
            max_tps => 0 } ],
        sections => { limits => { per_sender_per_hour => 0 },
            http => { listen => "127.0.0.1:$hport",
                token_file => "$dir/api.token" } });
    my ($senders, $dups) = all_once($sim);
    is($senders, $n, "$name: every text answered");
    is($dups, 0, "$name: each exactly once");
    my @refused = grep { ($_->{status} // '') =~ /THROTTLED|MSGQFUL/ }
        $sim->events('submit_sm');
    cmp_ok(scalar @refused, '>', 0, "$name: the SMSC refused some submits")
        or diag $sim->log_text;
    my $m = Carriers::metrics($hport);
    cmp_ok($m->{'smsgwd_link_throttled_total{link="mobile"}'} // 0, '>', 0,
        "$name: counted per link");
    if ($name =~ /cap/) {
        my $rate;
        ok(wait_until(sub {
            $m = Carriers::metrics($hport);
            $rate = $m->{'smsgwd_link_rate{link="mobile"}'} // 0;
            $rate > 0 }, 60), "$name: the link learned a rate");
        cmp_ok($rate, '<=', 130, "$name: near the cap ($rate/s)");
        # The links table is written every few seconds.
        ok(wait_until(sub {
            my $links = ctl_json($gw, 'links');
            $links && ($links->[0]{rate} // 0) > 0 }, 60),
            "$name: smsgwctl links shows the learned rate");
    }
    is($gw->stop('TERM'), 0, "$name: clean stop");
    $sim->stop('TERM');
}
done_testing;
