# kubecheck's probe between hosts, in Perl with perl-base's modules only (Debian and Ubuntu always have
# them; it starts in ~5 ms where python3 takes ~100 ms). probe.py does the same for hosts without perl;
# the plan, the "ready"/"go"/"done"/"stop" exchange on stdin and stdout and the result lines are one
# protocol (src/collectors/fleet-probes.ts). It is sent as one command line: comments only on lines of
# their own, no string across lines. Nothing is written to disk; lookups run in forked children, and at
# its deadline (ready + wait + 4 s from its start, wait + 4 s from its go) an alarm ends it and each of them.
use strict;
# Socket's and Fcntl's compiled parts are loaded without their .pm files: Socket.pm brings Carp, warnings
# and Exporter (~7 ms of a host's CPU, two thirds of the probe's start-up). XSLoader finds a module's .so
# from its caller's file, which #line names; where that fails, the modules are loaded as usual.
BEGIN {
  my @socket = qw(PF_INET PF_INET6 AF_INET6 SOCK_STREAM SOCK_DGRAM SOL_SOCKET SO_REUSEADDR SO_ERROR INADDR_ANY inet_aton inet_pton pack_sockaddr_in pack_sockaddr_in6 getaddrinfo getnameinfo NI_NUMERICHOST NI_NUMERICSERV);
  my @fcntl = qw(F_GETFL F_SETFL O_NONBLOCK);
  for my $m (['Socket', @socket], ['Fcntl', @fcntl]) {
    my ($mod, @names) = @$m;
    my ($dir) = grep { -f "$_/$mod.pm" } @INC;
    my $ok = $dir && eval "#line 1 \"$dir/$mod.pm\"\npackage $mod; require XSLoader; XSLoader::load('$mod'); 1";
    no strict 'refs';
    if (!$ok || grep { !defined &{"${mod}::$_"} } @names) { eval "require $mod; 1" or die $@ }
    *{"main::$_"} = \&{"${mod}::$_"} for @names;
  }
}
# errno values the same on every architecture Kubernetes ships for (Errno.pm loads Config: ~1 ms).
sub EINPROGRESS () { 115 }
sub ECONNREFUSED () { 111 }
my (%plan, @listen, @names, @tcp, @udp, %expect, %accepts);
# The plan: `KEY VALUE;…` records, from the command line and, when a probe was started before the other
# hosts' facts were in, from its "go" line (the names to look up, the dials, the VXLAN peers).
sub plan {
  for my $rec (split /;/, $_[0]) {
    my ($k, @f) = split / /, $rec;
    next unless defined $k;
    if ($k eq 'listen') { push @listen, [@f] }
    elsif ($k eq 'name') { push @names, $f[0] }
    elsif ($k eq 'tcp') { push @tcp, [@f] }
    elsif ($k eq 'udp') { push @udp, [@f] }
    elsif ($k eq 'udpfrom') { $expect{$f[0]} = 1 }
    elsif ($k eq 'accept') { $accepts{$f[0]} = $f[1] }
    else { $plan{$k} = $f[0] }
  }
}
plan($ARGV[0]);
my $me = $plan{me};
# The deadline: SIGALRM's default action ends the process even inside a blocking libc call (a lookup, or a
# dial's inet_aton of a name), where a Perl handler would wait for the call to return. Each lookup child
# sets its own for what is left.
my $deadline = time + ($plan{ready} || 60) + ($plan{wait} || 5) + 4;
alarm($deadline - time);
# The clock: /proc/uptime, in 10 ms ticks (Time::HiRes is not in perl-base, and POSIX alone costs a third
# of the start-up); whole seconds if it cannot be read. A deadline due within a tick counts as due (no
# spinning on a rounding difference), and no wait is shorter than a tick.
sub now {
  my $u;
  if (open my $f, '<', '/proc/uptime') { ($u) = split / /, scalar <$f>; close $f }
  return ($u || time) + 0.001;
}
sub nb { my ($s) = @_; my $fl = fcntl($s, F_GETFL, 0); fcntl($s, F_SETFL, $fl | O_NONBLOCK); }
sub err { my ($n) = @_; local $! = $n; return "$!" }
$| = 1;
my @out;
my %looked;
# Name lookups: up to 4 children taking the names one at a time from a queue (a pipe of fixed-size
# records, each read whole), so a name that hangs in DNS holds up one child, not every 4th name; the
# answers come back on one pipe (each line one write). At most 64 names come (kubecheck's cap): the
# queue (16 KB) fits in the pipe before any child reads it.
my ($lr, @kids);
my $lookups_started;
sub start_lookups {
  return if $lookups_started || !@names;
  $lookups_started = 1;
  my ($lw, $qr, $qw);
  pipe($lr, $lw) or die "pipe: $!";
  pipe($qr, $qw) or die "pipe: $!";
  syswrite $qw, pack('A256', $_) for @names;
  close $qw;
  my $n = @names < 4 ? scalar @names : 4;
  for (1 .. $n) {
    my $pid = fork;
    next unless defined $pid;
    if ($pid == 0) {
      alarm($deadline - time > 0 ? $deadline - time : 1);
      close $lr;
      open STDIN, '<', '/dev/null';
      open STDOUT, '>', '/dev/null';
      while ((sysread($qr, my $rec, 256) // 0) == 256) {
        (my $name = $rec) =~ s/ +$//;
        my ($e, @res) = getaddrinfo($name, undef, { socktype => SOCK_STREAM });
        my (%seen, @a);
        if (!$e) { for my $r (@res) { my ($ne, $h) = getnameinfo($r->{addr}, NI_NUMERICHOST | NI_NUMERICSERV); push @a, $h if !$ne && !$seen{$h}++ } }
        syswrite $lw, "lookup $name" . (@a ? join('', map { " $_" } @a) : ' -') . "\n";
      }
      exit 0;
    }
    push @kids, $pid;
  }
  close $lw;
  close $qr;
  nb($lr);
}
start_lookups();
# Listeners on the ports nothing holds here yet (for the time of the probe only).
my (%tcpl, $udp);
for my $l (@listen) {
  my ($proto, $port) = @$l;
  my $s;
  my $ok = socket($s, PF_INET, $proto eq 'tcp' ? SOCK_STREAM : SOCK_DGRAM, 0)
    && setsockopt($s, SOL_SOCKET, SO_REUSEADDR, 1)
    && bind($s, pack_sockaddr_in($port, INADDR_ANY))
    && ($proto ne 'tcp' || listen($s, 128));
  if ($ok) {
    nb($s);
    if ($proto eq 'tcp') { $tcpl{$port} = $s } else { $udp //= $s }
    push @out, "listen $proto/$port ready";
  } else {
    push @out, "listen $proto/$port $!";
    close $s if $s;
  }
}
# Listening: say so, and wait to be told that every host listens too (or give up with what we have).
print "ready\n";
# The next line kubecheck sends ('' at the end of input): read whole, a "go" line with a plan being long.
my $inbuf = '';
sub said {
  while ($inbuf !~ /\n/) { my $got = sysread(STDIN, $inbuf, 65536, length $inbuf); last unless $got }
  $inbuf =~ s/^([^\n]*)\n?//;
  (my $line = $1) =~ s/^\s+|\s+$//g;
  return $line;
}
my $rin = '';
vec($rin, 0, 1) = 1;
my $go = select(my $rout = $rin, undef, undef, $plan{ready}) > 0 ? said() : '';
my $told = $go =~ /^go(?: (.*))?$/;
plan($1) if $told && defined $1;
# From here on it ends within the plan's wait (the alarm only if something hangs).
$deadline = time + ($plan{wait} || 5) + 4;
alarm($deadline - time);
start_lookups();
my $start = now();
my $dial_end = $start + $plan{seconds};
my $end = $start + $plan{wait};
# What the lookup children said so far (the pipe is closed when all of them are done).
sub lookups {
  my $d = '';
  my $got = sysread($lr, $d, 65536);
  if (defined $got && $got == 0) { close $lr; undef $lr }
  for my $line (split /\n/, $d) { my ($k, $name) = split / /, $line; $looked{$name} = $line if $k eq 'lookup' && defined $name }
}
# Dials: each a non-blocking connect; a refusal (the peer's probe may not listen yet) is tried again every
# 0.1 s until the end, no answer at all is given up at the dial window's end.
my (%res, %pending, %retry, %lasterr);
sub dial {
  my ($i) = @_;
  my ($addr, $port) = @{ $tcp[$i] };
  my ($s, $v6) = (undef, $addr =~ /:/);
  my $ip = $v6 ? inet_pton(AF_INET6, $addr) : inet_aton($addr);
  if (!$ip || !socket($s, $v6 ? PF_INET6 : PF_INET, SOCK_STREAM, 0)) { $res{$i} = $ip ? "$!" : 'bad address'; return }
  nb($s);
  if (connect($s, $v6 ? pack_sockaddr_in6($port, $ip) : pack_sockaddr_in($port, $ip))) { close $s; $res{$i} = 'connected'; return }
  if ($! == EINPROGRESS) { $pending{$i} = $s; return }
  settle($i, $!);
  close $s;
}
sub settle {
  my ($i, $e) = @_;
  if ($e == ECONNREFUSED && now() < $end) { $lasterr{$i} = err($e); $retry{$i} = now() + 0.1; return }
  $res{$i} = err($e);
}
if ($told) { dial($_) for 0 .. $#tcp }
my (%accepted, %heard, %acked, %last_sent);
my %peer = map { $_->[0] => $_->[1] } @udp;
my %unacked = map { $_->[0] => 1 } @udp;
my @order = sort keys %peer;
my $next_send = 0;
my $said_done = 0;
# Every wake-up drains what arrived. Of each pair of hosts the first (by name) sends "kc-probe" until the
# other's "kc-ack" comes back: the probe shows one direction, the ack (from the other's 8472) the other.
# When its own part is complete it says "done" and goes on answering the others until told "stop" (or
# stdin closes), or the end.
while ($told) {
  my $now = now();
  last if $now >= $end;
  for my $i (keys %pending) {
    next if $now < $dial_end;
    close delete $pending{$i};
    $res{$i} = 'timed out';
  }
  for my $i (keys %retry) {
    next if $now < $retry{$i};
    delete $retry{$i};
    dial($i);
  }
  if (!$said_done) {
    my $looked = keys(%looked) >= @names || $now > $start + 2;
    my $dialled = keys(%res) >= @tcp;
    my $came = !grep { ($accepted{$_} // 0) < $accepts{$_} } keys %accepts;
    if ($looked && $dialled && $came && (!$udp || (!%unacked && !grep { !$heard{$_} } keys %expect))) {
      print "done\n";
      $said_done = 1;
    }
  }
  if ($udp && %unacked && $now >= $next_send) {
    # Up to 32 peers per 10 ms tick, none again within half a second: 256 hosts starting together do not
    # all ask for each other's link-layer address in the same instant, and 50 hear from each other at once
    # (8 per 50 ms held each host 0.3 s for its 49 peers, most of the probe's time after "go").
    my @batch = grep { $unacked{$_} && $now - ($last_sent{$_} // 0) >= 0.5 } @order;
    splice @batch, 32 if @batch > 32;
    for my $name (@batch) {
      $last_sent{$name} = $now;
      my $ip = inet_aton($peer{$name});
      send($udp, "kc-probe $me", 0, pack_sockaddr_in(8472, $ip)) if $ip;
    }
    $next_send = $now + 0.01;
  }
  my $wait = 0.25;
  $wait = $end - $now if $end - $now < $wait;
  $wait = $next_send - $now if $udp && %unacked && $next_send - $now < $wait;
  for my $t (values %retry) { $wait = $t - $now if $t - $now < $wait }
  $wait = 0.01 if $wait < 0.01;
  my ($r, $w) = ('', '');
  vec($r, 0, 1) = 1;
  vec($r, fileno($_), 1) = 1 for values %tcpl;
  vec($r, fileno($udp), 1) = 1 if $udp;
  vec($r, fileno($lr), 1) = 1 if $lr;
  vec($w, fileno($_), 1) = 1 for values %pending;
  next if select($r, $w, undef, $wait) < 0;
  last if vec($r, 0, 1) && said() !~ /^go\b/;
  for my $i (keys %pending) {
    next unless vec($w, fileno($pending{$i}), 1);
    my $s = delete $pending{$i};
    my $e = unpack('i', getsockopt($s, SOL_SOCKET, SO_ERROR) // pack('i', 0));
    close $s;
    if ($e) { settle($i, $e) } else { $res{$i} = 'connected'; delete $lasterr{$i} }
  }
  for my $port (keys %tcpl) {
    next unless vec($r, fileno($tcpl{$port}), 1);
    while (accept(my $c, $tcpl{$port})) { close $c; $accepted{$port}++ }
  }
  lookups() if $lr && vec($r, fileno($lr), 1);
  next unless $udp && vec($r, fileno($udp), 1);
  while (defined(my $from = recv($udp, my $d, 512, 0))) {
    my @w = split ' ', $d;
    next unless @w == 2;
    if ($w[0] eq 'kc-probe') { $heard{$w[1]} = 1; send($udp, "kc-ack $me", 0, $from) }
    elsif ($w[0] eq 'kc-ack') { $acked{$w[1]} = 1; delete $unacked{$w[1]} }
  }
}
lookups() if $lr;
kill 'KILL', @kids if @kids;
waitpid($_, 0) for @kids;
for my $i (0 .. $#tcp) { push @out, "tcp $i " . ($res{$i} // $lasterr{$i} // 'timed out') if $told }
push @out, $looked{$_} // "lookup $_ timeout" for @names;
push @out, "inbound $_" for sort keys %heard;
push @out, "acked $_" for sort keys %acked;
print join("\n", @out, 'end'), "\n";
