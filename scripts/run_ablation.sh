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
#   sweep: term weights and combinations around the best single term (students only, same schedule),
#      their own table (docs/ablation_sweep.md/.json) beside the plain, specific-common and all-terms rows.
# Every step skips itself when it is done (a DONE file in its run folder) and a training step resumes
# from its last.pt, so an interrupted chain continues where it stopped; delete a run folder to redo it.
#
# Usage: scripts/run_ablation.sh              (PROFILE=full, the configs' schedules: a GPU's work,
#                                               days on a CPU; results in runs/ablation/)
#        PROFILE=cpu scripts/run_ablation.sh  (the short schedules a 2-core CPU affords in about 3 hours:
#                                               the run behind docs/ablation.md; runs/ablation_cpu/)
#        QUICK=1 scripts/run_ablation.sh      (a smoke test of the whole chain: minutes, tiny schedules,
#                                               results in runs/ablation_quick/, docs/ untouched)
# Environment: RUNS (run folder), DEVICE (auto|cpu|cuda), SYNTHETIC (validation sequences, 40),
#              REAL (real thermal sequences, ../shared/data/real), THREADS (2), PYTHON (.venv/bin/python),
#              PROFILE (full|cpu|quick), ONLY (names of the trainings to run, e.g. "teacher student_all"),
#              PHASES (which of "teachers students sweep compress table" to run; default all of them),
#              PARALLEL (1: the trainings of one phase run at once, for a GPU machine with many cores;
#                        their logs go to RUNS/NAME.log), WORKERS (data loader processes per training)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
CLI=("$PYTHON" -m rgbt_tracker_ros.cli)
QUICK=${QUICK:-0}
PROFILE=${PROFILE:-$([[ $QUICK == 1 ]] && echo quick || echo full)}
PHASES=${PHASES:-teachers students sweep compress table}
PARALLEL=${PARALLEL:-0}
WORKERS=${WORKERS:-}
ONLY=${ONLY:-}   # names of the trainings to run (default: all); others are skipped
DEVICE=${DEVICE:-auto}
THREADS=${THREADS:-2}
REAL=${REAL:-../shared/data/real}
SPECS=()   # name=PATH of every model for the table
T_EPOCHS=(); MP_EPOCHS=(); S_EPOCHS=()   # per-run schedule overrides of a profile
LONG_EPOCHS=()   # cpu profile: plain and specific-common students also trained as many steps as the teacher
COMPRESS_TEACHER=""                       # the RGB teacher of the compression (set per profile)
case "$PROFILE" in
quick)
    RUNS=${RUNS:-runs/ablation_quick}
    SYNTHETIC=${SYNTHETIC:-2}
    SWEEP_TABLE=("--output" "$RUNS/ablation_sweep.json" "--markdown" "$RUNS/ablation_sweep.md")
    TABLE=("--synthetic-length" 30 "--latency-steps" 20 "--latency-rounds" 1 "--output" "$RUNS/ablation.json"
           "--markdown" "$RUNS/ablation.md" "--title" "Ablation (QUICK smoke run: tiny schedules, not results)")
    SHORT=(--set optim.epochs=1 --set optim.steps_per_epoch=3 --set optim.batch_size=4 --set optim.warmup_steps=1
           --set data.val_sequences=2 --set data.val_pairs=8 --set run.workers=0)
    SHORT_COMPRESS=("${SHORT[@]}" --set teacher.optim.epochs=1 --set teacher.optim.steps_per_epoch=3
                    --set teacher.optim.batch_size=4 --set teacher.optim.warmup_steps=1 --set finetune.epochs=1
                    --set finetune.steps_per_epoch=3 --set finetune.batch_size=4 --set finetune.warmup_steps=1)
    COMPRESS_TEACHER=$RUNS/teacher/best.pt
    ;;
cpu)  # what a 2-core CPU affords in about 3 hours (the sweep phase is 40 min of it) (docs/ablation.md says how it differs from full)
    RUNS=${RUNS:-runs/ablation_cpu}
    SYNTHETIC=${SYNTHETIC:-40}
    SWEEP_TABLE=("--output" docs/ablation_sweep.json "--markdown" docs/ablation_sweep.md
                 "--title" "Term-weight sweep, CPU schedule (students 400 steps of batch 16, teacher of the ablation)")
    TABLE=("--output" docs/ablation.json "--markdown" docs/ablation.md
           "--title" "Ablation, CPU schedule (batch 16; teacher 800 steps, mutual-prompt teacher 400, students 400 each, _long students 800)")
    SHORT=(--set optim.batch_size=16 --set optim.warmup_steps=50 --set data.val_pairs=192 --set run.workers=1
           --set run.threads=2)
    T_EPOCHS=(--set optim.epochs=4); MP_EPOCHS=(--set optim.epochs=2); S_EPOCHS=(--set optim.epochs=2)
    LONG_EPOCHS=(--set optim.epochs=4)
    SHORT_COMPRESS=(--set optim.batch_size=16 --set optim.epochs=1 --set optim.warmup_steps=50
                    --set finetune.batch_size=16 --set finetune.epochs=1 --set finetune.steps_per_epoch=100
                    --set finetune.warmup_steps=20 --set data.val_pairs=192 --set run.threads=2)
    # The shipped student's visible path is the RGB tracker (Li et al.'s teacher, same architecture,
    # so the thermal branch starts as its copy): no teacher stage to train on this CPU.
    COMPRESS_TEACHER=rgbt_tracker_ros/weights/student/student.pt
    SPECS+=("shipped_student=rgbt_tracker_ros/weights/student")   # the default model (15 epochs, batch 32), for scale
    ;;
full)
    RUNS=${RUNS:-runs/ablation}
    SYNTHETIC=${SYNTHETIC:-40}
    TABLE=("--output" docs/ablation.json "--markdown" docs/ablation.md)
    SWEEP_TABLE=("--output" docs/ablation_sweep.json "--markdown" docs/ablation_sweep.md)
    SHORT=()
    SHORT_COMPRESS=()
    COMPRESS_TEACHER=$RUNS/teacher/best.pt   # the two-stream teacher's visible stream
    ;;
*) echo "PROFILE must be full, cpu or quick, not '$PROFILE'" >&2; exit 2 ;;
esac
MODELS=$RUNS/models
mkdir -p "$MODELS"

log() { printf '\n== %s ==\n' "$*" >&2; }
phase() { [[ " $PHASES " == *" $1 "* ]]; }
EXTRA=()
[[ -n $WORKERS ]] && EXTRA=(--set "run.workers=$WORKERS")
PIDS=()
# wait_all: wait for the trainings started in the background; fail if any failed.
wait_all() {
    local failed=0
    for pid in "${PIDS[@]}"; do wait "$pid" || failed=1; done
    PIDS=()
    [[ $failed == 0 ]] || { log "a training failed (see $RUNS/*.log)"; exit 1; }
}

# train NAME CONFIG [--set ...]: rgbt-tracker train into $RUNS/NAME, resuming, skipped when done.
train() {
    local name=$1 config=$2
    shift 2
    local out=$RUNS/$name
    if [[ -n $ONLY && " $ONLY " != *" $name "* ]]; then return; fi
    if [[ -f $out/DONE ]]; then log "$name: trained already"; return; fi
    local resume=()
    [[ -f $out/last.pt ]] && resume=(--resume "$out/last.pt")
    log "$name: training ($config $*)"
    local command=("${CLI[@]}" train --config "$config" --output-dir "$out" --device "$DEVICE"
                   --set "name=$name" "${SHORT[@]}" "${EXTRA[@]}" "$@" "${resume[@]}")
    if [[ $PARALLEL == 1 ]]; then
        mkdir -p "$RUNS"
        ( "${command[@]}" >"$RUNS/$name.log" 2>&1 && touch "$out/DONE" ) &
        PIDS+=($!)
    else
        "${command[@]}"
        touch "$out/DONE"
    fi
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

# 1. teachers (and the student without distillation, which needs no teacher)
DISTIL=config/training/student_distill.yaml
if phase teachers; then
    train teacher config/training/teacher.yaml "${T_EPOCHS[@]}"
    train teacher_mp config/training/teacher_mp.yaml "${MP_EPOCHS[@]}"
    train student_plain "$DISTIL" --set distill=null "${S_EPOCHS[@]}"
    wait_all
fi

# 2-3. students: one config, the terms switched by overrides
TEACHER=$RUNS/teacher/best.pt
TEACHER_MP=$RUNS/teacher_mp/best.pt
NO_SC=(--set distill.specific_common.enabled=false)
NO_PS=(--set distill.path_selection.enabled=false)
NO_CKD=(--set distill.style_content.enabled=false --set distill.masking.search_mask_ratio=0)
if phase students; then
train student_plain "$DISTIL" --set distill=null "${S_EPOCHS[@]}"   # skipped when the teachers phase trained it
train student_sc "$DISTIL" --set "distill.teacher=$TEACHER" "${NO_PS[@]}" "${NO_CKD[@]}" "${S_EPOCHS[@]}"
train student_ps "$DISTIL" --set "distill.teacher=$TEACHER" "${NO_SC[@]}" "${NO_CKD[@]}" "${S_EPOCHS[@]}"
train student_ckd "$DISTIL" --set "distill.teacher=$TEACHER" "${NO_SC[@]}" "${NO_PS[@]}" "${S_EPOCHS[@]}"
train student_all "$DISTIL" --set "distill.teacher=$TEACHER" "${S_EPOCHS[@]}"
train student_all_mp "$DISTIL" --set "distill.teacher=$TEACHER_MP" "${S_EPOCHS[@]}"
if [[ ${#LONG_EPOCHS[@]} -gt 0 ]]; then   # the teacher's number of steps: student vs teacher at equal steps
    train student_plain_long "$DISTIL" --set distill=null "${LONG_EPOCHS[@]}"
    train student_sc_long "$DISTIL" --set "distill.teacher=$TEACHER" "${NO_PS[@]}" "${NO_CKD[@]}" "${LONG_EPOCHS[@]}"
fi
fi

# sweep: why all terms together did worse than specific-common alone (CPU profile): masking, each
# added term, lighter weights on the added terms, the specific-common weight.
SWEEP_NAMES=(student_all_nomask student_sc_ps student_sc_ckd student_all_light student_sc_w05 student_sc_w2)
if phase sweep; then
train student_all_nomask "$DISTIL" --set "distill.teacher=$TEACHER" --set distill.masking.search_mask_ratio=0 "${S_EPOCHS[@]}"
train student_sc_ps "$DISTIL" --set "distill.teacher=$TEACHER" "${NO_CKD[@]}" "${S_EPOCHS[@]}"
train student_sc_ckd "$DISTIL" --set "distill.teacher=$TEACHER" "${NO_PS[@]}" "${S_EPOCHS[@]}"
train student_all_light "$DISTIL" --set "distill.teacher=$TEACHER" --set distill.path_selection.weight=0.3 \
    --set distill.style_content.weight=0.3 --set distill.masking.search_mask_ratio=0.1 "${S_EPOCHS[@]}"
train student_sc_w05 "$DISTIL" --set "distill.teacher=$TEACHER" "${NO_PS[@]}" "${NO_CKD[@]}" \
    --set distill.specific_common.weight=0.5 "${S_EPOCHS[@]}"
train student_sc_w2 "$DISTIL" --set "distill.teacher=$TEACHER" "${NO_PS[@]}" "${NO_CKD[@]}" \
    --set distill.specific_common.weight=2 "${S_EPOCHS[@]}"
wait_all
fi

# 4. the thermal-only compressed model (its stages skip/resume themselves); in parallel mode it runs
#    beside the students. Its RGB teacher is the profile's COMPRESS_TEACHER.
if phase compress; then
    log "thermal compression"
    compress=("${CLI[@]}" compress --config config/training/thermal_compression.yaml --device "$DEVICE"
              --output-dir "$RUNS/thermal_compression" --set "teacher.checkpoint=$COMPRESS_TEACHER"
              --set "export.output=$MODELS/thermal_pruned" --set "export.unpruned_output=$MODELS/thermal_distilled"
              "${SHORT_COMPRESS[@]}" "${EXTRA[@]}")
    if [[ $PARALLEL == 1 ]]; then
        ( "${compress[@]}" >"$RUNS/thermal_compression.log" 2>&1 ) &
        PIDS+=($!)
    else
        "${compress[@]}"
    fi
fi
wait_all
phase table || exit 0

# 5. every model exported, then the table (all latencies measured in this one run)
NAMES=(teacher teacher_mp student_plain student_sc student_ps student_ckd student_all student_all_mp)
[[ ${#LONG_EPOCHS[@]} -gt 0 ]] && NAMES+=(student_plain_long student_sc_long)
for name in "${NAMES[@]}"; do
    export_model "$name"
done
SPECS+=("thermal_distilled=$MODELS/thermal_distilled" "thermal_pruned=$MODELS/thermal_pruned")
log "ablation table"
REAL_ARGS=()
[[ -d $REAL ]] && REAL_ARGS=(--real "$REAL")
"${CLI[@]}" ablation --models "${SPECS[@]}" --synthetic "$SYNTHETIC" "${REAL_ARGS[@]}" \
    --reference teacher --baseline student_plain --threads "$THREADS" "${TABLE[@]}"

# the sweep's table, when its students exist (synthetic split only: latency is the students' above)
SPECS=()
if [[ -f $RUNS/${SWEEP_NAMES[0]}/best.pt ]]; then
    for name in student_plain student_sc student_all "${SWEEP_NAMES[@]}"; do
        export_model "$name"
    done
    log "sweep table"
    "${CLI[@]}" ablation --models "${SPECS[@]}" --synthetic "$SYNTHETIC" --baseline student_plain \
        --threads "$THREADS" --latency-steps 20 --latency-rounds 1 "${SWEEP_TABLE[@]}"
fi
