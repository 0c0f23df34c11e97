#!/usr/bin/env perl
# The HTTP API against the real daemon: the bearer token, bad bodies, an
# unknown case, and a status change end to end: PUT a case, POST "mailed",
# and smsc-sim receives exactly one notification to the case's phone in
# international form; the same change again sends nothing. A missing token
# file stops smsgwd at start-up.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use HTTP::Tiny;
use JSON::PP;
use SmsgwdTest;
use Test::More;

binmode STDOUT, ':utf8';
binmode STDERR, ':utf8';

my $json = JSON::PP->new->utf8->canonical;
my $dir = tmpdir();
my $token = 'it-' . join('', map { ('a' .. 'z', 0 .. 9)[rand 36] } 1 .. 40);
my $token_file = "$dir/api.token";
open my $tf, '>', $token_file or die "$token_file: $!";
print $tf "$token\n";
close $tf;
chmod 0600, $token_file;

my $hport = free_port();
my $base = "http://127.0.0.1:$hport";
my $sim = start_sim(dir => $dir);
my $gw = start_gw(dir => $dir, port => $sim->port,
    sections => { http => { listen => "127.0.0.1:$hport",
        token_file => $token_file } });
ok($sim->wait_type('bind', 60), 'bound');

my $http = HTTP::Tiny->new(timeout => 60);

# One request; returns (status, decoded JSON body or undef, response).
sub api {
    my ($method, $path, %o) = @_;
    my %headers;
    $headers{Authorization} = $o{auth} // "Bearer $token"
        unless exists $o{auth} && !defined $o{auth};
    my %req = (headers => \%headers);
    if (exists $o{body}) {
        $headers{'Content-Type'} = 'application/json';
        $req{content} = ref $o{body} ? $json->encode($o{body}) : $o{body};
    }
    my $r = $http->request($method, "$base$path", \%req);
    my $body = eval { $json->decode($r->{content}) };
    return ($r->{status}, $body, $r);
}

unless (ok(wait_until(sub { (api('GET', '/v1/cases/PING'))[0] == 404 }, 60),
    'the API answers on [http] listen')) {
    diag $gw->log_text;
    done_testing();
    exit;
}

# ---- the token --------------------------------------------------------------

my ($st, $b, $r) = api('GET', '/v1/cases/X1', auth => undef);
is($st, 401, 'no token: 401');
like($r->{headers}{'www-authenticate'} // '', qr/^Bearer realm=/,
    'with WWW-Authenticate: Bearer');
($st, $b, $r) = api('GET', '/v1/cases/X1', auth => 'Bearer not-the-token');
is($st, 401, 'wrong token: 401');
like($r->{headers}{'www-authenticate'} // '', qr/error="invalid_token"/,
    'invalid_token');
unlike($gw->log_text, qr/\Q$token\E|not-the-token/, 'no token in the log');

# ---- bad bodies, unknown case ----------------------------------------------

my $receipt = 'JX2026000200';
my %case = (id_number => '11010519491231002X', name => '张三',
    msisdn => '+8613800138000', status => 'accepted',
    submitted_at => '2024-03-01');

($st, $b) = api('PUT', "/v1/cases/$receipt", body => '{"id_number": ');
is($st, 400, 'bad JSON: 400');
like($b && $b->{error}, qr/invalid JSON/, 'says so');
($st, $b) = api('PUT', "/v1/cases/$receipt",
    body => { %case, name => undef });
is($st, 400, 'name null: 400');
is($b && $b->{error}, 'name must be a string', 'naming the field');
my %no_msisdn = %case;
delete $no_msisdn{msisdn};
($st, $b) = api('PUT', "/v1/cases/$receipt", body => \%no_msisdn);
is($b && $b->{error}, "missing field 'msisdn'", 'a missing field is named');
($st, $b) = api('GET', "/v1/cases/$receipt");
is($st, 404, 'unknown case: 404');
($st, $b) = api('POST', "/v1/cases/$receipt/status",
    body => { status => 'mailed' });
is($st, 404, 'status of an unknown case: 404');
($st, $b, $r) = api('DELETE', "/v1/cases/$receipt");
is($st, 405, 'wrong method: 405');
is($r->{headers}{allow}, 'GET, HEAD, PUT', 'with Allow');

# ---- a status change end to end -------------------------------------------

($st, $b) = api('PUT', '/v1/cases/' . lc $receipt, body => \%case);
is($st, 201, 'PUT a new case: 201');
is($b && $b->{notification}, 'none', 'accepted is not notified');
is($b && $b->{msisdn}, '13800138000', 'stored in national form');
($st, $b) = api('GET', "/v1/cases/$receipt");
is($st, 200, 'GET it');
is($b && $b->{name}, '张三', 'with its data');
is($b && $b->{status}, 'accepted', 'and status');

my %mailed = (status => 'mailed', courier => 'EMS',
    tracking_no => 'EA123456789CN');
($st, $b) = api('POST', "/v1/cases/$receipt/status", body => \%mailed);
is($st, 200, 'POST status mailed');
is($b && $b->{notification}, 'queued', 'a notification is queued');

my $want = template('zh', 'notify.mailed', ref => $receipt, courier => 'EMS',
    tracking_no => 'EA123456789CN');
my $m = $sim->wait_event(sub { $_[0]{event} eq 'message' }, 60);
ok($m, 'smsc-sim received a message');
is($m && $m->{text}, $want, 'the mailed notification with the tracking number');
is($m && $m->{dst}, '8613800138000', 'to the case phone, international form');
is($m && $m->{dst_ton}, 1, 'TON international');

($st, $b) = api('POST', "/v1/cases/$receipt/status", body => \%mailed);
is($st, 200, 'the same change again');
is($b && $b->{notification}, 'none', 'queues nothing');
# Silence has no event to wait for: a marker follows, another case's
# notification. Notifications go out in the order they were queued, so
# once the marker is in, a second notice to the first phone would be too.
($st, $b) = api('PUT', '/v1/cases/JX2026000201', body => { %case,
    msisdn => '13900139000' });
is($st, 201, 'a second case (the marker)');
($st, $b) = api('POST', '/v1/cases/JX2026000201/status', body => \%mailed);
ok($sim->wait_event(sub { $_[0]{event} eq 'message'
    && $_[0]{dst} eq '8613900139000' }, 60), 'its notification arrives');
is(scalar(grep { $_->{dst} eq '8613800138000' } $sim->events('message')), 1,
    'and still exactly one notification reached the first phone');

($st, $b) = api('GET', '/v1/messages?msisdn=%2B8613800138000');
is($st, 200, 'the message log of the number');
my @out = grep { $_->{direction} eq 'out' } @{ $b ? $b->{messages} : [] };
is(scalar @out, 1, 'holds the one notification');
is($out[0] && $out[0]{text}, $want, 'with its text');

unlike($gw->log_text, qr/13800138000|11010519491231002X|张三/,
    'no personal data in the log');
like($gw->log_text, qr{method=POST path=/v1/cases/$receipt/status status=200},
    'one line per request');
is($gw->stop('TERM', 60), 0, 'smsgwd stops cleanly');

# ---- no token, no API ------------------------------------------------------

my $dir2 = tmpdir();
my $gw2 = start_gw(dir => $dir2, port => $sim->port,
    sections => { http => { listen => '127.0.0.1:' . free_port(),
        token_file => "$dir2/missing.token" } });
ok(wait_until(sub { !$gw2->alive }, 60), 'a missing token file stops smsgwd');
isnt($gw2->{status}, 0, 'with a failure status');
like($gw2->log_text, qr/token file \Q$dir2\E\/missing\.token/,
    'naming the file');

done_testing();
