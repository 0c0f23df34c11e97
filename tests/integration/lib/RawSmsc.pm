package RawSmsc;
# A scripted SMSC for tests: a loopback listener and byte-level PDU helpers,
# so a test can send exactly the bytes it wants (malformed frames included)
# and read exactly what smsgwd sends.
use strict;
use warnings;
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);

sub new {
    my ($class) = @_;
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
        Proto => 'tcp', Listen => 5, ReuseAddr => 1) or die "listen: $!";
    return bless { listener => $l }, $class;
}

sub port { $_[0]{listener}->sockport }

# Waits (bounded) for smsgwd to connect; returns the socket.
sub accept_conn {
    my ($self, $secs) = @_;
    my $sel = IO::Select->new($self->{listener});
    return undef unless $sel->can_read($secs // 60);
    my $c = $self->{listener}->accept or return undef;
    $c->autoflush(1);
    $self->{buf}{"$c"} = '';
    return $c;
}

sub pdu {
    my ($cmd, $status, $seq, $body) = @_;
    $body //= '';
    return pack('NNNN', 16 + length $body, $cmd, $status, $seq) . $body;
}

sub send_pdu {
    my ($self, $c, @pdu) = @_;
    print $c pdu(@pdu);
}

# Reads one whole PDU: (cmd, status, seq, body), or () on EOF/timeout.
sub read_pdu {
    my ($self, $c, $secs) = @_;
    my $end = time + ($secs // 60);
    my $buf = \$self->{buf}{"$c"};
    while (1) {
        if (length $$buf >= 16) {
            my ($len) = unpack 'N', $$buf;
            if (length $$buf >= $len) {
                my ($l, $cmd, $st, $seq) = unpack 'NNNN', substr($$buf, 0, 16);
                my $body = substr($$buf, 16, $len - 16);
                substr($$buf, 0, $len) = '';
                return ($cmd, $st, $seq, $body);
            }
        }
        my $left = $end - time;
        return () if $left <= 0;
        return () unless IO::Select->new($c)->can_read($left);
        my $n = sysread $c, my $chunk, 65536;
        return () unless $n;
        $$buf .= $chunk;
    }
}

# Reads PDUs until one with command $want arrives (answering enquire_link
# on the way); returns it as (cmd, status, seq, body).
sub expect {
    my ($self, $c, $want, $secs) = @_;
    my $end = time + ($secs // 60);
    while ((my $left = $end - time) > 0) {
        my @p = $self->read_pdu($c, $left) or return ();
        return @p if $p[0] == $want;
        $self->send_pdu($c, 0x80000015, 0, $p[2]) if $p[0] == 0x15;
    }
    return ();
}

# Accepts a connection and completes its bind. Returns the socket.
sub accept_bound {
    my ($self, $secs) = @_;
    my $c = $self->accept_conn($secs) or return undef;
    my ($cmd, undef, $seq) = $self->read_pdu($c, $secs // 60) or return undef;
    $self->send_pdu($c, $cmd | 0x80000000, 0, $seq, "rawsmsc\0");
    return $c;
}

# True when the peer closed the connection within $secs.
sub closed {
    my ($self, $c, $secs) = @_;
    my $end = time + ($secs // 60);
    while ((my $left = $end - time) > 0) {
        return 0 unless IO::Select->new($c)->can_read($left);
        my $n = sysread $c, my $chunk, 65536;
        return 1 if !defined $n || $n == 0;
    }
    return 0;
}

# True when a connection waits to be accepted within $secs (0: now).
sub connecting {
    my ($self, $secs) = @_;
    return IO::Select->new($self->{listener})->can_read($secs // 0) ? 1 : 0;
}

sub deliver_body {
    my (%o) = @_;
    my $sm = $o{sm} // '';
    return pack('Z*CCZ*CCZ*CCCZ*Z*CCCCC', '', $o{src_ton} // 1, 1,
        $o{src} // '8613800138000', 0, 0, $o{dst} // '10659000',
        $o{esm} // 0, 0, 0, '', '', 0, 0, $o{dcs} // 0, 0, length $sm) . $sm
        . ($o{tlvs} // '');
}

# Fields of a submit_sm body.
sub parse_submit {
    my ($body) = @_;
    my %s;
    (@s{qw(service_type src_ton src_npi src dst_ton dst_npi dst esm_class
        protocol_id priority schedule validity registered_delivery replace
        dcs default_id sm_length)}, my $rest) =
        unpack 'Z*CCZ*CCZ*CCCZ*Z*CCCCCa*', $body;
    $s{sm} = substr($rest, 0, $s{sm_length});
    return \%s;
}

1;
