#!/usr/bin/env perl
# The config corpus: every file in tests/conf/good passes --check-config;
# every file in tests/conf/bad fails with exit 1 and the message its first
# line promises ("# expect: REGEX"), as file:line where a line is at fault.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SmsgwdTest;
use Test::More;

my $bin = build_dir() . '/smsgwd';
my $corpus = src_dir() . '/tests/conf';
my @good = glob "$corpus/good/*.conf";
my @bad = glob "$corpus/bad/*.conf";
cmp_ok(scalar @good, '>=', 4, 'a good corpus');
cmp_ok(scalar @bad, '>=', 15, 'a bad corpus');

for my $f (@good) {
    my $out = `$bin -c $f --check-config 2>&1`;
    is($? >> 8, 0, "good: $f") or diag $out;
}
for my $f (@bad) {
    open my $fh, '<', $f or die;
    my ($expect) = <$fh> =~ /^# expect: (.*)$/ or die "$f: no '# expect:' line";
    close $fh;
    my $out = `$bin -c $f --check-config 2>&1`;
    is($? >> 8, 1, "bad: $f exits 1");
    like($out, qr/$expect/, "  and says so") or diag $out;
    unlike($out, qr/configuration OK/, '  not OK');
}
done_testing;
