package SmsgwdTest;
# Integration-test harness: starts the real binaries (smsgwd, smsc-sim) on
# free loopback ports, waits for conditions with deadlines (never a bare
# sleep), and on exit kills only the processes it started, by PID.
use strict;
use warnings;
use Exporter 'import';
use Encode ();
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(:sys_wait_h _exit);
use Test::Builder;
use Time::HiRes qw(time sleep);

our @EXPORT = qw(build_dir free_port start_sim start_gw tmpdir wait_until
    template src_dir spew slurp run_ctl);

my @started;     # every child PID, for the END block

# A child that dies must not kill the test through a write to its pipe:
# the END block below has to run and stop what we started.
$SIG{PIPE} = 'IGNORE';
# Interrupted (Ctrl-C, a runner's timeout): still run END and clean up.
$SIG{$_} = sub { exit 128 } for qw(INT TERM HUP);
my $json = JSON::PP->new->utf8;

# Test names and diagnostics hold Chinese text (the tests are `use utf8`):
# Test::More's own handles (duplicates of STDOUT and STDERR made when it
# loads, so a test's binmode STDOUT does not reach them) print characters
# as UTF-8 rather than warn "Wide character in print". :utf8 is a flag, not
# a stacked layer, so a test that sets it again changes nothing.
binmode Test::Builder->new->$_, ':utf8'
    for qw(output failure_output todo_output);

# Deadlines. A deadline only costs time when the test is failing anyway, so
# the waits are generous: a loaded CI machine can stall a process for
# seconds. WAIT is the default of every wait below.
our $WAIT = 60;

# Writes text to file (UTF-8 if it holds characters); dies on failure.
sub spew {
    my ($file, $text) = @_;
    open my $f, '>:raw', $file or die "$file: $!";
    utf8::encode($text) if utf8::is_utf8($text);
    print $f $text;
    close $f;
}

# A file's contents, decoded from UTF-8 ('' if it cannot be read).
sub slurp {
    my ($file) = @_;
    open my $f, '<:encoding(UTF-8)', $file or return '';
    local $/;
    return scalar <$f>;
}

# Runs smsgwctl -c CONF ARGS with its output in DIR/out and DIR/err;
# returns (exit code, stdout, stderr).
sub run_ctl {
    my ($conf, $dir, @args) = @_;
    my $bin = build_dir() . '/smsgwctl';
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', "$dir/out" or _exit(126);
        open STDERR, '>', "$dir/err" or _exit(126);
        utf8::is_utf8($_) and utf8::encode($_) for @args;
        exec $bin, '-c', $conf, @args or _exit(127);
    }
    waitpid $pid, 0;
    return ($? >> 8, slurp("$dir/out"), slurp("$dir/err"));
}

sub build_dir {
    my $d = $ENV{SMSGWD_BUILD} // 'build';
    -x "$d/smsgwd" or die "no $d/smsgwd: run make first";
    return $d;
}

sub tmpdir { tempdir('smsgwd-it-XXXXXX', TMPDIR => 1, CLEANUP => 1) }

# The repository root (the tests live in tests/integration).
sub src_dir {
    require File::Basename;
    require Cwd;
    return Cwd::abs_path(File::Basename::dirname(__FILE__) . '/../../..');
}

# The text of a reply template from conf/templates.conf, placeholders
# filled from %vars: template('zh', 'query.mailed', courier => 'EMS').
my %templates;
sub template {
    my ($lang, $name, %vars) = @_;
    unless (%templates) {
        open my $f, '<:encoding(UTF-8)', src_dir() . '/conf/templates.conf'
            or die "templates.conf: $!";
        my $sect = '';
        while (<$f>) {
            chomp;
            next if /^\s*(#|;|$)/;
            if (/^\[(\w+)\]/) { $sect = $1; next }
            $templates{$sect}{$1} = $2 if /^\s*([\w.]+)\s*=\s*(.*?)\s*$/;
        }
    }
    my $t = $templates{$lang}{$name} // die "no template $lang $name";
    $t =~ s/\{(\w+)\}/$vars{$1} \/\/ ''/ge;
    return $t;
}

# A port the kernel just handed out on 127.0.0.1 and released.
sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
        Proto => 'tcp', Listen => 1, ReuseAddr => 1) or die "socket: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

# Polls $cond every 20 ms until it returns true or $secs pass.
sub wait_until {
    my ($cond, $secs) = @_;
    my $end = time + ($secs // $WAIT);
    while (time < $end) {
        my $r = $cond->();
        return $r if $r;
        sleep 0.02;
    }
    return;
}

# fork + exec with stdin (pipe), stdout (pipe) and stderr (file).
sub spawn {
    my ($argv, $errfile) = @_;
    pipe(my $in_r, my $in_w) or die "pipe: $!";
    pipe(my $out_r, my $out_w) or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<&', $in_r or _exit(126);
        open STDOUT, '>&', $out_w or _exit(126);
        open STDERR, '>>', $errfile or _exit(126);
        close $in_w; close $out_r;
        exec @$argv or _exit(127);
    }
    close $in_r; close $out_w;
    $in_w->autoflush(1);
    push @started, $pid;
    return ($pid, $in_w, $out_r);
}

END {
    my $rc = $?;
    for my $pid (@started) {
        next unless kill 0, $pid;
        kill 'KILL', $pid;
        waitpid $pid, 0;
    }
    $? = $rc;
}

# ---- a running process --------------------------------------------------

package SmsgwdTest::Proc;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(time sleep);

sub pid { $_[0]{pid} }

sub alive {
    my ($self) = @_;
    return 0 if defined $self->{status};
    my $r = waitpid $self->{pid}, WNOHANG;
    if ($r == $self->{pid}) { $self->{status} = $?; return 0 }
    return 1;
}

# Sends a signal and waits (bounded) for the exit. Returns the wait status,
# or undef if it did not exit in time.
sub stop {
    my ($self, $sig, $secs) = @_;
    return $self->{status} unless $self->alive;
    kill $sig // 'TERM', $self->{pid};
    my $end = time + ($secs // $SmsgwdTest::WAIT);
    while (time < $end) {
        return $self->{status} unless $self->alive;
        sleep 0.02;
    }
    return undef;
}

sub kill9 {
    my ($self) = @_;
    kill 'KILL', $self->{pid};
    waitpid $self->{pid}, 0;
    $self->{status} = $?;
}

# The log so far, decoded from UTF-8 (so that a pattern holding Chinese
# text, in a test that is `use utf8`, can match it at all).
sub log_text {
    my ($self) = @_;
    open my $f, '<:raw', $self->{errfile} or return '';
    local $/;
    my $bytes = <$f> // '';
    return Encode::decode('UTF-8', $bytes);
}

sub wait_log {
    my ($self, $re, $secs) = @_;
    return SmsgwdTest::wait_until(sub { $self->log_text =~ $re }, $secs);
}

# ---- smsc-sim -------------------------------------------------------------

package SmsgwdTest::Sim;
our @ISA = ('SmsgwdTest::Proc');
use IO::Select;
use Time::HiRes qw(time);

# Reads whatever stdout has for up to $secs and parses the JSON lines.
sub pump {
    my ($self, $secs) = @_;
    my $sel = IO::Select->new($self->{out});
    while ($sel->can_read($secs // 0)) {
        my $n = sysread $self->{out}, my $chunk, 65536;
        last unless $n;
        $self->{buf} .= $chunk;
        while ($self->{buf} =~ s/^([^\n]*)\n//) {
            my $ev = eval { $json->decode($1) };
            push @{ $self->{events} }, $ev if $ev;
        }
        $secs = 0;
    }
}

sub events {
    my ($self, $type) = @_;
    $self->pump(0);
    return grep { !defined $type || $_->{event} eq $type } @{ $self->{events} };
}

# The first event not yet taken that $match accepts, within $secs.
sub wait_event {
    my ($self, $match, $secs) = @_;
    my $end = time + ($secs // $SmsgwdTest::WAIT);
    while (1) {
        my $evs = $self->{events};
        for my $i ($self->{taken} // 0 .. $#$evs) {
            next if $self->{used}{$i};
            if ($match->($evs->[$i])) {
                $self->{used}{$i} = 1;
                return $evs->[$i];
            }
        }
        my $left = $end - time;
        return undef if $left <= 0;
        $self->pump($left > 0.05 ? 0.05 : $left);
    }
}

sub wait_type {
    my ($self, $type, $secs) = @_;
    return $self->wait_event(sub { $_[0]{event} eq $type }, $secs);
}

# A citizen's text typed into the simulator: "<phone> <text>".
sub send_mo {
    my ($self, $phone, $text) = @_;
    my $line = "$phone $text\n";
    utf8::encode($line) if utf8::is_utf8($line);
    print { $self->{in} } $line;
}

sub port { $_[0]{port} }

# ---- package-level starters -----------------------------------------------

package SmsgwdTest;

# start_sim(args => [...]): waits for the "listening" line.
sub start_sim {
    my (%o) = @_;
    my $dir = $o{dir} // tmpdir();
    my $errfile = "$dir/sim.err";
    my @argv = (build_dir() . '/smsc-sim', '--json', '--listen', '127.0.0.1:0',
        @{ $o{args} // [] });
    my ($pid, $in, $out) = spawn(\@argv, $errfile);
    my $sim = bless { pid => $pid, in => $in, out => $out, buf => '',
        events => [], errfile => $errfile, dir => $dir }, 'SmsgwdTest::Sim';
    my $l = $sim->wait_type('listening', $WAIT)
        or die "smsc-sim did not start:\n" . $sim->log_text;
    $sim->{port} = $l->{port};
    return $sim;
}

# start_gw(port => N, smpp => {key => value}): writes a config and starts
# smsgwd -c on it in the foreground, logging to a file. response_timeout_s
# is 15 unless a test sets it: on a loaded machine a response can take
# seconds, and a timeout would resend (a duplicate reply) where the test
# is not about timeouts.
#
# Several carriers: links => [ { name => 'mobile', port => N, key => value },
# ... ] writes one [smsc NAME] section per link, in that order, with the
# defaults of [smpp] below, instead of [smpp]; routes => TEXT writes
# DIR/routes.conf and [routing] routes = that file (failover_s and other
# [routing] keys through sections). write_conf takes the same options and
# only (re)writes the config, for a test that then sends SIGHUP.
sub start_gw {
    my (%o) = @_;
    my $dir = $o{dir} // tmpdir();
    my ($conf, $db) = write_conf(%o, dir => $dir);
    my $errfile = "$dir/smsgwd.log";
    my ($pid, $in, $out) = spawn([build_dir() . '/smsgwd', '-c', $conf,
        @{ $o{args} // [] }], $errfile);
    close $out;
    return bless { pid => $pid, in => $in, errfile => $errfile,
        conf => $conf, dir => $dir, db => $db },
        'SmsgwdTest::Proc';
}

# write_conf(dir => DIR, ...start_gw's options): writes DIR/smsgwd.conf
# (and DIR/routes.conf with routes); returns the config's path and the
# database's.
sub write_conf {
    my (%o) = @_;
    my $dir = $o{dir} // die 'write_conf: no dir';
    my %link_defaults = (host => '127.0.0.1', system_id => 'smsgwd',
        password => 'secret', source_addr => '10659000',
        enquire_link_s => 30, response_timeout_s => 15,
        reconnect_min_s => 1, reconnect_max_s => 2);
    my %smpp = (%link_defaults, port => $o{port}, %{ $o{smpp} // {} });
    my %sections = (
        store => { path => "$dir/smsgwd.db" },
        parsers => { patterns => src_dir() . '/conf/patterns.conf' },
        templates => { path => src_dir() . '/conf/templates.conf' },
        limits => { per_sender_per_hour => 100 },
        http => { listen => '' },
    );
    for my $sec (keys %{ $o{sections} // {} }) {
        $sections{$sec}{$_} = $o{sections}{$sec}{$_} for keys %{ $o{sections}{$sec} };
    }
    if (defined $o{routes}) {
        spew("$dir/routes.conf", $o{routes});
        $sections{routing}{routes} = "$dir/routes.conf";
    }
    my $conf = "$dir/smsgwd.conf";
    # Written whole to a temporary file, then renamed: a reload never
    # reads half a file.
    open my $f, '>:encoding(UTF-8)', "$conf.new" or die "$conf.new: $!";
    if ($o{links}) {
        for my $l (@{ $o{links} }) {
            my %k = (%link_defaults, %$l);
            # A CMPP link: enquire_link_s is an SMPP key (an error there);
            # active_test_s is its CMPP counterpart.
            delete $k{enquire_link_s}
                if ($k{protocol} // '') =~ /^cmpp/ && !exists $l->{enquire_link_s};
            my $name = delete $k{name} // die 'a link without a name';
            print $f "[smsc $name]\n";
            print $f "$_ = $k{$_}\n" for sort keys %k;
        }
    } else {
        print $f "[smpp]\n";
        print $f "$_ = $smpp{$_}\n" for sort keys %smpp;
    }
    for my $sec (sort keys %sections) {
        print $f "[$sec]\n";
        print $f "$_ = $sections{$sec}{$_}\n" for sort keys %{ $sections{$sec} };
    }
    print $f $o{extra} if $o{extra};
    close $f or die "$conf.new: $!";
    rename "$conf.new", $conf or die "$conf: $!";
    return ($conf, $sections{store}{path});
}

1;
