package RawCmpp;
# A small CMPP 3.0 / 2.0 client (an SP) for tests, written from the spec's
# tables with pack/unpack and Digest::MD5 from Perl core: an implementation
# we did not write in C, so it checks proto/cmpp.c as well as smsc-sim.
# Frames: Total_Length, Command_Id, Sequence_Id (big-endian), then the body.
use strict;
use warnings;
use Digest::MD5 qw(md5);
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);

use constant {
    CONNECT => 0x01, TERMINATE => 0x02, SUBMIT => 0x04, DELIVER => 0x05,
    ACTIVE_TEST => 0x08, RESP => 0x80000000,
};

# new(port => N, version => 0x30 | 0x20): a connected socket, nothing sent.
sub new {
    my ($class, %o) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $o{port}, Proto => 'tcp') or die "connect: $!";
    $s->autoflush(1);
    return bless { sock => $s, v => $o{version} // 0x30, seq => 0,
        buf => '', backlog => [] }, $class;
}

sub v3 { $_[0]{v} == 0x30 }

# Sends one message; returns its Sequence_Id (a new one unless given).
sub send_msg {
    my ($self, $cmd, $body, $seq) = @_;
    $body //= '';
    $seq //= ++$self->{seq};
    print { $self->{sock} } pack('NNN', 12 + length $body, $cmd, $seq) . $body;
    return $seq;
}

# One whole message as { cmd, seq, body }, or undef on EOF or timeout.
sub read_msg {
    my ($self, $secs) = @_;
    my $end = time + ($secs // 60);
    while (1) {
        if (length $self->{buf} >= 12) {
            my ($len, $cmd, $seq) = unpack 'NNN', $self->{buf};
            die "Total_Length $len" if $len < 12 || $len > 100000;
            if (length $self->{buf} >= $len) {
                my $body = substr($self->{buf}, 12, $len - 12);
                substr($self->{buf}, 0, $len) = '';
                return { cmd => $cmd, seq => $seq, body => $body };
            }
        }
        my $left = $end - time;
        return undef if $left <= 0;
        return undef unless IO::Select->new($self->{sock})->can_read($left);
        my $n = sysread $self->{sock}, my $chunk, 65536;
        return undef unless $n;
        $self->{buf} .= $chunk;
    }
}

# The first message with Command_Id $cmd (and, if given, Sequence_Id $seq);
# the others met on the way wait in a backlog for later calls.
sub expect {
    my ($self, $cmd, $secs, $seq) = @_;
    my $want = sub { $_[0]{cmd} == $cmd && (!defined $seq || $_[0]{seq} == $seq) };
    for my $i (0 .. $#{ $self->{backlog} }) {
        return splice @{ $self->{backlog} }, $i, 1
            if $want->($self->{backlog}[$i]);
    }
    my $end = time + ($secs // 60);
    while ((my $left = $end - time) > 0) {
        my $m = $self->read_msg($left) or return undef;
        return $m if $want->($m);
        push @{ $self->{backlog} }, $m;
    }
    return undef;
}

# True when the peer closed the connection within $secs.
sub closed {
    my ($self, $secs) = @_;
    my $end = time + ($secs // 60);
    while ((my $left = $end - time) > 0) {
        return 0 unless IO::Select->new($self->{sock})->can_read($left);
        my $n = sysread $self->{sock}, my $chunk, 65536;
        return 1 if !defined $n || $n == 0;
        $self->{buf} .= $chunk;
    }
    return 0;
}

# ---- CONNECT ---------------------------------------------------------------

# MMDDHHMMSS of the local time, as a number.
sub timestamp {
    my @t = localtime(shift // time);
    return sprintf('%02d%02d%02d%02d%02d', $t[4] + 1, $t[3], $t[2], $t[1],
        $t[0]) + 0;
}

# AuthenticatorSource = MD5(Source_Addr, 9 zero octets, secret, timestamp
# as 10 digits).
sub auth_source {
    my ($sp, $secret, $ts) = @_;
    return md5($sp . ("\0" x 9) . $secret . sprintf('%010d', $ts));
}

# AuthenticatorISMG = MD5(Status, AuthenticatorSource, secret); Status is
# 4 octets in 3.0 and 1 in 2.0.
sub auth_ismg {
    my ($v, $status, $source, $secret) = @_;
    return md5(pack($v == 0x30 ? 'N' : 'C', $status) . $source . $secret);
}

# Sends CONNECT and reads CONNECT_RESP: { status, auth_ismg, version,
# source (our AuthenticatorSource), seq }, or undef. version => asks for
# another version than the client's own layout.
sub login {
    my ($self, $sp, $secret, %o) = @_;
    my $ts = $o{timestamp} // timestamp();
    my $src = auth_source($sp, $secret, $ts);
    my $seq = $self->send_msg(CONNECT,
        pack('a6 a16 C N', $sp, $src, $o{version} // $self->{v}, $ts));
    my $m = $self->expect(CONNECT | RESP, $o{secs}) or return undef;
    my %r = (seq => $m->{seq}, source => $src, len => length $m->{body});
    @r{qw(status auth_ismg version)} =
        unpack($self->v3 ? 'N a16 C' : 'C a16 C', $m->{body});
    return \%r;
}

# ---- SUBMIT ----------------------------------------------------------------

# A SUBMIT body (the spec's field order, one destination). content holds
# the octets as sent (UDH included); the rest have free-service defaults.
sub submit_body {
    my ($self, %o) = @_;
    my $c = $o{content} // '';
    my @head = ("\0" x 8, $o{pk_total} // 1, $o{pk_number} // 1,
        $o{registered} // 0, 0, $o{service_id} // 'SVC', 0);
    my @mid = (0, $o{udhi} // 0, $o{fmt} // 0, $o{msg_src} // '',
        '01', '000000', '', '', $o{src_id} // '10659000', 1,
        $o{dest} // '13800138000');
    return $self->v3
        ? pack('a8 C C C C a10 C a32 C', @head, '', 0)
          . pack('C C C a6 a2 a6 a17 a17 a21 C a32 C', @mid, 0)
          . pack('C', length $c) . $c . pack('a20', '')
        : pack('a8 C C C C a10 C a21', @head, '')
          . pack('C C C a6 a2 a6 a17 a17 a21 C a21', @mid)
          . pack('C', length $c) . $c . pack('a8', '');
}

# SUBMIT_RESP: { msg_id (8 octets), result }.
sub parse_submit_resp {
    my ($self, $body) = @_;
    my %r;
    @r{qw(msg_id result)} = unpack($self->v3 ? 'a8 N' : 'a8 C', $body);
    return \%r;
}

# Msg_Id's fields: month 4 bits, day 5, hour 5, minute 6, second 6,
# gateway 22, sequence 16, from the most significant end.
sub msgid_fields {
    my ($id) = @_;
    my ($hi, $lo) = unpack 'NN', $id;
    return { month => $hi >> 28, day => ($hi >> 23) & 31,
        hour => ($hi >> 18) & 31, minute => ($hi >> 12) & 63,
        second => ($hi >> 6) & 63,
        gateway => (($hi & 63) << 16) | ($lo >> 16), sequence => $lo & 0xffff };
}

# ---- DELIVER ---------------------------------------------------------------

# DELIVER: { msg_id, dest_id, service_id, udhi, fmt, src, registered,
# content, and for a status report report => { msg_id, stat, submit_time,
# done_time, dest, smsc_sequence } }.
sub parse_deliver {
    my ($self, $body) = @_;
    my %d;
    my $t = $self->v3 ? 'a8 Z21 Z10 C C C Z32 C C C' : 'a8 Z21 Z10 C C C Z21 C C';
    my @f = unpack $t, $body;
    @d{qw(msg_id dest_id service_id pid udhi fmt src)} = @f[0 .. 6];
    my $i = 7;
    $i++ if $self->v3;                 # Src_terminal_type
    @d{qw(registered len)} = @f[$i, $i + 1];
    my $head = $self->v3 ? 8 + 21 + 10 + 3 + 32 + 1 + 1 + 1
                         : 8 + 21 + 10 + 3 + 21 + 1 + 1;
    $d{content} = substr($body, $head, $d{len});
    $d{tail} = length($body) - $head - $d{len};
    if ($d{registered} == 1) {
        my %r;
        @r{qw(msg_id stat submit_time done_time dest smsc_sequence)} =
            unpack($self->v3 ? 'a8 a7 a10 a10 Z32 N' : 'a8 a7 a10 a10 Z21 N',
                $d{content});
        $d{report} = \%r;
    }
    return \%d;
}

sub deliver_resp_body {
    my ($self, $msg_id, $result) = @_;
    return pack($self->v3 ? 'a8 N' : 'a8 C', $msg_id, $result // 0);
}

# Reads the next DELIVER and answers it with $result (0); returns it parsed.
sub take_deliver {
    my ($self, $secs, $result) = @_;
    my $m = $self->expect(DELIVER, $secs) or return undef;
    my $d = $self->parse_deliver($m->{body});
    $self->send_msg(DELIVER | RESP,
        $self->deliver_resp_body($d->{msg_id}, $result), $m->{seq});
    $d->{seq} = $m->{seq};
    return $d;
}

# Concatenation UDH at the start of content: (ref, total, seq, udh length)
# for IE 0x00 (8-bit reference) or 0x08 (16-bit), or ().
sub udh_concat {
    my ($content) = @_;
    my ($udhl, $iei) = unpack 'C C', $content;
    return (unpack('x3 C C C', $content), 6) if $udhl == 5 && $iei == 0;
    return (unpack('x3 n C C', $content), 7) if $udhl == 6 && $iei == 8;
    return ();
}

1;
