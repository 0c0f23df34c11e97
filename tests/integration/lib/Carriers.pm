package Carriers;
# Helpers for the several-carrier tests (24-27): notifications queued in
# bulk through smsgwctl import-cases --notify, the messages each smsc-sim
# received counted by number, the database, /metrics and /healthz.
use strict;
use warnings;
use Exporter 'import';
use HTTP::Tiny;
use JSON::PP;
use POSIX ();
use SmsgwdTest;
use Time::HiRes ();

our @EXPORT = qw(queue_notices sql received_by dst_counts metrics healthz
    intl ctl_json start_feeder);

my $seq = 0;

# A folder for smsgwctl's output and CSV files, one per process.
my %work;
sub work { $work{$$} //= tmpdir() }

# The international form smsgwd sends a notification to.
sub intl { "86$_[0]" }

# Queues one "mailed" notification per phone number (national form) through
# smsgwctl import-cases --notify on the gateway's config. Dies unless every
# one is queued. Returns the receipt numbers.
sub queue_notices {
    my ($gw, @phones) = @_;
    # Per process: the feeder below queues from a child of the test.
    my $tmp = work();
    my $csv = "$tmp/cases-$$-" . ++$seq . '.csv';
    my @receipts;
    open my $f, '>', $csv or die "$csv: $!";
    print $f "receipt_no,id_number,name,msisdn,status,submitted_at,courier,tracking_no\n";
    for my $p (@phones) {
        my $r = "LK$p";
        push @receipts, $r;
        print $f "$r,11010519491231002X,Test,$p,mailed,2026-10-01,SF,S$p\n";
    }
    close $f;
    my ($rc, $out, $err) = run_ctl($gw->{conf}, $tmp, 'import-cases',
        '--notify', '--json', $csv);
    die "import-cases: $rc: $err$out" if $rc != 0;
    my $doc = JSON::PP->new->decode($out);
    die "import-cases queued $doc->{notifications} of " . scalar(@phones)
        if ($doc->{notifications} // -1) != @phones;
    return @receipts;
}

# One value from the gateway's database (sqlite3's text output).
sub sql {
    my ($gw, $q) = @_;
    open my $p, '-|', 'sqlite3', $gw->{db}, $q or die "sqlite3: $!";
    my $r = do { local $/; <$p> } // '';
    close $p;
    chomp $r;
    return $r;
}

# The whole messages a sim received for this destination.
sub received_by {
    my ($sim, $dst) = @_;
    return grep { $_->{dst} eq $dst } $sim->events('message');
}

# dst -> how many whole messages the sims received, together.
sub dst_counts {
    my (@sims) = @_;
    my %n;
    for my $s (@sims) {
        $n{$_->{dst}}++ for $s->events('message');
    }
    return \%n;
}

# /metrics as { 'name{labels}' => value } (a sample without labels is
# 'name{}'), or undef if it did not answer 200.
sub metrics {
    my ($port) = @_;
    my $r = HTTP::Tiny->new(timeout => 30)->get("http://127.0.0.1:$port/metrics");
    return undef unless $r->{status} == 200;
    my %m;
    for (split /\n/, $r->{content}) {
        next if /^#/ || !/\S/;
        my ($k, $v) = /^(\S+?(?:\{.*\})?)\s+(\S+)$/ or next;
        $k .= '{}' unless $k =~ /\{/;
        $m{$k} = $v;
    }
    return \%m;
}

# /healthz: (HTTP status, decoded body or undef).
sub healthz {
    my ($port) = @_;
    my $r = HTTP::Tiny->new(timeout => 30)->get("http://127.0.0.1:$port/healthz");
    my $doc = eval { JSON::PP->new->decode($r->{content}) };
    return ($r->{status}, $doc);
}

# smsgwctl ARGS --json on the gateway's config, decoded (undef on failure).
sub ctl_json {
    my ($gw, @args) = @_;
    my ($rc, $out, $err) = run_ctl($gw->{conf}, work(), @args, '--json');
    return undef if $rc != 0;
    my $doc = eval { JSON::PP->new->decode($out) };
    return $doc;
}

# A steady load: a child process that queues notifications in batches of
# $batch, to numbers PREFIX + 8 digits (each number once, the prefixes in
# turn), until stopped, each batch paced to $per_s numbers a second at
# most. Returns an object: ->queued (the numbers queued so far), ->stop
# (ends the child, bounded, and returns every number it queued), ->pid.
sub start_feeder {
    my ($gw, $prefixes, $batch, $per_s) = @_;
    my $dir = tmpdir();
    my $log = "$dir/queued.txt";
    my $parent = $$;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        # No END blocks here: the test's harness would stop its processes.
        $SIG{$_} = sub { POSIX::_exit(0) } for qw(TERM INT HUP);
        mkdir "$dir/work" or POSIX::_exit(1);
        $work{$$} = "$dir/work";
        my $i = 0;
        my $ok = eval {
            while (!-e "$dir/stop" && kill 0, $parent) {
                my $t = Time::HiRes::time();
                my @p = map { sprintf '%s%08d', $prefixes->[$i % @$prefixes], $i++ }
                    1 .. $batch;
                queue_notices($gw, @p);
                open my $f, '>>', $log or die "$log: $!";
                print $f "$_\n" for @p;
                close $f;
                my $left = $batch / $per_s - (Time::HiRes::time() - $t);
                # Pacing, not waiting for a condition: the load's rate.
                Time::HiRes::sleep($left) if $left > 0;
            }
            1;
        };
        print STDERR "feeder: $@" unless $ok;
        POSIX::_exit($ok ? 0 : 1);
    }
    return bless { pid => $pid, dir => $dir, log => $log }, 'Carriers::Feeder';
}

package Carriers::Feeder;
use POSIX qw(:sys_wait_h);

sub pid { $_[0]{pid} }

sub queued {
    my ($self) = @_;
    open my $f, '<', $self->{log} or return ();
    chomp(my @n = <$f>);
    return @n;
}

# Stops the child (bounded: it finishes its batch) and returns the numbers
# it queued; undef status if it did not exit cleanly.
sub stop {
    my ($self) = @_;
    open my $f, '>', "$self->{dir}/stop" or die "stop: $!";
    close $f;
    my $done = SmsgwdTest::wait_until(sub {
        waitpid($self->{pid}, WNOHANG) == $self->{pid} and $self->{status} = $?;
        defined $self->{status} });
    unless ($done) {
        kill 'KILL', $self->{pid};
        waitpid $self->{pid}, 0;
        $self->{status} = -1;
    }
    return $self->queued;
}

sub status { $_[0]{status} }

sub DESTROY {
    my ($self) = @_;
    return if defined $self->{status};
    kill 'KILL', $self->{pid};
    waitpid $self->{pid}, 0;
}

1;
