#!/usr/bin/env perl
# bind = pair: one transmitter and one receiver connection; texts come in on
# the receiver, replies leave on the transmitter, and a stop unbinds both.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use SmsgwdTest;
use Test::More;

my $sim = start_sim();
my $gw = start_gw(port => $sim->port, smpp => { bind => 'pair' });
my %modes;
SmsgwdTest::wait_until(sub {
    $modes{$_->{mode}} = $_->{status} for $sim->events('bind');
    keys %modes == 2;
}, 60);
is($modes{transmitter}, 'ESME_ROK', 'transmitter bound');
is($modes{receiver}, 'ESME_ROK', 'receiver bound');

$sim->send_mo('13800138000', '进度 JX2026000123');
my $m = $sim->wait_type('message', 60);
is($m && $m->{text}, template('zh', 'query.privacy'), 'reply via the transmitter');

is($gw->stop('TERM', 60), 0, 'clean stop');
my @unbinds = $sim->events('unbind');
is(scalar @unbinds, 2, 'both links unbound');
$sim->stop('TERM', 60);
done_testing;
