#!/usr/bin/env perl
# The SMSC drops the link in the middle of a stream of texts. smsgwd binds
# again, and every text still gets its reply: what the SMSC never saw
# acknowledged it delivers again, and what smsgwd had in flight it resends.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SmsgwdTest;
use Test::More;

my $n = 40;
my $dir = tmpdir();
open my $f, '>', "$dir/mo.txt" or die;
printf $f "1380013%04d drop test %d\n", $_, $_ for 1 .. $n;
close $f;

# The first connection is cut after it has received 25 PDUs (the bind,
# deliver_sm_resps and submit_sm all count).
my $sim = start_sim(dir => $dir, args => ['--inject', "$dir/mo.txt",
    '--drop-after', '25', '--drop-once', '--no-stdin']);
my $gw = start_gw(port => $sim->port, smpp => { window => 5 });

my %got;
SmsgwdTest::wait_until(sub {
    $got{$_->{dst}}++ for grep { !$_->{seen}++ } $sim->events('message');
    keys %got == $n;
}, 120);
is(scalar keys %got, $n, "all $n texts answered across the drop");
my @binds = grep { $_->{status} eq 'ESME_ROK' } $sim->events('bind');
cmp_ok(scalar @binds, '>=', 2, 'smsgwd bound again after the drop');
ok($gw->wait_log(qr/dropped: connection closed by SMSC/, 60), 'the drop is logged');
my $hint = template('zh', 'unknown.hint');
ok(!grep({ $_->{text} ne $hint } $sim->events('message')), 'each reply is the hint');
is($gw->stop('TERM', 60), 0, 'clean stop');
unlike($gw->log_text, qr/AddressSanitizer|runtime error/, 'no sanitizer report');
$sim->stop('TERM', 60);
done_testing;
