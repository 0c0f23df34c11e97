#!/usr/bin/env perl
# SIGHUP while texts are flowing: a good patterns file (a new keyword) takes
# effect, a broken one is rejected with file:line and the running set stays;
# the SMPP session is never dropped and every text gets its reply.
use strict;
use warnings;
use utf8;
use File::Copy qw(copy);
use FindBin;
use lib "$FindBin::Bin/lib";
use SmsgwdTest;
use Test::More;

my $dir = tmpdir();
copy(src_dir() . '/conf/patterns.conf', "$dir/patterns.conf") or die;
my $n = 300;
open my $mo, '>', "$dir/mo.txt" or die;
printf $mo "1380000%04d BZ\n", $_ for 1 .. $n;
close $mo;
my $sim = start_sim(dir => $dir, args => ['--inject', "$dir/mo.txt",
    '--delay-ms', '5']);
my $gw = start_gw(dir => $dir, port => $sim->port,
    sections => { parsers => { patterns => "$dir/patterns.conf" } });
ok($sim->wait_type('bind', 60), 'bound');

# A new keyword, ZT, for help; reload while the flood is on.
open my $f, '>>', "$dir/patterns.conf" or die;
print $f "help zh ^ZT\$\n";
close $f;
kill 'HUP', $gw->pid;
ok($gw->wait_log(qr/reload: patterns and templates replaced/, 60), 'good file loaded');
$sim->send_mo('13900000001', 'ZT');
my $m = $sim->wait_event(sub { $_[0]{event} eq 'message' && $_[0]{dst} eq '13900000001' }, 60);
is($m && $m->{text}, template('zh', 'help.list'), 'the new keyword works at once');

# A broken file: rejected, the running patterns stay.
open $f, '>>', "$dir/patterns.conf" or die;
print $f "query zh ^CX(?<id>\n";
close $f;
my $lines = () = do { open my $g, '<', "$dir/patterns.conf" or die; <$g> };
kill 'HUP', $gw->pid;
ok($gw->wait_log(qr/reload: patterns or templates rejected/, 60), 'broken file rejected');
like($gw->log_text, qr/\Qpatterns.conf\E:$lines: .*(missing|paren)/i, 'with file:line');
$sim->send_mo('13900000002', 'ZT');
$m = $sim->wait_event(sub { $_[0]{event} eq 'message' && $_[0]{dst} eq '13900000002' }, 60);
is($m && $m->{text}, template('zh', 'help.list'), 'the running patterns still answer');

my %to;
ok(SmsgwdTest::wait_until(sub {
    %to = ();
    $to{$_->{dst}}++ for $sim->events('message');
    keys %to >= $n + 2 }, 180), 'every text answered');
is(scalar(grep { /^1380000/ } keys %to), $n, "all $n flood texts got their reply");
my @binds = $sim->events('bind');
is(scalar @binds, 1, 'the SMPP session was never dropped');
is($gw->stop('TERM', 60), 0, 'clean stop');
$sim->stop('TERM', 60);
done_testing;
