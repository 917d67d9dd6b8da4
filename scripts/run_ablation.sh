#!/usr/bin/env bash
# The whole ablation of issue 4, from nothing to docs/ablation.json + docs/ablation.md:
#   1. teachers: two-stream (config/training/teacher.yaml) and mutual-prompt (teacher_mp.yaml)
#   2. the student without distillation (student_distill.yaml with the distill section removed:
#      same data, schedule and seed as the distilled students)
#   3. the student with each term alone: specific-common (CMD), path selection (CMD), style-content
#      with search masking (CKD); then all terms from the teacher, and all terms from the
#      mutual-prompt teacher (MPLKD)
#   4. the thermal-only model: RGB teacher -> compression distillation -> pruning -> fine-tuning
#      (config/training/thermal_compression.yaml), before and after pruning
#   5. every model exported (ONNX + model.json, checked against PyTorch; a model that does not export
#      is evaluated from its checkpoint through PyTorch) and the table: rgbt-tracker ablation.
# Every step skips itself when it is done (a DONE file in its run folder) and a training step resumes
# from its last.pt, so an interrupted chain continues where it stopped; delete a run folder to redo it.
#
# Usage: scripts/run_ablation.sh            (the real run: hours on a CPU)
#        QUICK=1 scripts/run_ablation.sh    (a smoke test of the whole chain: minutes, tiny schedules,
#                                            results in runs/ablation_quick/, docs/ untouched)
# Environment: RUNS (run folder), DEVICE (auto|cpu|cuda), SYNTHETIC (validation sequences, 40),
#              REAL (real thermal sequences, ../shared/data/real), THREADS (2), PYTHON (.venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
CLI=("$PYTHON" -m rgbt_tracker_ros.cli)
QUICK=${QUICK:-0}
DEVICE=${DEVICE:-auto}
THREADS=${THREADS:-2}
REAL=${REAL:-../shared/data/real}
if [[ "$QUICK" == 1 ]]; then
    RUNS=${RUNS:-runs/ablation_quick}
    SYNTHETIC=${SYNTHETIC:-2}
    TABLE=("--synthetic-length" 30 "--latency-steps" 20 "--latency-rounds" 1 "--output" "$RUNS/ablation.json"
           "--markdown" "$RUNS/ablation.md" "--title" "Ablation (QUICK smoke run: tiny schedules, not results)")
    SHORT=(--set optim.epochs=1 --set optim.steps_per_epoch=3 --set optim.batch_size=4 --set optim.warmup_steps=1
           --set data.val_sequences=2 --set data.val_pairs=8 --set run.workers=0)
    SHORT_COMPRESS=("${SHORT[@]}" --set teacher.optim.epochs=1 --set teacher.optim.steps_per_epoch=3
                    --set teacher.optim.batch_size=4 --set teacher.optim.warmup_steps=1 --set finetune.epochs=1
                    --set finetune.steps_per_epoch=3 --set finetune.batch_size=4 --set finetune.warmup_steps=1)
else
    RUNS=${RUNS:-runs/ablation}
    SYNTHETIC=${SYNTHETIC:-40}
    TABLE=("--output" docs/ablation.json "--markdown" docs/ablation.md)
    SHORT=()
    SHORT_COMPRESS=()
fi
MODELS=$RUNS/models
mkdir -p "$MODELS"
SPECS=()   # name=PATH of every model for the table

log() { printf '\n== %s ==\n' "$*" >&2; }

# train NAME CONFIG [--set ...]: rgbt-tracker train into $RUNS/NAME, resuming, skipped when done.
train() {
    local name=$1 config=$2
    shift 2
    local out=$RUNS/$name
    if [[ -f $out/DONE ]]; then log "$name: trained already"; return; fi
    local resume=()
    [[ -f $out/last.pt ]] && resume=(--resume "$out/last.pt")
    log "$name: training ($config $*)"
    "${CLI[@]}" train --config "$config" --output-dir "$out" --device "$DEVICE" \
        --set "name=$name" "${SHORT[@]}" "$@" "${resume[@]}"
    touch "$out/DONE"
}

# export NAME: ONNX model folder $MODELS/NAME, or the checkpoint itself when it cannot be exported.
export_model() {
    local name=$1 checkpoint=$RUNS/$1/best.pt
    if [[ -f $MODELS/$name/model.json ]]; then
        SPECS+=("$name=$MODELS/$name")
    elif "${CLI[@]}" export --checkpoint "$checkpoint" --output "$MODELS/$name" --name "$name"; then
        SPECS+=("$name=$MODELS/$name")
    else
        log "$name: no ONNX export; the table runs its checkpoint through PyTorch"
        rm -rf "${MODELS:?}/$name"
        SPECS+=("$name=$checkpoint")
    fi
}

# 1. teachers
train teacher config/training/teacher.yaml
train teacher_mp config/training/teacher_mp.yaml
export_model teacher
export_model teacher_mp

# 2-3. students: one config, the terms switched by overrides
TEACHER=$RUNS/teacher/best.pt
TEACHER_MP=$RUNS/teacher_mp/best.pt
DISTIL=config/training/student_distill.yaml
NO_SC=(--set distill.specific_common.enabled=false)
NO_PS=(--set distill.path_selection.enabled=false)
NO_CKD=(--set distill.style_content.enabled=false --set distill.masking.search_mask_ratio=0)
train student_plain "$DISTIL" --set distill=null
train student_sc "$DISTIL" --set "distill.teacher=$TEACHER" "${NO_PS[@]}" "${NO_CKD[@]}"
train student_ps "$DISTIL" --set "distill.teacher=$TEACHER" "${NO_SC[@]}" "${NO_CKD[@]}"
train student_ckd "$DISTIL" --set "distill.teacher=$TEACHER" "${NO_SC[@]}" "${NO_PS[@]}"
train student_all "$DISTIL" --set "distill.teacher=$TEACHER"
train student_all_mp "$DISTIL" --set "distill.teacher=$TEACHER_MP"
for name in student_plain student_sc student_ps student_ckd student_all student_all_mp; do
    export_model "$name"
done

# 4. the thermal-only compressed model (its stages skip/resume themselves)
log "thermal compression"
"${CLI[@]}" compress --config config/training/thermal_compression.yaml --device "$DEVICE" \
    --output-dir "$RUNS/thermal_compression" \
    --set "export.output=$MODELS/thermal_pruned" --set "export.unpruned_output=$MODELS/thermal_distilled" \
    "${SHORT_COMPRESS[@]}"
SPECS+=("thermal_distilled=$MODELS/thermal_distilled" "thermal_pruned=$MODELS/thermal_pruned")

# 5. the table (all latencies measured in this one run)
log "ablation table"
REAL_ARGS=()
[[ -d $REAL ]] && REAL_ARGS=(--real "$REAL")
"${CLI[@]}" ablation --models "${SPECS[@]}" --synthetic "$SYNTHETIC" "${REAL_ARGS[@]}" \
    --reference teacher --threads "$THREADS" "${TABLE[@]}"
