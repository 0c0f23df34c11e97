#!/usr/bin/env perl
# smsc-sim with a person at the terminal (make run): stdin a pseudo-terminal
# (util-linux script), real smsgwd behind it. One line per bind change, per
# citizen text (→) and per message smsgwd sends (←, with its part count and
# receipt outcome, notifications marked [notice]); Ctrl-C stops it. With
# --json the JSON event stream comes back on a terminal too, and without a
# terminal it was never gone.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Select;
use JSON::PP;
use SmsgwdTest;
use Test::More;
use Time::HiRes qw(time);

binmode Test::More->builder->$_, ':utf8'
    for qw(output failure_output todo_output);

my $dir = tmpdir();

# A program run by `script` on a fresh pseudo-terminal: what we write is
# typed at its keyboard, what it prints (stdout and stderr) we read back.
package Tty {
    our @ISA = ('SmsgwdTest::Proc');

    sub start {
        my ($class, $errfile, @argv) = @_;
        my $cmd = join ' ', 'exec', map { "'$_'" } @argv;
        my ($pid, $in, $out) = SmsgwdTest::spawn(
            ['script', '-qfec', $cmd, '/dev/null'], $errfile);
        return bless { pid => $pid, in => $in, out => $out, buf => '',
            lines => [], next => 0, errfile => $errfile }, $class;
    }

    sub type {
        my ($self, $text) = @_;
        utf8::encode($text);
        print { $self->{in} } $text;
    }

    # Reads what is there for up to $secs; lines lose the tty's \r.
    sub pump {
        my ($self, $secs) = @_;
        my $sel = IO::Select->new($self->{out});
        while ($sel->can_read($secs)) {
            my $n = sysread $self->{out}, my $chunk, 65536;
            last unless $n;
            $self->{buf} .= $chunk;
            while ($self->{buf} =~ s/^([^\n]*)\n//) {
                (my $l = $1) =~ s/\r+$//;
                utf8::decode($l);
                push @{ $self->{lines} }, $l;
            }
            $secs = 0;
        }
    }

    # The first line after the last one taken that matches $re, within $secs.
    sub wait_line {
        my ($self, $re, $secs) = @_;
        my $end = Time::HiRes::time() + ($secs // 10);
        while (1) {
            my $ls = $self->{lines};
            for my $i ($self->{next} .. $#$ls) {
                if ($ls->[$i] =~ $re) {
                    $self->{next} = $i + 1;
                    return $ls->[$i];
                }
            }
            my $left = $end - Time::HiRes::time();
            return undef if $left <= 0;
            $self->pump($left > 0.05 ? 0.05 : $left);
        }
    }

    sub text { join "\n", @{ $_[0]{lines} } }
}

# A template as a pattern: the placeholders named in $free match anything.
sub template_re {
    my ($lang, $name, $free, %vars) = @_;
    my $t = template($lang, $name, %vars, map { $_ => "\0" } @$free);
    return join '.+?', map { quotemeta } split /\0/, $t, -1;
}

my $sim_bin = build_dir() . '/smsc-sim';

# ---- phone lines ----------------------------------------------------------

my $tty = Tty->start("$dir/script.err", $sim_bin, '--listen', '127.0.0.1:0',
    '--dlr');
my $l = $tty->wait_line(qr/listening/, 10);
like($l, qr/^-- smsc-sim listening on 127\.0\.0\.1:\d+, short code 10659000$/,
    'one line says where the simulator listens')
    or BAIL_OUT("smsc-sim did not start:\n" . $tty->text);
my ($port) = $l =~ /:(\d+),/;
ok(!grep({ /^\{/ } @{ $tty->{lines} }), 'no JSON on a terminal');

my $gw = start_gw(dir => $dir, port => $port);
like($tty->wait_line(qr/bound|bind/, 10),
    qr/^-- smsgwd bound as transceiver \(link 1\)$/, 'the bind on one line')
    or do { diag $tty->text, "\n", $gw->log_text; BAIL_OUT("no bind") };
my $ctl = build_dir() . "/smsgwctl -c $gw->{conf}";
is(system("$ctl import-cases " . src_dir() . "/conf/demo-cases.csv >/dev/null 2>&1") >> 8,
    0, 'demo cases imported');

# A progress query: the text as typed, then the answer with its part count
# and the receipt's outcome; not a notice, and no full ID number in it.
$tty->type("13800138000 CX 11010519491231002X\n");
is($tty->wait_line(qr/→/, 10), '13800138000 → CX 11010519491231002X',
    'the citizen text: phone → text');
my $status = template_re('zh', 'query.status',
    [qw(id_last4 status deadline)], ref => 'JX2026000123');
my $reply = $tty->wait_line(qr/←/, 10);
like($reply, qr/^13800138000 ← $status \(1 part, delivered\)$/,
    'the reply: phone ← text (1 part, delivered)') or diag $tty->text;
unlike($reply, qr/\[notice\]/, 'an answer is not marked as a notice');
like($reply, qr/002X/, 'the ID number\'s last characters');
unlike($reply, qr/11010519491231002X/, 'no full ID number in the reply');

# A long Chinese reply is one line once every part is in.
$tty->type("13800138000 帮助\n");
ok($tty->wait_line(qr/^13800138000 → 帮助$/, 10), 'the second text');
my $help = quotemeta template('zh', 'help.list');
my $long = $tty->wait_line(qr/←/, 10);
like($long, qr/^13800138000 ← $help \((\d+) parts, delivered\)$/,
    'a concatenated reply: the whole text, then its part count')
    or diag $tty->text;
my ($nparts) = $long =~ /\((\d+) parts/;
cmp_ok($nparts // 0, '>', 1, 'more than one part');

# The case system marks a case mailed: a notification nobody asked for.
like(`$ctl case set-status JX2026000125 mailed --courier EMS --tracking EA000000001CN 2>&1`,
    qr/notification queued/, 'set-status queues a notification');
my $mailed = template_re('zh', 'notify.mailed', [], ref => 'JX2026000125',
    courier => 'EMS', tracking_no => 'EA000000001CN');
like($tty->wait_line(qr/←/, 15),
    qr/^(?:\+?86)?13700137000 ← \[notice\] $mailed \(1 part, delivered\)$/,
    'a notification is marked [notice]') or diag $tty->text;

# smsgwd stops: unbound, on one line.
is($gw->stop('TERM', 15), 0, 'smsgwd stops');
like($tty->wait_line(qr/unbound|closed/, 10),
    qr/^-- smsgwd unbound \(link 1: unbind\)$/, 'the unbind on one line');

# A text typed while nobody is bound waits, and says so.
$tty->type("13800138000 BZ\n");
is($tty->wait_line(qr/→/, 10), '13800138000 → BZ (waiting for a bind)',
    'a text without a bound smsgwd waits');

# Escape sequences and bidi overrides never reach the terminal as such.
$tty->type("13800138000 a\x1b[2Jb\x{202e}c\n");
is($tty->wait_line(qr/→/, 10),
    "13800138000 → a\x{fffd}[2Jb\x{fffd}c (waiting for a bind)",
    'control characters are shown as U+FFFD');

# Ctrl-C at the terminal: a clean exit.
$tty->type("\x03");
my $st = $tty->stop(0, 10);
is($st, 0, 'Ctrl-C: smsc-sim exits 0');
ok(!grep({ /^\{/ } @{ $tty->{lines} }), 'still no JSON line');
note "what the terminal showed:\n", $tty->text;

# ---- --json on a terminal -------------------------------------------------

my $js = Tty->start("$dir/script-json.err", $sim_bin, '--listen',
    '127.0.0.1:0', '--json');
my $json = JSON::PP->new;
$l = $js->wait_line(qr/\S/, 10);
my $ev = eval { $json->decode($l) };
is($ev && $ev->{event}, 'listening', '--json: the listening event first')
    or diag $js->text;
$js->type("13800138000 帮助\n");
$l = $js->wait_line(qr/"mo_queued"/, 10);
$ev = eval { $json->decode($l) };
is($ev && $ev->{text}, '帮助', '--json: the text as a mo_queued event');
ok(!grep({ /→/ } @{ $js->{lines} }), '--json: no phone lines');
$js->type("\x03");
is($js->stop(0, 10), 0, '--json: Ctrl-C, exit 0');

# ---- no terminal: JSON without the flag ------------------------------------

my ($pid, $in, $out) = SmsgwdTest::spawn([$sim_bin, '--listen', '127.0.0.1:0'],
    "$dir/pipe.err");
my $first;
if (IO::Select->new($out)->can_read(10)) {
    $first = <$out>;
}
$ev = $first && eval { $json->decode($first) };
is($ev && $ev->{event}, 'listening', 'stdin a pipe: JSON as before');
kill 'TERM', $pid;
waitpid $pid, 0;
is($?, 0, 'and it stops on SIGTERM');

done_testing;
