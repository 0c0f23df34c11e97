#!/usr/bin/env perl
# CI-sized fuzzing: builds every fuzz/fuzz_*.c target with libFuzzer and
# runs each for a few seconds on its seed corpus (make fuzz-run-NAME); any
# crash fails that target. The longer runs are docs/FUZZING.md's business.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SmsgwdTest;
use Test::More;

my $src = src_dir();
my $secs = $ENV{FUZZ_SMOKE_SECONDS} // 5;

# Known crashes not fixed yet run as TODO, so the day one stops crashing
# shows too. None today: fuzz/repro holds the inputs of crashes fixed.
my %todo = ();

# This test may run under `make check`: its make variables (BUILD, SAN,
# the jobserver) are not the fuzz build's.
delete @ENV{qw(MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES)};

sub tail15 {
    my @l = split /\n/, $_[0];
    return join("\n", @l > 15 ? @l[-15 .. -1] : @l);
}

sub have_clang {
    return 0 if system('command -v clang >/dev/null 2>&1') != 0;
    my $rt = `clang -print-resource-dir 2>/dev/null`;
    chomp $rt;
    return scalar glob("$rt/lib/linux/libclang_rt.fuzzer-*.a");
}

if (!have_clang()) {
    diag('clang or libclang_rt.fuzzer missing: running tools/deps.sh');
    system("$src/tools/deps.sh");
}
ok(have_clang(), 'clang with libFuzzer is installed')
    or BAIL_OUT('no clang/libFuzzer: run make deps as root');

my @names = map { m{fuzz_(\w+)\.c$} ? $1 : () } sort glob("$src/fuzz/fuzz_*.c");
cmp_ok(scalar @names, '>=', 9, 'fuzz targets: ' . join(' ', @names));

my $out = `make -C $src --no-print-directory fuzz-build 2>&1`;
if (!is($? >> 8, 0, 'make fuzz-build')) {
    diag($out);
    BAIL_OUT('the fuzzers do not build');
}

# Every crash found so far stays fixed: its input runs through its target.
for my $r (sort glob("$src/fuzz/repro/*")) {
    my ($n) = $r =~ m{/(\w+?)-[^/]*$};
    my $bin = "$src/build/fuzz/fuzz_$n";
    my $log = `$bin $r 2>&1`;
    is($? >> 8, 0, "repro $r no longer crashes fuzz_$n") or diag(tail15($log));
}

for my $n (@names) {
    my $log = `make -C $src --no-print-directory fuzz-run-$n FUZZ_SECONDS=$secs 2>&1`;
    my $rc = $? >> 8;
    my ($execs) = $log =~ /number_of_executed_units:\s*(\d+)/;
    TODO: {
        local $TODO = $todo{$n};
        is($rc, 0, "fuzz_$n: no crash in $secs s"
            . (defined $execs ? " ($execs executions)" : ''))
            or diag(tail15($log));
    }
}

done_testing();
