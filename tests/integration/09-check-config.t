#!/usr/bin/env perl
# smsgwd --check-config on the shipped config and on broken ones: exit 0, or
# exit 1 with one "file:line: message" per error naming the key.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SmsgwdTest;
use Test::More;
my %seen;

my $bin = build_dir() . '/smsgwd';
my $dir = tmpdir();
my $src = src_dir();
my $files = "[parsers]\npatterns = $src/conf/patterns.conf\n"
    . "[templates]\npath = $src/conf/templates.conf\n";

sub check {
    my ($text) = @_;
    my $f = "$dir/t.conf";
    open my $fh, '>', $f or die;
    print $fh $text;
    close $fh;
    my $out = `$bin -c $f --check-config 2>&1`;
    return ($? >> 8, $out);
}

my ($rc, $out) = (system("$bin -c $FindBin::Bin/../../conf/smsgwd.conf --check-config >/dev/null 2>&1") >> 8);
is($rc, 0, 'the shipped conf/smsgwd.conf is valid');

($rc, $out) = check("[smpp]\nsystem_id = a\nsource_addr = 1\n$files");
is($rc, 0, 'a minimal config is valid');
like($out, qr/configuration OK/, 'and says so');

# Relative paths resolve against the config file's folder.
($rc, $out) = check("[smpp]\nsystem_id = a\nsource_addr = 1\n");
is($rc, 1, 'patterns and templates default to the config folder');
like($out, qr{\Q$dir\E/patterns\.conf}, 'the missing patterns file is named');
like($out, qr{\Q$dir\E/templates\.conf: cannot open}, 'so is the templates file');

# Every pattern and template is compiled by --check-config.
open my $pf, '>', "$dir/p.conf" or die;
print $pf <<'EOT';
# comment
query zh ^CX\s*(?<id>\d+$
help zh ^BZ$
nosuch zh ^X$
EOT
close $pf;
open my $tf, '>', "$dir/t2.conf" or die;
open my $orig, '<', "$src/conf/templates.conf" or die;
while (<$orig>) {
    s/\{tracking_no\}/{trackng_no}/ if /^query\.mailed/ && !$seen{mailed}++;
    s/^help\.list = .*/help.list = see http:\/\/example.org/ if /^help\.list/ && !$seen{help}++;
    print $tf $_;
}
close $tf;
($rc, $out) = check("[smpp]\nsystem_id = a\nsource_addr = 1\n[parsers]\npatterns = p.conf\n"
    . "[templates]\npath = t2.conf\n");
is($rc, 1, 'broken patterns and templates fail the check');
like($out, qr{p\.conf:2: .*(missing|paren)}i, 'an unclosed group, with its line');
like($out, qr{p\.conf:4: .*nosuch}, 'an unknown intent, with its line');
like($out, qr{t2\.conf:\d+: query\.mailed: unknown placeholder \{trackng_no\}}, 'a misspelt placeholder');
like($out, qr{t2\.conf:\d+: help\.list: replies may not carry links}, 'a link in a template');

($rc, $out) = check("[smpp]\nsystem_id = a\nsource_addr = 1\nwindow = 5000\nbind = x\n[nonsense]\nlisten = 1\n");
is($rc, 1, 'a broken one exits 1');
like($out, qr{t\.conf:4: \[smpp\] window: 5000 is outside 1\.\.1024}, 'range error with its line');
like($out, qr{t\.conf:5: \[smpp\] bind: 'x' is not one of the choices}, 'enum error with its line');
like($out, qr{t\.conf:7: \[nonsense\]: unknown section}, "unknown section");
is(scalar(() = $out =~ /^\S+:\d+: /mg), 3, 'every error reported, one line each');

($rc, $out) = check("[smpp]\nsource_addr = 1\n");
like($out, qr/\[smpp\] system_id is required/, 'a missing required key');

$out = `$bin -c /nonexistent.conf --check-config 2>&1`;
is($? >> 8, 1, 'a missing file exits 1');
like($out, qr{/nonexistent\.conf: cannot open}, 'and says why');

$out = `$bin --list-keys`;
like($out, qr/^\[smsc NAME\] window: integer 1\.\.1024; default 10;/m,
    '--list-keys documents keys (a link\'s, [smpp] or [smsc NAME])');
like($out, qr/^\[routing\] failover_s: integer 0\.\.86400; default 30;/m,
    'and [routing]');
done_testing;
