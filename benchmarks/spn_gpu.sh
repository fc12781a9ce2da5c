#!/usr/bin/env bash
# The SPN engine on one GPU: run from the repository root on a CUDA machine (the `device` tool),
#   OUT=some/dir bash benchmarks/spn_gpu.sh
# Each step writes spn-*.md/.json (as benchmarks/spn.py does) and, after every step, all of them
# packed into $OUT/spn-gpu.tgz, so a run cut short keeps the finished steps.  The log is
# $OUT/spn-gpu.log.  Figures are per wall-clock second of one process on one GPU, CUDA start included.
set -u
OUT=${OUT:-benchmarks/results}
RES=$(mktemp -d)
export PYTHONPATH=.${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
DEV=${DEV:-cuda}
T=${T:-60}
B=benchmarks/spn.py
step() { python3 $B --device $DEV --out-dir "$RES" "$@"; tar czf "$OUT/spn-gpu.tgz" -C "$RES" .; }
{
nvidia-smi -L 2>/dev/null || true
python3 -c "import torch, sys; print(sys.version.split()[0], torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name(0))"
step --cases 2x2x2:7 --restarts 1024 --batch 1024 --tag gpu-222
step --cases 3x3x3:23 --time $T --batch 2048 --tag gpu-333-b2048
step --cases 3x3x3:23 --time $T --batch 8192 --tag gpu-333-b8192
# the gradient strategies (issue 11): restarts x pairs in one tensor program; not measured yet (no GPU drawn)
step --cases 2x2x2:7 --restarts 1024 --batch 1024 --strategies paper sgd-penalty --tag gpu-222-gradient
step --cases 3x3x3:23 --time $T --batch 4096 --strategies sgd-penalty --tag gpu-333-gradient
step --cases 3x3x4:29 2x4x4:26 --time $T --batch 4096 --tag gpu-mid
step --cases 3x4x4:38 4x4x4:49 --time $((T * 3 / 4)) --batch 2048 --tag gpu-large
} 2>&1 | tee "$OUT/spn-gpu.log"
