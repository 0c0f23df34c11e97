#!/usr/bin/env perl
# smsgwd --check-config on the shipped config and on broken ones: exit 0, or
# exit 1 with one "file:line: message" per error naming the key.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SmsgwdTest;
use Test::More;

my $bin = build_dir() . '/smsgwd';
my $dir = tmpdir();

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

($rc, $out) = check("[smpp]\nsystem_id = a\nsource_addr = 1\n");
is($rc, 0, 'a minimal config is valid');
like($out, qr/configuration OK/, 'and says so');

($rc, $out) = check("[smpp]\nsystem_id = a\nsource_addr = 1\nwindow = 5000\nbind = x\n[http]\nlisten = 1\n");
is($rc, 1, 'a broken one exits 1');
like($out, qr{t\.conf:4: \[smpp\] window: 5000 is outside 1\.\.1024}, 'range error with its line');
like($out, qr{t\.conf:5: \[smpp\] bind: 'x' is not one of the choices}, 'enum error with its line');
like($out, qr{t\.conf:7: \[http\]: unknown section}, 'unknown section');
is(scalar(() = $out =~ /^\S+:\d+: /mg), 3, 'every error reported, one line each');

($rc, $out) = check("[smpp]\nsource_addr = 1\n");
like($out, qr/\[smpp\] system_id is required/, 'a missing required key');

$out = `$bin -c /nonexistent.conf --check-config 2>&1`;
is($? >> 8, 1, 'a missing file exits 1');
like($out, qr{/nonexistent\.conf: cannot open}, 'and says why');

$out = `$bin --list-keys`;
like($out, qr/^\[smpp\] window: integer 1\.\.1024; default 10;/m, '--list-keys documents keys');
done_testing;
