# SPDX-License-Identifier: MIT
# Bar chart of bench/net/run's results. Called by bench/net/run as
#   gnuplot -e "datafile='chart.tsv'; outfile='throughput.png'; subtitle='...'" bench/net/chart.gp
# datafile: tab-separated, a header line, then: stack, TCP 1 stream Gbit/s, TCP 4 streams
# Gbit/s, UDP 64 B kpps from udpblast, the same from iperf3 -w 4M (only the stacks that were
# measured).

if (!exists("datafile")) datafile = 'bench/net/results/chart.tsv'
if (!exists("outfile")) outfile = 'bench/net/results/throughput.png'
if (!exists("subtitle")) subtitle = ''

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
	set terminal pngcairo size 1400,600 font "Sans,10"
} else {
	set terminal png size 1400,600
}
set output outfile
set datafile separator "\t"
stats datafile using 2 nooutput
set xrange [-0.6:STATS_records - 0.4]
set key top right
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set xtics rotate by -30 left nomirror
set bmargin 9

set multiplot layout 1,2 title "vwire network benchmark: two network namespaces over veth" . (subtitle ne '' ? "\n" . subtitle : '')

# Throughput spans two orders of magnitude (veth vs userspace WireGuard): log scale.
set title "iperf3 TCP throughput (Gbit/s, log scale)"
set logscale y
set yrange [0.05:*]
set ylabel "Gbit/s"
plot datafile using 2:xtic(1) title "1 stream" lc rgb "#3b6ea8", \
     '' using 3 title "4 streams" lc rgb "#8fb8de", \
     '' using ($0 - 1.0/6):2:(sprintf("%.3g", $2)) with labels offset 0,0.6 font ",7" notitle, \
     '' using ($0 + 1.0/6):3:(sprintf("%.3g", $3)) with labels offset 0,0.6 font ",7" notitle

set title "UDP, 64-byte payloads at full speed: packets received (kpps)"
unset logscale y
# Room above the tallest bar for the key.
stats datafile using 4 nooutput
udp_max = STATS_max
stats datafile using 5 nooutput
if (STATS_max > udp_max) udp_max = STATS_max
set yrange [0:udp_max * 1.25]
set ylabel "kpps"
plot datafile using 4:xtic(1) title "udpblast (batched load)" lc rgb "#c0504d", \
     '' using 5 title "iperf3 -w 4M" lc rgb "#e6a5a3", \
     '' using ($0 - 1.0/6):4:(sprintf("%.0f", $4)) with labels offset 0,0.6 font ",7" notitle, \
     '' using ($0 + 1.0/6):5:(sprintf("%.0f", $5)) with labels offset 0,0.6 font ",7" notitle

unset multiplot
