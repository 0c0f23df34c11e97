#!/usr/bin/env perl
# SIGHUP changes the carrier links under a steady load of notifications
# (issue 12): a link added binds and takes its prefix; a link removed
# unbinds and its queued messages go to the others; a link whose window
# alone changed keeps its session; a link whose host:port changed
# reconnects. Every notification is sent, once, or twice only within the
# window of a link that was removed or reconnected.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Carriers;
use SmsgwdTest;
use Test::More;

binmode STDOUT, ':utf8';
binmode STDERR, ':utf8';

my $window = 5;
# Responses lag so that every link has parts in flight at each reload.
my @simargs = ('--dlr', '--delay-ms', '40', '--no-stdin');
my $mob = start_sim(args => [@simargs]);      # mobile
# unicom is slow (a second a response, 5/s with its window of 5) against
# the 10/s its prefix gets: it has a backlog when it is removed.
my $uni = start_sim(args => ['--dlr', '--delay-ms', '1000', '--no-stdin']);
my $tel = start_sim(args => [@simargs]);      # telecom, added
my $tel2 = start_sim(args => [@simargs]);      # telecom's new address
my @sims = ($mob, $uni, $tel, $tel2);

my $dir = tmpdir();
my %conf = (dir => $dir, sections => { routing => { failover_s => 2 } });
my $gw = start_gw(%conf,
    links => [ { name => 'mobile', port => $mob->port, window => $window },
               { name => 'unicom', port => $uni->port, window => $window } ],
    routes => "139 mobile unicom\n186 unicom mobile\n* mobile unicom\n");
ok(wait_ev($mob, 'bind') && wait_ev($uni, 'bind'), 'mobile and unicom bound');

# Every wait reads all four simulators' output as it goes: a simulator
# whose stdout pipe is full stops answering.
sub wait_for {
    my ($cond, $secs) = @_;
    return wait_until(sub { $_->pump(0) for @sims; $cond->() }, $secs);
}
sub wait_log { my ($re) = @_; wait_for(sub { $gw->log_text =~ $re }) }
sub wait_ev {
    my ($sim, $type) = @_;
    my $e;
    wait_for(sub { ($e) = grep { $_->{event} eq $type } $sim->events; $e });
    return $e;
}

sub reload {
    my (%o) = @_;
    SmsgwdTest::write_conf(%conf, %o);
    kill 'HUP', $gw->pid;
}
sub got { my ($sim, $re) = @_; scalar grep { $_->{dst} =~ $re } $sim->events('message') }
sub ok_binds { my ($sim) = @_; scalar grep { $_->{status} eq 'ESME_ROK' } $sim->events('bind') }
sub link_row {
    my ($name) = @_;
    my ($r) = grep { $_->{link} eq $name } @{ ctl_json($gw, 'links') // [] };
    return $r;
}

my $feeder = start_feeder($gw, ['139', '186', '189'], 6, 30);
ok(wait_for(sub { got($mob, qr/^86139/) >= 10 && got($uni, qr/^86186/) >= 10 }),
    'under load: 139 on mobile, 186 on unicom');

# ---- 1. add telecom ---------------------------------------------------------------

my $before189 = got($mob, qr/^86189/);
cmp_ok($before189, '>', 0, '189 goes to mobile ("*") before telecom exists');
reload(links => [ { name => 'mobile', port => $mob->port, window => $window },
                  { name => 'unicom', port => $uni->port, window => $window },
                  { name => 'telecom', port => $tel->port, window => $window } ],
    routes => "139 mobile unicom telecom\n186 unicom mobile telecom\n"
        . "189 telecom mobile unicom\n* mobile unicom telecom\n");
ok(wait_log(qr/reload: link=telecom added/), 'reload: telecom added')
    or diag $gw->log_text;
my $bc = wait_ev($tel, 'bind');
is($bc && $bc->{status}, 'ESME_ROK', 'telecom binds');
ok(wait_for(sub { got($tel, qr/^86189/) >= 10 }), '189 traffic now on telecom');
is(ok_binds($mob) + ok_binds($uni), 2, 'mobile and unicom kept their sessions');
ok(!$mob->events('unbind') && !$uni->events('unbind'), 'no unbind on either');

# ---- 2. remove unicom -------------------------------------------------------------

# unicom has messages queued and in flight as it goes.
my $uni_q;
ok(wait_for(sub { $uni_q = link_row('unicom'); $uni_q && $uni_q->{queued} >= 5 }),
    'unicom has a backlog') or diag explain $uni_q;
diag "unicom before removal: queued $uni_q->{queued}, in flight $uni_q->{in_flight}"
    if $uni_q;
my $a186 = got($mob, qr/^86186/);
reload(links => [ { name => 'mobile', port => $mob->port, window => $window },
                  { name => 'telecom', port => $tel->port, window => $window } ],
    routes => "139 mobile telecom\n186 mobile telecom\n189 telecom mobile\n"
        . "* mobile telecom\n");
ok(wait_log(qr/reload: link=unicom removed: draining/), 'reload: unicom removed, draining');
ok(wait_ev($uni, 'unbind'), 'unicom unbinds');
ok(wait_for(sub { got($mob, qr/^86186/) >= $a186 + 10 }), '186 traffic now on mobile');
my @bev = $uni->events;
my ($ui) = grep { $bev[$_]{event} eq 'unbind' } 0 .. $#bev;
is(defined $ui ? scalar(grep { $_->{event} eq 'submit_sm' } @bev[$ui + 1 .. $#bev]) : -1,
    0, 'nothing submitted on unicom after its unbind');
ok(wait_for(sub { !link_row('unicom') }), 'smsgwctl links: unicom gone once it has drained and unbound')
    or diag explain ctl_json($gw, 'links');

# ---- 3. change mobile's window, move telecom ---------------------------------------

reload(links => [ { name => 'mobile', port => $mob->port, window => $window + 3 },
                  { name => 'telecom', port => $tel2->port, window => $window } ],
    routes => "139 mobile telecom\n186 mobile telecom\n189 telecom mobile\n"
        . "* mobile telecom\n");
ok(wait_log(qr/reload: link=mobile window=@{[$window + 3]}/), 'reload: mobile window changed');
ok(wait_log(qr/reload: link=telecom changed: draining/), 'reload: telecom changed');
my $bd = wait_ev($tel2, 'bind');
is($bd && $bd->{status}, 'ESME_ROK', 'telecom binds at its new address');
ok(wait_ev($tel, 'unbind'), 'and unbinds from the old one');
ok(wait_for(sub { got($tel2, qr/^86189/) >= 10 }), '189 traffic on the new telecom');
ok(wait_for(sub { (link_row('mobile') // {})->{window} == $window + 3 }),
    'smsgwctl links: mobile window ' . ($window + 3));
is(ok_binds($mob), 1, 'mobile: still its first session (no new bind)');
ok(!$mob->events('unbind') && !$mob->events('close'), 'mobile never unbound or closed');
my ($cl) = grep { $_->{link} eq 'telecom' } @{ ctl_json($gw, 'links') // [] };
is($cl && $cl->{smsc}, "127.0.0.1:" . $tel2->port, 'smsgwctl links: telecom at its new address')
    or diag explain $cl;

# ---- every message sent ----------------------------------------------------------

my @queued = $feeder->stop;
is($feeder->status, 0, 'the load ran without error');
cmp_ok(scalar @queued, '>=', 100, scalar(@queued) . ' notifications queued during the reloads');
my $n;
ok(wait_for(sub {
    $n = dst_counts(@sims);
    !grep { !$n->{intl($_)} } @queued }, 120),
    'every notification sent')
    or diag scalar(grep { !$n->{intl($_)} } @queued) . " missing\n" . $gw->log_text;
my $dups = 0;
$dups += ($n->{intl($_)} // 1) - 1 for @queued;
# A duplicate may only come from the window of unicom (removed) or the
# old telecom (changed): both had at most $window parts in flight.
cmp_ok($dups, '<=', 2 * $window, "duplicates only within the windows ($dups)");
my $extra = grep { !/^86(139|186|189)/ } keys %$n;
is($extra, 0, 'nothing sent that was not queued');
# unicom unbinds once its window has drained: the receipts for the last
# parts it accepted can no longer come, so those (its window at most) stay
# submitted, on unicom; every other one is delivered.
my ($dl, $on_uni);
ok(wait_for(sub {
    $dl = sql($gw, "select count(*) from messages where class = 'notify' and"
        . " state = 'delivered'");
    $on_uni = sql($gw, "select count(*) from messages m where class = 'notify'"
        . " and state = 'submitted' and not exists (select 1 from outbox_parts p"
        . " where p.msg_id = m.id and p.link is not 'unicom')");
    $dl + $on_uni == @queued }, 120),
    'every notification delivered, but those unicom accepted as it went')
    or diag sql($gw, "select state, count(*) from messages group by state");
cmp_ok($on_uni, '<=', $window, "unicom's last parts: $on_uni, within its window");
diag sprintf "sent: mobile %d, unicom %d, telecom %d then %d; %d duplicates",
    map({ scalar $_->events('message') } @sims), $dups;

is($gw->stop('TERM'), 0, 'clean stop');
ok(wait_ev($mob, 'unbind') && wait_ev($tel2, 'unbind'), 'both remaining links unbind');
unlike($gw->log_text, qr/AddressSanitizer|runtime error/, 'no sanitizer report');
$_->stop('TERM') for @sims;
done_testing;
