#!/usr/bin/env bash
# bench/compare_postfix.sh — the README's headline figures, side by side in one
# run on one machine (quote the ratios, not the absolute numbers):
#
#   A  Postfix smtp-source -> Postfix smtp-sink          (the anchor)
#   B  mxdp bench --backend kernel                        (whole system in one process)
#   C  mxdp loadgen -> Postfix smtp-sink                  (same client, two servers ...)
#   D  mxdp loadgen -> mxdp serve --backend kernel        (... with real routing and delivery)
#   E  mxdp bench (dpdk: ring ports, 1 generator + 1 appliance lcore)
#   F  mxdp bench --discard (dpdk): the SMTP front end alone, smtp-sink's job
#      (every message accepted and dropped: no directory, routing or delivery)
#
# 1 KiB messages, 1 recipient, 64 connections. Each point runs REPS times; the
# median is reported. E sends 10x the messages (it is over in a fraction of a
# second otherwise). Usage: bench/compare_postfix.sh [MXDP] [MESSAGES] [REPS]
set -euo pipefail
MXDP="${1:-build/release/mxdp}"
N="${2:-50000}"
REPS="${3:-3}"
CONN=64
SIZE=1024
SINK_PORT=25260
SERVE_PORT=25250
tmp="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
user=(); [ "$(id -u)" -eq 0 ] && user=(-u nobody)

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

smtp-sink "${user[@]}" 127.0.0.1:$SINK_PORT 1024 &
"$MXDP" serve --listen 127.0.0.1:$SERVE_PORT --metrics '' --control-socket "$tmp/ctl" \
  --referral-target 127.0.0.1:$SINK_PORT 2>"$tmp/serve.log" &
sleep 1

declare -A R
for rep in $(seq "$REPS"); do
  t0=$(date +%s.%N)
  smtp-source -d -s $CONN -l $SIZE -m "$N" -f src@mxdp.test -t user1@example.test 127.0.0.1:$SINK_PORT
  t1=$(date +%s.%N)
  R[A]+="$(awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", n / (b - a)}') "
  "$MXDP" bench --backend kernel -n "$N" -c $CONN -s $SIZE --quiet --json "$tmp/b.json" >/dev/null
  R[B]+="$(/usr/bin/python3 -c "import json;print(round(json.load(open('$tmp/b.json'))['messages_per_second']))") "
  "$MXDP" loadgen -t 127.0.0.1:$SINK_PORT -n "$N" -c $CONN -s $SIZE --quiet --json "$tmp/c.json" >/dev/null
  R[C]+="$(/usr/bin/python3 -c "import json;print(round(json.load(open('$tmp/c.json'))['messages_per_second']))") "
  "$MXDP" loadgen -t 127.0.0.1:$SERVE_PORT -n "$N" -c $CONN -s $SIZE --quiet --json "$tmp/d.json" >/dev/null
  R[D]+="$(/usr/bin/python3 -c "import json;print(round(json.load(open('$tmp/d.json'))['messages_per_second']))") "
  if "$MXDP" --version | grep -q "DPDK not linked"; then R[E]+="0 "; R[F]+="0 "; continue; fi
  "$MXDP" bench -- --backend dpdk -n $((N * 10)) -c $CONN -s $SIZE --quiet --json "$tmp/e.json" >/dev/null
  R[E]+="$(/usr/bin/python3 -c "import json;print(round(json.load(open('$tmp/e.json'))['messages_per_second']))") "
  "$MXDP" bench -- --backend dpdk --discard -n $((N * 10)) -c $CONN -s $SIZE --quiet --json "$tmp/f.json" >/dev/null
  R[F]+="$(/usr/bin/python3 -c "import json;print(round(json.load(open('$tmp/f.json'))['messages_per_second']))") "
done

A=$(echo ${R[A]} | tr ' ' '\n' | median); B=$(echo ${R[B]} | tr ' ' '\n' | median)
C=$(echo ${R[C]} | tr ' ' '\n' | median); D=$(echo ${R[D]} | tr ' ' '\n' | median)
E=$(echo ${R[E]} | tr ' ' '\n' | median); F=$(echo ${R[F]} | tr ' ' '\n' | median)
echo "messages/s, median of $REPS runs of $N messages ($SIZE B, 1 rcpt, $CONN connections), $(nproc) cores"
printf "  %-52s %8s\n" "A smtp-source -> smtp-sink (anchor)" "$A"
printf "  %-52s %8s   %sx A\n" "B mxdp bench --backend kernel" "$B" "$(ratio "$B" "$A")"
printf "  %-52s %8s\n" "C mxdp loadgen -> smtp-sink" "$C"
printf "  %-52s %8s   %sx C\n" "D mxdp loadgen -> mxdp serve --backend kernel" "$D" "$(ratio "$D" "$C")"
printf "  %-52s %8s   %sx B, %sx A\n" "E mxdp bench (dpdk)" "$E" "$(ratio "$E" "$B")" "$(ratio "$E" "$A")"
printf "  %-52s %8s   %sx A (front end only, like smtp-sink)\n" "F mxdp bench --discard (dpdk)" "$F" "$(ratio "$F" "$A")"
echo "  runs: A=[${R[A]}] B=[${R[B]}] C=[${R[C]}] D=[${R[D]}] E=[${R[E]}] F=[${R[F]}]"
