# SPDX-License-Identifier: MIT
# Bar chart of bench/net/run's results. Called by bench/net/run as
#   gnuplot -e "datafile='chart.tsv'; outfile='throughput.png'; subtitle='...'" bench/net/chart.gp
# datafile: tab-separated, one line per stack that was measured: stack, TCP 1 stream Gbit/s,
# TCP 4 streams Gbit/s, UDP 64 B kpps from udpblast, the same from iperf3 -w 4M, TCP 1 stream
# and UDP 64 B as ratios to the best WireGuard row of the stack's kind ("-" for stacks
# without one), ping RTT idle and under load (ms).

if (!exists("datafile")) datafile = 'bench/net/results/chart.tsv'
if (!exists("outfile")) outfile = 'bench/net/results/throughput.png'
if (!exists("subtitle")) subtitle = ''

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
	set terminal pngcairo size 1400,1100 font "Sans,10"
} else {
	set terminal png size 1400,1100
}
set output outfile
set datafile separator "\t"
set datafile missing "-"
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

set multiplot layout 2,2 title "vwire network benchmark: two network namespaces over veth" . (subtitle ne '' ? "\n" . subtitle : '')

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

set title "Against the best WireGuard row of the same kind (routed / bridged), per figure"
stats datafile using 6 nooutput
r_max = STATS_max
stats datafile using 7 nooutput
if (STATS_max > r_max) r_max = STATS_max
set yrange [0:r_max * 1.25]
set ylabel "ratio (1 = the best WireGuard)"
plot datafile using 6:xtic(1) title "TCP 1 stream" lc rgb "#3b6ea8", \
     '' using 7 title "UDP 64 B (udpblast)" lc rgb "#c0504d", \
     1 with lines dashtype 2 lc rgb "#555555" notitle, \
     '' using ($0 - 1.0/6):6:(sprintf("%.2f", $6)) with labels offset 0,0.6 font ",7" notitle, \
     '' using ($0 + 1.0/6):7:(sprintf("%.2f", $7)) with labels offset 0,0.6 font ",7" notitle

# Under load an RTT can grow by orders of magnitude (queues): log scale.
set title "ping RTT, idle and while one TCP stream runs through the tunnel (ms, log scale)"
set logscale y
set yrange [*:*]
set ylabel "ms"
plot datafile using 8:xtic(1) title "idle" lc rgb "#4f8a3c", \
     '' using 9 title "under load" lc rgb "#a6d28f", \
     '' using ($0 - 1.0/6):8:(sprintf("%.3g", $8)) with labels offset 0,0.6 font ",7" notitle, \
     '' using ($0 + 1.0/6):9:(sprintf("%.3g", $9)) with labels offset 0,0.6 font ",7" notitle

unset multiplot
