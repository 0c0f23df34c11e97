#!/usr/bin/env perl
# make install into a DESTDIR: every file in its place, an operator's edited
# config kept (the new one beside it as .dist), the installed smsgwd checks
# the installed config, the man pages render without a groff warning and
# cover every config key, command and option, systemd-analyze verifies the
# unit and scores its sandbox; make uninstall removes what install put.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SmsgwdTest qw(build_dir src_dir tmpdir);   # its own slurp and spew below
use POSIX ();
use Test::More;

my $build = build_dir();
my $src = src_dir();
my $tmp = tmpdir();

# Tools the checks need. make test installs them (tools/deps.sh); if one
# is still missing, install it the same way rather than skip a check.
my @tools = qw(make groff man systemd-analyze timeout);
sub missing { grep { system("command -v $_ >/dev/null 2>&1") != 0 } @tools }
system("$src/tools/deps.sh") if missing();
my @missing = missing();
BAIL_OUT("missing tools (@missing): run 'make deps' as root") if @missing;

# Runs a command (a list, no shell); returns exit status, stdout, stderr.
sub run {
    my (@cmd) = @_;
    my ($out, $err) = ("$tmp/run.out", "$tmp/run.err");
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null' or POSIX::_exit(126);
        open STDOUT, '>', $out or POSIX::_exit(126);
        open STDERR, '>', $err or POSIX::_exit(126);
        exec @cmd or POSIX::_exit(127);
    }
    waitpid $pid, 0;
    my $rc = $? >> 8;
    return ($rc, slurp($out), slurp($err));
}

sub slurp {
    open my $f, '<', $_[0] or return '';
    local $/;
    return scalar <$f>;
}

sub spew {
    my ($path, $text) = @_;
    open my $f, '>', $path or die "$path: $!";
    print $f $text;
    close $f or die "$path: $!";
}

sub make_in {
    my ($target, %vars) = @_;
    return run('make', '-C', $src, '--no-print-directory', $target,
        "BUILD=$build", map { "$_=$vars{$_}" } sort keys %vars);
}

# ---- make install PREFIX=/usr ---------------------------------------------

my $root = "$tmp/root";
my ($rc, $out, $err) = make_in('install', DESTDIR => $root, PREFIX => '/usr');
is($rc, 0, 'make install DESTDIR=... PREFIX=/usr succeeds') or diag $out, $err;

my %files = (
    'usr/sbin/smsgwd'                   => 0755,
    'usr/sbin/smsgwctl'                 => 0755,
    'lib/systemd/system/smsgwd.service' => 0644,
    'usr/lib/sysusers.d/smsgwd.conf'    => 0644,
    'usr/share/man/man8/smsgwd.8'       => 0644,
    'usr/share/man/man8/smsgwctl.8'     => 0644,
    'usr/share/man/man5/smsgwd.conf.5'  => 0644,
    'etc/smsgwd/smsgwd.conf'            => 0644,
    'etc/smsgwd/patterns.conf'          => 0644,
    'etc/smsgwd/templates.conf'         => 0644,
);
for my $f (sort keys %files) {
    my @st = stat "$root/$f";
    ok(@st, "installed: /$f") or next;
    is(sprintf('%04o', $st[2] & 07777), sprintf('%04o', $files{$f}),
        "  mode $files{$f}") if @st;
}
ok(!-e "$root/usr/sbin/smsc-sim" && !-e "$root/usr/bin/smsc-sim",
    'smsc-sim (a test tool) is not installed');
is(slurp("$root/etc/smsgwd/patterns.conf"), slurp("$src/conf/patterns.conf"),
    'patterns.conf is the shipped one');
is(slurp("$root/etc/smsgwd/templates.conf"), slurp("$src/conf/templates.conf"),
    'templates.conf is the shipped one');

my $conf = slurp("$root/etc/smsgwd/smsgwd.conf");
like($conf, qr{^path = /var/lib/smsgwd/smsgwd\.db$}m, 'the store is in /var/lib/smsgwd');
like($conf, qr{^patterns = /etc/smsgwd/patterns\.conf$}m, 'patterns in /etc/smsgwd');
like($conf, qr{^path = /etc/smsgwd/templates\.conf$}m, 'templates in /etc/smsgwd');
unlike($conf, qr{^password\s*=}m, 'no password in the installed config');

my $unit = slurp("$root/lib/systemd/system/smsgwd.service");
like($unit, qr{^Type=notify$}m, 'Type=notify');
like($unit, qr{^ExecStartPre=/usr/sbin/smsgwd -c /etc/smsgwd/smsgwd\.conf --check-config$}m,
    'ExecStartPre runs --check-config');
like($unit, qr{^ExecStart=/usr/sbin/smsgwd -c /etc/smsgwd/smsgwd\.conf$}m,
    'ExecStart runs the installed binary in the foreground');
like($unit, qr{^ExecReload=/bin/kill -HUP \$MAINPID$}m, 'reload is SIGHUP');
like($unit, qr{^WatchdogSec=30$}m, 'WatchdogSec=30');
like($unit, qr{^StateDirectory=smsgwd$}m, 'StateDirectory=smsgwd');
unlike($unit, qr{^MemoryDenyWriteExecute=yes}m,
    'no MemoryDenyWriteExecute (PCRE2 JIT needs W+X memory)');

# Each secret the config reads from /run/credentials is one the unit loads.
my %cred = $unit =~ m{^LoadCredential=([\w.-]+):(\S+)$}mg;
is_deeply([sort keys %cred], ['api-token', 'smpp-password'],
    'LoadCredential= for the SMPP password and the API token');
for my $key (qw(password_file token_file)) {
    my ($name) = $conf =~ m{^$key = /run/credentials/smsgwd\.service/([\w.-]+)$}m;
    ok(defined $name && exists $cred{$name},
        "$key is a credential the unit loads") or diag $conf;
}

# ---- reinstall: identical files are left alone, edited ones kept ----------

($rc, $out, $err) = make_in('install', DESTDIR => $root, PREFIX => '/usr');
is($rc, 0, 'make install again succeeds') or diag $out, $err;
my @dist = glob("$root/etc/smsgwd/*.dist");
is(scalar @dist, 0, 'nothing edited: no .dist file');

my $edited = $conf;
$edited =~ s/^window = 10$/window = 20/m or die 'no window line';
$edited .= "# edited by the operator\n";
spew("$root/etc/smsgwd/smsgwd.conf", $edited);
($rc, $out, $err) = make_in('install', DESTDIR => $root, PREFIX => '/usr');
is($rc, 0, 'make install over an edited config succeeds') or diag $out, $err;
is(slurp("$root/etc/smsgwd/smsgwd.conf"), $edited, 'the edit survives');
is(slurp("$root/etc/smsgwd/smsgwd.conf.dist"), $conf,
    'the new version is installed beside it as smsgwd.conf.dist');
like($out, qr{smsgwd\.conf has local changes: kept; the new version is \S+smsgwd\.conf\.dist},
    'and make install says so');
ok(!-e "$root/etc/smsgwd/patterns.conf.dist", 'unedited files get no .dist');

# ---- the installed smsgwd checks the installed config ---------------------

# Paths moved into the temporary root; the secrets as plain files.
my $state = "$tmp/state";
mkdir $state or die "$state: $!";
spew("$tmp/smpp-password", "s3cr3t\n");
spew("$tmp/api.token", "0123456789abcdef\n");
(my $copy = $edited) =~ s{/etc/smsgwd/}{$root/etc/smsgwd/}g;
$copy =~ s{/var/lib/smsgwd/}{$state/}g;
$copy =~ s{/run/credentials/smsgwd\.service/smpp-password}{$tmp/smpp-password};
$copy =~ s{/run/credentials/smsgwd\.service/api-token}{$tmp/api.token};
spew("$tmp/check.conf", $copy);
($rc, $out, $err) = run("$root/usr/sbin/smsgwd", '-c', "$tmp/check.conf",
    '--check-config');
is($rc, 0, 'installed smsgwd --check-config passes on the installed config')
    or diag $out, $err;
like($out, qr/configuration OK/, 'and says so');
($rc, $out, $err) = run("$root/usr/sbin/smsgwctl", '-c', "$tmp/check.conf",
    'stats');
is($rc, 0, 'installed smsgwctl opens the store the config names') or diag $out, $err;
ok(-e "$state/smsgwd.db", 'the database is created there');

# ---- man pages -------------------------------------------------------------

my %man = map { ($_ => "$root/usr/share/man/man" . substr($_, -1) . "/$_") }
    qw(smsgwd.8 smsgwctl.8 smsgwd.conf.5);
$ENV{LC_ALL} = 'C.UTF-8';
$ENV{MANWIDTH} = 80;
for my $page (sort keys %man) {
    ($rc, $out, $err) = run('groff', '-ww', '-z', '-mandoc', $man{$page});
    ok($rc == 0 && $err eq '', "$page: groff -ww -z -mandoc gives no warning")
        or diag $err;
    ($rc, $out, $err) = run('man', '--warnings=w', '-l', $man{$page});
    ok($rc == 0 && $err eq '', "$page: man -l renders it without a warning")
        or diag $err;
    like($out, qr/^NAME\n.*\n\nSYNOPSIS\n/ms, "$page: NAME and SYNOPSIS");
}

# The roff source with "\-" as "-" and no font changes, for lookups.
sub source {
    (my $s = slurp($_[0])) =~ s/\\-/-/g;
    $s =~ s/\\f[BIRP]//g;
    return $s;
}

# smsgwd.conf(5): every key of --list-keys, in its section, with the type,
# range and default the binary prints ("(empty)" for an empty default).
my $conf5 = source($man{'smsgwd.conf.5'});
my %section;
for my $chunk (split /^(?=\.SH )/m, $conf5) {
    $section{$1} = $chunk if $chunk =~ /^\.SH "\[(\w+(?: NAME)?)\]/;
}
($rc, $out, $err) = run("$build/smsgwd", '--list-keys');
my @keys = $out =~ /^\[(\w+(?: NAME)?)\] (\w+): (.*?); default (.*?); /mg;
ok(@keys >= 4 * 20, 'smsgwd --list-keys lists the keys') or diag $out;
my %listed;
while (my ($sect, $key, $type, $def) = splice @keys, 0, 4) {
    $listed{$sect}++;
    $def = '(empty)' if $def eq '';
    my ($line) = ($section{$sect} // '') =~ /^\.B \Q$key\E\n(.*)$/m;
    is($line, "$type; default $def", "smsgwd.conf.5: [$sect] $key");
}
is_deeply([sort keys %section], [sort keys %listed],
    'smsgwd.conf.5 has a section for each config section, and no other');
like($conf5, qr/^\.SH "THE PATTERNS FILE"/m, 'smsgwd.conf.5: the patterns file format');
like($conf5, qr/^\.SH "THE TEMPLATES FILE"/m, 'smsgwd.conf.5: the templates file format');
for my $intent (qw(query report_loss found help stop start unknown)) {
    like($conf5, qr/\b\Q$intent\E\b/, "smsgwd.conf.5: intent $intent");
}
# Every template name in the shipped templates file is listed.
my %tmpl = map { $_ => 1 }
    slurp("$src/conf/templates.conf") =~ /^((?!status\.)\w+\.\w+) =/mg;
for my $t (sort keys %tmpl) {
    like($conf5, qr/^\.BR? \Q$t\E( [,.])?$/m, "smsgwd.conf.5: template $t");
}

# smsgwctl(8): every command and option of smsgwctl --help.
my $ctl8 = source($man{'smsgwctl.8'});
($rc, $out, $err) = run("$build/smsgwctl", '--help');
my @cmds = $out =~ /^  ([a-z][a-z-]*(?: [a-z][a-z-]*)?) (?=[A-Z\[]|$)/mg;
ok(@cmds >= 9, 'smsgwctl --help lists the commands') or diag $out;
for my $c (@cmds) {
    like($ctl8, qr/^\.BI? "?\Q$c\E\b/m, "smsgwctl.8: command $c");
}
my %opt = map { $_ => 1 } $out =~ /(?<![\w-])(--?[a-zA-Z][\w-]*)/g;
for my $o (sort keys %opt) {
    like($ctl8, qr/(?<![\w-])\Q$o\E(?![\w-])/, "smsgwctl.8: option $o");
}

# smsgwd(8): every option of smsgwd --help, the signals, the notify protocol.
my $gw8 = source($man{'smsgwd.8'});
($rc, $out, $err) = run("$build/smsgwd", '--help');
%opt = map { $_ => 1 } $out =~ /(?<![\w-])(--?[a-zA-Z][\w-]*)/g;
ok(keys %opt >= 8, 'smsgwd --help lists the options') or diag $out;
for my $o (sort keys %opt) {
    like($gw8, qr/(?<![\w-])\Q$o\E(?![\w-])/, "smsgwd.8: option $o");
}
for my $w (qw(SIGTERM SIGINT SIGHUP READY=1 STOPPING=1 WATCHDOG=1 STATUS=),
    'THE DELIVERY PROMISE') {
    like($gw8, qr/\Q$w\E/, "smsgwd.8: $w");
}

# ---- systemd-analyze -------------------------------------------------------

# verify checks that ExecStart= binaries exist and that the Documentation=
# pages are there, so it runs on a copy whose paths point into the DESTDIR
# install, with MANPATH at its man pages. Unknown keys and bad values are
# only warnings, so any output at all fails the check.
mkdir "$tmp/unit" or die;
(my $vunit = $unit) =~ s{/usr/sbin/}{$root/usr/sbin/}g;
spew("$tmp/unit/smsgwd.service", $vunit);
{
    local $ENV{MANPATH} = "$root/usr/share/man";
    ($rc, $out, $err) = run('timeout', '60', 'systemd-analyze', 'verify',
        "$tmp/unit/smsgwd.service");
}
ok($rc == 0 && $out eq '' && $err eq '', 'systemd-analyze verify passes, silently')
    or diag "rc $rc\n$out$err";

($rc, $out, $err) = run('timeout', '60', 'systemd-analyze', 'security',
    '--offline=true', '--no-pager', "$tmp/unit/smsgwd.service");
my ($score, $verdict) = $out =~ /Overall exposure level for smsgwd\.service: ([\d.]+) (\w+)/;
ok(defined $score, 'systemd-analyze security --offline=true scores the unit')
    or diag "rc $rc\n$out$err";
$score //= 10;
note("systemd-analyze security exposure: $score " . ($verdict // '?'));
cmp_ok($score, '<', 2.0, "exposure level $score is below 2.0 (" . ($verdict // '?') . ')');

# ---- make uninstall ---------------------------------------------------------

($rc, $out, $err) = make_in('uninstall', DESTDIR => $root, PREFIX => '/usr');
is($rc, 0, 'make uninstall succeeds') or diag $out, $err;
my @left = grep { !m{^etc/} && -e "$root/$_" } sort keys %files;
is_deeply(\@left, [], 'binaries, unit, sysusers file and man pages are gone');
ok(-e "$root/etc/smsgwd/smsgwd.conf" && -e "$root/etc/smsgwd/patterns.conf",
    'the configuration is left alone');

# ---- the default PREFIX keeps everything under /usr/local -----------------

my $local = "$tmp/local";
($rc, $out, $err) = make_in('install', DESTDIR => $local, PREFIX => '/usr/local');
is($rc, 0, 'make install PREFIX=/usr/local succeeds') or diag $out, $err;
for my $f (qw(usr/local/sbin/smsgwd usr/local/sbin/smsgwctl
    usr/local/etc/smsgwd/smsgwd.conf usr/local/lib/systemd/system/smsgwd.service
    usr/local/share/man/man5/smsgwd.conf.5)) {
    ok(-e "$local/$f", "PREFIX=/usr/local: /$f");
}
my $lunit = slurp("$local/usr/local/lib/systemd/system/smsgwd.service");
like($lunit, qr{^ExecStart=/usr/local/sbin/smsgwd -c /usr/local/etc/smsgwd/smsgwd\.conf$}m,
    'the unit runs /usr/local/sbin/smsgwd with /usr/local/etc/smsgwd');
like($lunit, qr{^LoadCredential=smpp-password:/usr/local/etc/smsgwd/smpp-password$}m,
    'and loads the secrets from there');
like(slurp("$local/usr/local/etc/smsgwd/smsgwd.conf"),
    qr{^patterns = /usr/local/etc/smsgwd/patterns\.conf$}m,
    'the config names the patterns there');

done_testing();
