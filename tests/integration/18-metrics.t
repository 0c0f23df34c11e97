#!/usr/bin/env perl
# GET /metrics and GET /healthz against the real daemon. Texts go through
# smsc-sim (three help requests, one text no pattern knows, one progress
# query), and once every reply has arrived /metrics is checked by a strict
# parser of the Prometheus text exposition format 0.0.4 (written here, and
# shown first to reject bad documents) and its counters against the
# scenario; promtool, where installed, checks it too. /healthz says the
# link is bound, and unbound once smsc-sim is gone, while the store stays
# ok. Neither endpoint needs the API token.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use SmsgwdTest;
use Test::More;

binmode STDOUT, ':utf8';
binmode STDERR, ':utf8';

# ---- the exposition-format checker -------------------------------------------

my $NAME = qr/[a-zA-Z_:][a-zA-Z0-9_:]*/;
my $LABEL = qr/[a-zA-Z_][a-zA-Z0-9_]*/;
my $FLOAT = qr/[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?Inf|NaN/;

sub num { my ($v) = @_; $v =~ /^([+-]?)Inf$/ ? ($1 eq '-' ? -9**9**9 : 9**9**9) : $v + 0 }

# Checks a whole /metrics document. Returns (\@errors, \%samples) where
# %samples maps 'name{l1="v1",l2="v2"}' (labels sorted, values unescaped
# and re-escaped) to its value. Strict: every line is a HELP or TYPE line
# or a sample; every metric has HELP and TYPE, once, before its samples,
# which are contiguous; names are well-formed; label values use only the
# three escapes; no duplicate series; counters are not negative; a
# histogram's buckets rise with le, end at +Inf, and +Inf equals _count.
sub check_exposition {
    my ($text) = @_;
    my (@err, %samples, %type, %help, %seen, %done, %hist);
    my $cur = '';           # the metric whose lines are being read
    push @err, 'does not end in a newline' unless $text =~ /\n\z/;
    my @lines = split /\n/, $text, -1;
    pop @lines if @lines && $lines[-1] eq '';    # after the last newline
    my $ln = 0;
    for my $line (@lines) {
        $ln++;
        my $at = "line $ln";
        my $family;
        if ($line =~ /^# HELP ($NAME) (.*)$/) {
            $family = $1;
            my $h = $2;
            push @err, "$at: a second HELP for $family" if $help{$family}++;
            push @err, "$at: HELP with a bad escape" if $h =~ /\\(?![\\n])/;
        } elsif ($line =~ /^# TYPE ($NAME) (counter|gauge|histogram|summary|untyped)$/) {
            $family = $1;
            push @err, "$at: a second TYPE for $family" if $type{$family};
            push @err, "$at: TYPE after samples of $family" if $seen{$family};
            $type{$family} = $2;
        } elsif ($line =~ /^#/) {
            push @err, "$at: a comment that is not HELP or TYPE: $line";
            next;
        } elsif ($line =~ /^($NAME)(?:\{(.*)\})? ($FLOAT)$/) {
            my ($name, $labels, $value) = ($1, $2, $3);
            $family = $name;
            for my $suffix (qw(_bucket _sum _count)) {
                my $f = $name;
                $family = $f if $f =~ s/\Q$suffix\E$// && ($type{$f} // '') eq 'histogram';
            }
            my $t = $type{$family};
            push @err, "$at: sample of $family before its TYPE" unless $t;
            $seen{$family} = 1;
            my (%l, @pairs);
            my $rest = $labels // '';
            while ($rest ne '') {
                if ($rest =~ s/^($LABEL)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)//) {
                    my ($k, $v, $comma) = ($1, $2, $3);
                    push @err, "$at: label $k twice" if exists $l{$k};
                    push @err, "$at: reserved label name $k" if $k =~ /^__/;
                    $l{$k} = $v;
                    last if $comma eq '';
                } else {
                    push @err, "$at: malformed labels {$labels}";
                    last;
                }
            }
            my $key = $name . '{' . join(',', map { qq{$_="$l{$_}"} } sort keys %l) . '}';
            push @err, "$at: duplicate series $key" if exists $samples{$key};
            $samples{$key} = num($value);
            if ($t && $t eq 'counter') {
                push @err, "$at: negative counter" if $value =~ /^-/ || $value eq 'NaN';
            }
            if ($t && $t eq 'histogram') {
                my %g = %l;
                delete $g{le};
                my $gk = join(',', map { "$_=$g{$_}" } sort keys %g);
                my $h = $hist{$family}{$gk} //= { buckets => [] };
                if ($name eq "${family}_bucket") {
                    if (!exists $l{le} || $l{le} !~ /^$FLOAT$/) {
                        push @err, "$at: bucket without a numeric le";
                    } else {
                        push @{ $h->{buckets} }, [num($l{le}), num($value), $l{le}];
                    }
                } elsif ($name eq "${family}_sum") {
                    $h->{sum} = num($value);
                } else {
                    push @err, "$at: _count is not a whole number"
                        unless $value =~ /^[0-9]+$/;
                    $h->{count} = num($value);
                }
            }
        } else {
            push @err, "$at: not a HELP, TYPE or sample line: '$line'";
            next;
        }
        if ($family ne $cur) {
            push @err, "$at: $family again after other metrics (not contiguous)"
                if $done{$family};
            $done{$cur} = 1 if $cur ne '';
            $cur = $family;
        }
    }
    for my $f (sort keys %type) {
        push @err, "$f has no HELP" unless $help{$f};
    }
    for my $f (sort keys %help) {
        push @err, "$f has HELP but no TYPE" unless $type{$f};
    }
    for my $f (sort keys %hist) {
        for my $gk (sort keys %{ $hist{$f} }) {
            my $h = $hist{$f}{$gk};
            my @b = @{ $h->{buckets} };
            push @err, "$f\{$gk\}: no buckets" unless @b;
            for my $i (1 .. $#b) {
                push @err, "$f\{$gk\}: le $b[$i][2] not above $b[$i-1][2]"
                    unless $b[$i][0] > $b[$i-1][0];
                push @err, "$f\{$gk\}: bucket le=$b[$i][2] below the one before"
                    unless $b[$i][1] >= $b[$i-1][1];
            }
            if (!@b || $b[-1][2] ne '+Inf') {
                push @err, "$f\{$gk\}: no le=\"+Inf\" bucket last";
            } elsif (!defined $h->{count} || $b[-1][1] != $h->{count}) {
                push @err, "$f\{$gk\}: +Inf bucket is not _count";
            }
            push @err, "$f\{$gk\}: no _sum" unless defined $h->{sum};
            push @err, "$f\{$gk\}: no _count" unless defined $h->{count};
        }
    }
    return (\@err, \%samples);
}

# The checker must catch what it is for: each of these has one fault.
my $good = <<'EOT';
# HELP a_total A.
# TYPE a_total counter
a_total{x="p\"q\\r\ns"} 1
a_total{x="y"} 2
# HELP h_seconds H.
# TYPE h_seconds histogram
h_seconds_bucket{le="0.1"} 1
h_seconds_bucket{le="1"} 2
h_seconds_bucket{le="+Inf"} 3
h_seconds_sum 4.5
h_seconds_count 3
EOT
my ($e) = check_exposition($good);
is_deeply($e, [], 'the checker accepts a good document') or diag explain $e;
my %bad = (
    'an unescaped quote' => sub { s/y"/y"z"/ },
    'an unknown escape' => sub { s/\\n/\\t/ },
    'a sample before TYPE' => sub { s/# TYPE a_total counter\n// },
    'a missing HELP' => sub { s/# HELP h_seconds H\.\n// },
    'metric samples not contiguous' => sub { s/(a_total\{x="y"\} 2\n)(.*)\z/$2$1/s },
    'a duplicate series' => sub { s/x="y"/x="p\\"q\\\\r\\ns"/ },
    'a bad metric name' => sub { s/^a_total\{x="y"/a-total{x="y"/m },
    'a negative counter' => sub { s/\} 2$/} -2/m },
    'buckets going down' => sub { s/le="1"\} 2/le="1"} 0/ },
    'le not ascending' => sub { s/le="1"/le="0.05"/ },
    '+Inf not equal to _count' => sub { s/_count 3/_count 4/ },
    'no +Inf bucket' => sub { s/h_seconds_bucket\{le="\+Inf"\} 3\n// },
    'a stray comment' => sub { s/^(h_seconds_sum)/# hello\n$1/m },
    'a blank line' => sub { s/^(h_seconds_sum)/\n$1/m },
    'a value that is not a number' => sub { s/_sum 4\.5/_sum four/ },
    'no final newline' => sub { s/\n\z// },
);
for my $what (sort keys %bad) {
    local $_ = $good;
    $bad{$what}->();
    isnt($_, $good, "($what: the edit applies)");
    my ($errs) = check_exposition($_);
    ok(@$errs > 0, "the checker rejects $what") or diag $_;
}

# ---- the daemon ------------------------------------------------------------------

my $dir = tmpdir();
my $token = 'it-' . join('', map { ('a' .. 'z', 0 .. 9)[rand 36] } 1 .. 40);
my $token_file = "$dir/api.token";
open my $tf, '>', $token_file or die "$token_file: $!";
print $tf "$token\n";
close $tf;
chmod 0600, $token_file;

my $hport = free_port();
my $base = "http://127.0.0.1:$hport";
my $sim = start_sim(dir => $dir, args => ['--dlr']);
my $gw = start_gw(dir => $dir, port => $sim->port,
    smpp => { registered_delivery => 1 },
    sections => { http => { listen => "127.0.0.1:$hport",
        token_file => $token_file } });
ok($sim->wait_type('bind', 60), 'bound');

my $http = HTTP::Tiny->new(timeout => 60);
sub get { $http->get("$base$_[0]") }

unless (ok(wait_until(sub { get('/healthz')->{status} == 200 }, 60),
    '/healthz answers, without a token')) {
    diag $gw->log_text;
    done_testing();
    exit;
}

# The scenario: each text is answered once.
my @texts = (['13800138001', 'BZ'], ['13800138002', 'BZ'],
    ['13800138003', 'BZ'], ['13800138004', '你好'],
    ['13800138005', 'CX 11010519491231002X']);
for my $t (@texts) {
    $sim->send_mo(@$t);
    ok($sim->wait_event(sub { $_[0]{event} eq 'message' && $_[0]{dst} eq $t->[0] }, 60),
        "the reply to '$t->[1]' arrives");
}

my ($r, $errs, $s);
# The counters are updated before each submit_sm goes out, so they are
# current by now; receipts and the outbox depth may lag a little.
sub scrape {
    $r = get('/metrics');
    ($errs, $s) = check_exposition($r->{content} // '');
    return $r;
}
sub val { $s->{$_[0]} }
sub sum_of {
    my ($name) = @_;
    my $t = 0;
    $t += $s->{$_} for grep { /^\Q$name\E\{/ } keys %$s;
    return $t;
}
wait_until(sub { scrape(); (sum_of('smsgwd_receipts_total') // 0) >= 5
    && defined val('smsgwd_outbox_depth{}') && val('smsgwd_outbox_depth{}') == 0 }, 60);

is($r->{status}, 200, 'GET /metrics without a token: 200');
like($r->{headers}{'content-type'} // '', qr{^text/plain; version=0\.0\.4(;|$)},
    'Content-Type text/plain; version=0.0.4');
is_deeply($errs, [], '/metrics passes the strict exposition-format check')
    or diag explain $errs;

SKIP: {
    my $promtool = (grep { -x "$_/promtool" } split /:/, $ENV{PATH} // '')[0];
    skip 'promtool is not installed (Debian: apt-get install prometheus)', 1
        unless $promtool;
    my $file = "$dir/metrics.txt";
    open my $mf, '>', $file or die "$file: $!";
    print $mf $r->{content};
    close $mf;
    my $out = `$promtool/promtool check metrics < $file 2>&1`;
    is($? >> 8, 0, 'promtool check metrics accepts it') or diag $out;
}

my @names = map { /^([^{]+)/ } keys %$s;
is(scalar(grep { !/^smsgwd_/ } @names), 0, 'every name starts with smsgwd_');
for my $m (qw(smsgwd_inbound_texts_total smsgwd_outbound_total
    smsgwd_receipts_total smsgwd_reconnects_total smsgwd_throttled_total
    smsgwd_submits_total smsgwd_inbound_refused_total smsgwd_smpp_bound
    smsgwd_outbox_depth smsgwd_backpressure smsgwd_reply_latency_seconds
    smsgwd_sqlite_commit_seconds)) {
    like($r->{content}, qr/^# TYPE \Q$m\E (counter|gauge|histogram)$/m,
        "$m is exposed");
}

# The counters against the scenario.
is(val('smsgwd_inbound_texts_total{intent="help"}'), 3, 'inbound: 3 help');
is(val('smsgwd_inbound_texts_total{intent="unknown"}'), 1, 'inbound: 1 unknown');
is(val('smsgwd_inbound_texts_total{intent="query"}'), 1, 'inbound: 1 query');
is(sum_of('smsgwd_inbound_texts_total'), 5, 'inbound: 5 in all');
cmp_ok(val('smsgwd_submits_total{}') // -1, '>=', 5, 'submits_total >= 5');
is(val('smsgwd_smpp_bound{}'), 1, 'smpp_bound 1');
cmp_ok(val('smsgwd_reply_latency_seconds_count{}') // -1, '>=', 5,
    'reply_latency_seconds_count >= 5');
cmp_ok(val('smsgwd_sqlite_commit_seconds_count{}') // -1, '>=', 1,
    'sqlite_commit_seconds_count >= 1');
cmp_ok(val('smsgwd_reply_latency_seconds_sum{}') // -1, '>', 0,
    'reply latencies add up to more than 0');
cmp_ok(sum_of('smsgwd_outbound_total'), '>=', 5, 'outbound_total >= 5 over its states');
cmp_ok(sum_of('smsgwd_receipts_total'), '>=', 5,
    'receipts_total >= 5 over their stats (smsc-sim --dlr)');
is(val('smsgwd_outbox_depth{}'), 0, 'outbox_depth 0 once all is sent');
is(val('smsgwd_throttled_total{}'), 0, 'nothing throttled');
is(val('smsgwd_inbound_refused_total{}'), 0, 'nothing refused');
unlike($r->{content}, qr/1380013800|11010519491231002X|你好/,
    'no phone number, ID or text in /metrics');

# HEAD: the headers, no body (HTTP/1.0: the server closes after it).
{
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $hport,
        Timeout => 10) or die "connect: $!";
    print $c "HEAD /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    local $/;
    my $raw = <$c> // '';
    close $c;
    like($raw, qr{^HTTP/1\.[01] 200 }, 'HEAD /metrics: 200');
    like($raw, qr{\r\nContent-Type: text/plain; version=0\.0\.4}i, 'with its Content-Type');
    like($raw, qr{\r\n\r\n\z}, 'and no body');
}
$r = $http->request('POST', "$base/metrics");
is($r->{status}, 405, 'POST /metrics: 405');
is($r->{headers}{allow}, 'GET, HEAD', 'Allow: GET, HEAD');

# ---- /healthz ----------------------------------------------------------------------

my $json = JSON::PP->new->utf8;
sub health {
    my $h = get('/healthz');
    return ($h, eval { $json->decode($h->{content}) } // {});
}
my ($h, $hb) = health();
is($h->{status}, 200, '/healthz: 200');
is($h->{headers}{'content-type'}, 'application/json', 'JSON');
is($hb->{status}, 'ok', 'status ok');
is($hb->{store}, 'ok', 'store ok');
is($hb->{smpp}, 'bound', 'smpp bound');
is(scalar @{$hb->{links} // []}, 1, 'one link listed');
is($hb->{links}[0]{name}, 'default', 'the [smpp] link is "default"');
is($hb->{links}[0]{state}, 'bound', 'and bound');
cmp_ok($hb->{links}[0]{bound_at}, '>', 0, 'with the time it bound');
$r = $http->request('DELETE', "$base/healthz");
is($r->{status}, 405, 'DELETE /healthz: 405');
$r = $http->request('GET', "$base/v1/cases/X1");
is($r->{status}, 401, '/v1 still needs the token');

# The carrier goes away: the store works, but no link is bound, so the
# gateway is not healthy (503) and says why.
ok(defined $sim->stop('TERM', 60), 'smsc-sim stops');
ok(wait_until(sub { ((health())[1]{smpp} // '') eq 'unbound' }, 60),
    '/healthz says unbound once smsc-sim is gone');
($h, $hb) = health();
is($h->{status}, 503, '503: no link bound');
is($hb->{status}, 'unbound', 'status unbound');
is($hb->{store}, 'ok', 'store ok');
ok(wait_until(sub { ((health())[1]{links}[0]{state} // '') ne 'bound' }, 60),
    'the link is listed as not bound');
scrape();
is(val('smsgwd_smpp_bound{}'), 0, 'smpp_bound 0');
ok(wait_until(sub { scrape(); (val('smsgwd_reconnects_total{}') // 0) >= 1 }, 60),
    'reconnects_total counts the attempts to get back');
is_deeply($errs, [], 'and /metrics is still well-formed');

unlike($gw->log_text, qr/\Q$token\E/, 'no token in the log');
unlike($gw->log_text, qr{path=/(metrics|healthz) status=200},
    'scrapes and health checks are not logged at info level');
is($gw->stop('TERM', 60), 0, 'smsgwd stops cleanly');

done_testing();
