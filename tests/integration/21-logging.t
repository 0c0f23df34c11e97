#!/usr/bin/env perl
# Logs: one key=value line per event; bodies only with [log] bodies = 1 and
# then with ID numbers and names masked; no full ID, name or phone number
# ever; under journald (JOURNAL_STREAM naming our stderr) levels are "<N>"
# prefixes.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use SmsgwdTest;
use Test::More;

binmode STDERR, ':utf8';
my $text = '挂失 11010519491231002X 张三';

for my $bodies (0, 1) {
    my $dir = tmpdir();
    # Pretend to be journald: stderr is the file named by JOURNAL_STREAM.
    open my $f, '>', "$dir/smsgwd.log" or die;
    close $f;
    my @st = stat "$dir/smsgwd.log";
    local $ENV{JOURNAL_STREAM} = "$st[0]:$st[1]";
    my $sim = start_sim(dir => $dir);
    my $gw = start_gw(dir => $dir, port => $sim->port,
        sections => { log => { bodies => $bodies } });
    $sim->send_mo('13800138000', $text);
    ok($sim->wait_type('message', 60), "bodies=$bodies: answered");
    $gw->stop('TERM', 60);
    $sim->stop('TERM', 60);
    my $log = $gw->log_text;
    unlike($log, qr/11010519491231002X|张三|13800138000/, 'no full ID, name or phone');
    like($log, qr/^<6>text from=138\*\*\*\*8000 intent=report_loss/m,
        'journal priority prefix, masked phone');
    unlike($log, qr/^\d{4}-\d\d-\d\dT/m, 'no timestamps under journald');
    if ($bodies) {
        like($log, qr/^<6>text from=\S+ body="挂失 \*\*\*\*002X 张\*"$/m,
            'the body, masked');
        like($log, qr/^<6>reply to=\S+ body="/m, 'and the reply body');
    } else {
        unlike($log, qr/body=/, 'no bodies by default');
    }
}
done_testing;
