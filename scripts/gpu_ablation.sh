#!/usr/bin/env bash
# The training phases of scripts/run_ablation.sh on a lent GPU machine (16 cores, one GPU, no
# network, the image's own python3 with torch), in parallel, inside one call's time limit; then the
# run folders packed into $OUT for the trip back (finished runs' checkpoints without their optimiser
# state, the archive split into parts under the tool's per-file limit). Exports and the table run back on the
# development CPU, where the latencies of the table must be measured:
#   PHASES=table scripts/run_ablation.sh
#
# Usage on the device:  PHASES=teachers BUDGET_S=480 WORKERS=5 scripts/gpu_ablation.sh
# Back here:            cat <files_at>/runs.tgz.part-* | tar xzf -
set -uo pipefail
cd "$(dirname "$0")/.."
: "${OUT:?OUT must name the folder whose files come back}"
RUNS=${RUNS:-runs/ablation}
BUDGET_S=${BUDGET_S:-480}

nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -c 'import torch, numpy, cv2; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), "numpy", numpy.__version__, "cv2", cv2.__version__)'

# Carried-in runs (earlier phases) arrive as an archive in .carry/.
if compgen -G ".carry/runs.tgz.part-*" >/dev/null; then cat .carry/runs.tgz.part-* | tar xzf -; fi

started=$(date +%s)
PYTHON=python3 DEVICE=cuda PARALLEL=1 RUNS=$RUNS OMP_NUM_THREADS=2 \
    timeout "$BUDGET_S" scripts/run_ablation.sh
status=$?; sleep 3  # let killed trainings exit before packing
echo "phases '${PHASES:-}' ended with status $status after $(( $(date +%s) - started )) s"
for log in "$RUNS"/*.log; do echo "--- $log"; grep -v '^\s*$' "$log" | tr '\r' '\n' | grep -E "epoch|ERROR|Error|error|done|exported" | tail -n 6; done

# What travels: finished trainings' best.pt without optimiser state (a third of the size) and no
# last.pt; unfinished ones whole, to resume from; the compression stages whole (they resume by last.pt).
python3 - "$RUNS" <<'EOF'
import sys, pathlib, torch
for run in pathlib.Path(sys.argv[1]).iterdir():
    if (run / "DONE").is_file():
        (run / "last.pt").unlink(missing_ok=True)
        state = torch.load(run / "best.pt", map_location="cpu", weights_only=False)
        state.pop("optimizer", None)
        torch.save(state, run / "best.pt")
EOF
tar czf - "$RUNS" | split -b 15M - "$OUT/runs.tgz.part-"
ls -l "$OUT"
exit $status
