#!/bin/bash
# <3,3,3>:23 in one run, 120 s each, one thread each, back to back (issue 11): the peer
# github:dronperminov/numerical-fast-matmul, then our ALS default and our best gradient-only strategy.
#
#   benchmarks/spn_peer_side_by_side.sh /tmp/peer     # PEER: the peer's source, unpacked OUTSIDE the repository
#
# The peer runs from its own directory with our torch and OMP/MKL threads 1 (as our --workers 1), with
# python -u so that its log survives the timeout; its files are re-proven and counted with our
# canonical key by benchmarks/spn_peer_distinct.py; our rows go to benchmarks/results/spn-gradient.json.
set -u
PEER=${1:?usage: $0 PEER_SOURCE_DIR}
W=$(cd "$(dirname "$0")/.." && pwd)
OUTD=$(mktemp -d /tmp/peer_out_XXXX)
echo "load_start $(cat /proc/loadavg)"
cd "$PEER"
T0=$(date +%s.%N)
OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 timeout 120 python -u find_decomposition.py -n 3 -m 3 -p 3 --rank 23 \
    --device cpu --batch-size 256 --restarts 100 --epochs 2 --steps 2000 -o "$OUTD" > "$OUTD.log" 2>&1
echo "peer rc $? out $OUTD log $OUTD.log load $(cat /proc/loadavg)"
echo "peer last step: $(grep 'step' "$OUTD.log" | tail -1)"
FIRST=$(find "$OUTD" -name '*.json' -printf '%T@\n' | sort -n | head -1)
[ -n "$FIRST" ] && python3 -c "print('peer first file at', round($FIRST - $T0, 1), 's')"
cd "$W"
PYTHONPATH=$W python benchmarks/spn_peer_distinct.py "$OUTD"
PYTHONPATH=$W python benchmarks/spn_gradient.py --case 3x3x3:23 --strategies default sgd-penalty --data exhaustive \
    --time 120 --seeds 0 --tag 333-trio
echo "load_end $(cat /proc/loadavg)"
