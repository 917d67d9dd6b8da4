#!/usr/bin/env bash
# Issue 15: the runtime's CUDA and TensorRT execution providers and GPU training, run for real on a
# lent GPU machine (docs/gpu.md). Three steps:
#
#   here    scripts/device_check.sh split            download onnxruntime-gpu (the runtime's ORT version,
#                                                    built for CUDA 13) into .device/, split it into
#                                                    parts of one call's size: .device/part1 ... partN
#   there   scripts/device_check.sh receive PART     one call per part, back to back (the machine stays
#                                                    warm 30 s): keep the part in /tmp/ort_parts
#   there   scripts/device_check.sh run              reassemble and check the hash, install, then:
#                                                    provider-check (student, teacher), train-bench of
#                                                    three configs (fp32, bf16), a longer teacher run;
#                                                    figures and logs to $OUT
#
#   here    DRY_RUN=1 scripts/device_check.sh run    the same run on this CPU: CPU provider, a few
#                                                    steps, no wheel (what is checked before a lease)
#
# Settings (environment): TRAIN_S (seconds for the longer run, default 240), PART_MB (default 36: the
# working tree travels with each part and a call carries 64 MiB), PYTHON (default python3).
set -uo pipefail
cd "$(dirname "$0")/.."

ORT_VERSION=$(sed -n 's/^onnxruntime==//p' requirements/runtime.txt)
WHEEL_DIR=.device
PARTS=/tmp/ort_parts
PYTHON=${PYTHON:-python3}
DRY_RUN=${DRY_RUN:-0}

split_wheel() {
    mkdir -p "$WHEEL_DIR"
    grep -qx "/$WHEEL_DIR/" "$(git rev-parse --git-path info/exclude)" 2>/dev/null \
        || echo "/$WHEEL_DIR/" >> "$(git rev-parse --git-path info/exclude)"
    local wheel
    wheel=$(ls "$WHEEL_DIR"/onnxruntime_gpu-"$ORT_VERSION"-*.whl 2>/dev/null | head -n 1)
    if [ -z "$wheel" ]; then
        python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
            --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 -d "$WHEEL_DIR" \
            "onnxruntime-gpu==$ORT_VERSION" || return 2
        wheel=$(ls "$WHEEL_DIR"/onnxruntime_gpu-"$ORT_VERSION"-*.whl | head -n 1)
    fi
    unzip -p "$wheel" '*/METADATA' | grep -q 'nvidia-cuda-runtime~=13' \
        || { echo "device_check: $wheel is not built for CUDA 13" >&2; return 2; }
    rm -rf "$WHEEL_DIR"/part*
    local name; name=$(basename "$wheel")
    (cd "$WHEEL_DIR" && sha256sum "$name" > "$name.sha256" && split -b "${PART_MB:-36}M" -d -a 1 "$name" "$name.part-")
    local i=1
    for part in "$WHEEL_DIR/$name".part-*; do
        mkdir -p "$WHEEL_DIR/part$i"
        mv "$part" "$WHEEL_DIR/part$i/"
        cp "$WHEEL_DIR/$name.sha256" "$WHEEL_DIR/part$i/"
        i=$((i + 1))
    done
    du -sh "$WHEEL_DIR"/part* | sed 's/^/device_check: /'
    echo "device_check: $((i - 1)) parts; send each with: run(command='scripts/device_check.sh receive $WHEEL_DIR/partK', carry=['$WHEEL_DIR/partK'])"
}

receive() {
    local from=${1:?receive takes the carried part folder}
    mkdir -p "$PARTS"
    cp "$from"/* "$PARTS"/ && ls -l "$PARTS"
}

install_wheel() {
    local sums; sums=$(ls "$PARTS"/*.sha256 2>/dev/null | head -n 1)
    [ -n "$sums" ] || { echo "device_check: no wheel parts in $PARTS (receive them first)" >&2; return 2; }
    local name; name=$(awk '{print $2}' "$sums")
    cat "$PARTS/$name".part-* > "/tmp/$name"
    (cd /tmp && sha256sum -c "$sums") || { echo "device_check: the reassembled wheel's hash is wrong" >&2; return 2; }
    # Its needs (numpy, protobuf, flatbuffers, packaging) and CUDA's libraries are in the image already.
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --target /tmp/site "/tmp/$name" || return 2
    export PYTHONPATH=/tmp/site:$PWD
    # The CUDA 13 libraries of the image's nvidia-* wheels, for the CUDA provider to load.
    local libs
    libs=$("$PYTHON" - <<'EOF'
import pathlib, site
roots = [pathlib.Path(p) / "nvidia" for p in site.getsitepackages()]
print(":".join(sorted({str(f.parent) for r in roots if r.is_dir() for f in r.rglob("lib*.so*")})))
EOF
)
    export LD_LIBRARY_PATH=${libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
}

cli() { "$PYTHON" -m rgbt_tracker_ros.cli "$@"; }

run_checks() {
    : "${OUT:?OUT must name the folder whose files come back}"
    export ORT_DISABLE_TELEMETRY=1 PYTHONUNBUFFERED=1
    local providers=tensorrt,cuda,cpu device=cuda bench_steps=10 train_s=${TRAIN_S:-240} runs=5 steps=200
    if [ "$DRY_RUN" = 1 ]; then
        providers=cpu device=cpu bench_steps=2 train_s=${TRAIN_S:-60} runs=1 steps=20
        export PYTHONPATH=$PWD
        PYTHON=${PYTHON_DRY:-.venv/bin/python}
    else
        install_wheel || return 2
        nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    fi
    "$PYTHON" -c 'import onnxruntime as o, torch; print("onnxruntime", o.__version__, o.get_available_providers()); print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
    local started; started=$(date +%s)

    echo "== export the teacher (torch), checked against PyTorch"
    cli export --checkpoint rgbt_tracker_ros/weights/teacher/teacher.pt --output /tmp/teacher_onnx --name teacher \
        2>&1 | grep -v "^INFO" | tail -n 3

    echo "== provider-check: student and teacher on $providers against cpu"
    cli provider-check --models student=rgbt_tracker_ros/weights/student teacher=/tmp/teacher_onnx \
        --providers "$providers" --runs "$runs" --steps "$steps" --json \
        > "$OUT/provider_check.json" 2> >(tee "$OUT/provider_check.log" >&2)

    local distill=(--set distill.teacher=rgbt_tracker_ros/weights/teacher/teacher.pt
                   --set run.init=rgbt_tracker_ros/weights/student/student.pt)
    for config in teacher student student_sc_ft; do
        echo "== train-bench $config on $device"
        local extra=(); [ "$config" = student_sc_ft ] && extra=("${distill[@]}")
        cli train-bench --config "config/training/$config.yaml" --device "$device" --steps "$bench_steps" \
            "${extra[@]}" 2>&1 | grep -v "^INFO" | tee -a "$OUT/train_bench.txt"
    done

    echo "== the teacher at a larger scale for ${train_s} s (batch 128, 50-step epochs so checkpoints land, 8 data workers), from the shipped one"
    timeout "$train_s" "$PYTHON" -m rgbt_tracker_ros.cli train --config config/training/teacher.yaml \
        --device "$device" --output-dir /tmp/teacher_gpu --set optim.batch_size=128 --set optim.steps_per_epoch=50 --set run.workers=8 \
        --set run.init=rgbt_tracker_ros/weights/teacher/teacher.pt > "$OUT/teacher_train.log" 2>&1
    echo "teacher training stopped with status $? after ${train_s} s budget"
    tr '\r' '\n' < "$OUT/teacher_train.log" | grep -E "epoch|val|Error" | tail -n 8
    # The checkpoint travels without its optimiser state (a third of the size, under 16 MiB a file).
    [ -f /tmp/teacher_gpu/best.pt ] && "$PYTHON" - "$OUT/teacher_gpu_best.pt" <<'EOF'
import sys, torch
state = torch.load("/tmp/teacher_gpu/best.pt", map_location="cpu", weights_only=False)
state.pop("optimizer", None)
torch.save(state, sys.argv[1])
EOF
    echo "== done in $(( $(date +%s) - started )) s"; ls -l "$OUT"
}

case "${1:-}" in
    split) split_wheel ;;
    receive) shift; receive "$@" ;;
    run) run_checks ;;
    *) sed -n '2,20p' "$0"; exit 2 ;;
esac
