#!/usr/bin/perl
# Business::Hours 0.13 (Request Tracker's library) on the calendar benchmark's workload.
#   perl bh_bench.pl DIR N_ADD N_BETWEEN
# Reads DIR/add.csv, DIR/between.csv and DIR/holidays.txt; writes one answer per line to
# DIR/bh_add.csv and DIR/bh_between.csv; prints "bh add RATE ops/s" and "bh between RATE ops/s".
# As RT does, every call gets a fresh object and the zone comes from $ENV{TZ}.
use strict;
use warnings;
use Business::Hours;
use POSIX qw(tzset);
use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC);

my ($dir, $n_add, $n_between) = @ARGV;
$ENV{TZ} = 'America/Los_Angeles';
tzset();

sub pairs {
    my ($file, $n) = @_;
    open my $in, '<', "$dir/$file" or die "$dir/$file: $!";
    my @rows;
    while (my $line = <$in>) {
        last if @rows >= $n;
        chomp $line;
        push @rows, [ split /,/, $line ];
    }
    return @rows;
}

open my $h, '<', "$dir/holidays.txt" or die "$dir/holidays.txt: $!";
chomp(my @holidays = grep { /\S/ } <$h>);

# The shipped `support` calendar: Mon-Fri 02:00-18:00 plus its holidays.
my %hours = (
    0 => { Name => 'Sunday', Start => undef, End => undef },
    (map { $_ => { Name => "day$_", Start => '02:00', End => '18:00' } } 1 .. 5),
    6 => { Name => 'Saturday', Start => undef, End => undef },
    holidays => [@holidays],
);
sub calendar { my $bh = Business::Hours->new; $bh->business_hours(%hours); return $bh }

sub timed {
    my ($rows, $op) = @_;
    my @out;
    my $begin = clock_gettime(CLOCK_MONOTONIC);
    for my $row (@$rows) {
        my $answer = eval { $op->(@$row) };
        push @out, defined $answer ? $answer : "ERROR $@";
    }
    my $elapsed = clock_gettime(CLOCK_MONOTONIC) - $begin;
    return (\@out, @$rows / $elapsed);
}

my @adds = pairs('add.csv', $n_add);
my @betweens = pairs('between.csv', $n_between);
my ($add_out, $add_rate) = timed(\@adds, sub { calendar()->add_seconds($_[0], $_[1]) });
my ($between_out, $between_rate) = timed(\@betweens, sub { calendar()->between($_[0], $_[1]) });

for ([ 'bh_add.csv', $add_out ], [ 'bh_between.csv', $between_out ]) {
    open my $out, '>', "$dir/$_->[0]" or die "$dir/$_->[0]: $!";
    print $out "$_\n" for @{ $_->[1] };
}
printf "bh add %.1f ops/s (%d pairs)\n", $add_rate, scalar @adds;
printf "bh between %.1f ops/s (%d pairs)\n", $between_rate, scalar @betweens;
