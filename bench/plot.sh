#!/usr/bin/env bash
# The line-rate plot of docs/benchmarks.md: Mpps and cycles per packet of
# the ceiling and of each scenario (labelled with its ratio to the
# ceiling), and callgrind's instructions per packet of each scenario, from
# bench/linerate.sh --json.
#
#   bench/plot.sh [JSON]     (default: docs/benchmarks/linerate.json)
#   bench/plot.sh --run      run bench/linerate.sh --json first, save it there
#
# Writes docs/benchmarks/linerate.png (gnuplot, pngcairo).
set -euo pipefail
cd "$(dirname "$0")/.."

json=docs/benchmarks/linerate.json
if [ "${1:-}" = --run ]; then
	mkdir -p docs/benchmarks
	bash bench/linerate.sh --json >"$json.tmp"
	mv "$json.tmp" "$json"
elif [ $# -gt 0 ]; then
	json=$1
fi
[ -f "$json" ] || { echo "plot.sh: no $json (run with --run)" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "plot.sh: gnuplot missing (scripts/setup.sh installs it)" >&2; exit 1; }

data=$(mktemp)
trap 'rm -f "$data"' EXIT
# A third panel when the JSON has callgrind's figures (linerate.sh since
# issue 15's round; older files have none).
if python3 -c 'import json,sys; sys.exit(0 if "instructions_per_packet" in json.load(open(sys.argv[1]))["runs"][0] else 1)' "$json"; then
	panels=3 width=1400
else
	panels=2 width=1000
fi
python3 - "$json" >"$data" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
c = d["ceiling"]
print(f'"ceiling\\n(testpmd 5tswap)" {c["mpps"]} {c["cycles_per_packet"]} 0 "" ""')
for r in d["runs"]:
    name = r["scenario"].replace("_", " ")
    ipp = r.get("instructions_per_packet", 0)
    print(f'"{name}" {r["mpps"]} {r["cycles_per_packet"]} {ipp} '
          f'"{r["ratio_mpps"]:.2f}x" "{r["ratio_cycles"]:.2f}x"')
PY
gnuplot <<GP
set terminal pngcairo size $width,460 font "sans,10" noenhanced
set output "docs/benchmarks/linerate.png"
set multiplot layout 1,$panels title "sluice-dp, one worker lcore, 64-byte frames, closed loop over net_memif (bench/linerate.sh)"
set bmargin 6
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set grid ytics
set xtics rotate by -25 scale 0
set yrange [0:*]
set title "Mpps (forwarded; non-VIP: dropped), x the ceiling"
plot "$data" using 2:xtic(1) notitle lc rgb "#3070b0", \
     "" using (\$0):2:5 with labels offset 0,0.7 notitle
set title "busy cycles per packet, x the ceiling"
plot "$data" using 3:xtic(1) notitle lc rgb "#b05030", \
     "" using (\$0):3:6 with labels offset 0,0.7 notitle
if ($panels == 3) {
	set title "instructions per packet (callgrind, microbenchmark)"
	plot "$data" using 4:xtic(1) notitle lc rgb "#508030"
}
unset multiplot
GP
echo "plot.sh: wrote docs/benchmarks/linerate.png from $json"
