# The plot of bench/all: for each throughput case, each client's median as
# a fraction of C's (1 = as fast as C over the same librdkafka).
# usage: gnuplot -e "data='X.plot.tsv'; out='X.png'" bench/plot.gp
set terminal pngcairo size 1200,560 font "sans,10" noenhanced
set output out
set datafile separator "\t"
set datafile missing "?"
set style data histograms
set style histogram clustered gap 1.5
set style fill solid 0.85 border -1
set boxwidth 0.9
set yrange [0:*]
set ylabel "messages/s, of C"
set grid ytics
set key outside right top vertical
set xtics rotate by -20 nomirror
set arrow from graph 0, first 1 to graph 1, first 1 nohead dashtype 2 lc rgb "black"
set title "Throughput against C over the same librdkafka (medians, one run)"
plot for [i=2:9] data using i:xtic(1) title columnhead(i)
