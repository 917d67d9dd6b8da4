# Entry points; each sets up (and reuses) the virtual environment in .venv first.
SHELL := /bin/bash
VENV := .venv/bin
ROS_ENV := source scripts/ros_env.sh &&

.PHONY: env demo test test-fast train-student train-distilled ablation export-student eval bench node-bench

env:
	@scripts/setup_env.sh

# Player, tracker node and service initialisation as separate processes over DDS on localhost.
demo: env
	@$(ROS_ENV) $(VENV)/rgbt-tracker demo --output-dir outputs/demo

test: env
	@$(ROS_ENV) $(VENV)/python -m pytest -q test

# The fast subset (no test marked slow): under a minute here.
test-fast: env
	@$(ROS_ENV) $(VENV)/python -m pytest -q -m "not slow" test

train-student: env
	$(VENV)/rgbt-tracker train --config config/training/student.yaml
	$(VENV)/rgbt-tracker export --checkpoint runs/student/best.pt --output rgbt_tracker_ros/weights/student

# How the shipped default was made (docs/distillation.md, "The distilled default", and
# docs/thermal_world.md; about 4 h on this 2-core CPU): the plain student, the two-stream teacher
# (10 epochs, bf16), the plain student trained 8 more epochs with CMD specific-common distillation from
# the teacher, then 600 more steps on the structured thermal world with the same term and the frozen NanoTrack v2
# peer (../shared/models/peers), exported as the
# default model. Each stage resumes from its last.pt (--resume auto), so the chain can be stopped and run again.
train-distilled: env
	$(VENV)/rgbt-tracker train --config config/training/student.yaml --resume auto
	$(VENV)/rgbt-tracker train --config config/training/teacher.yaml --resume auto
	$(VENV)/rgbt-tracker train --config config/training/student_sc_ft.yaml --resume auto
	$(VENV)/rgbt-tracker train --config config/training/student_both_distill.yaml --resume auto \
		--set run.init=runs/student_sc_ft/best.pt --set distill.teacher=runs/teacher/best.pt
	$(VENV)/rgbt-tracker export --checkpoint runs/student_both_distill/best.pt --name student --output rgbt_tracker_ros/weights/student

# The ablation of docs/ablation.md: teachers, students with each term, the pruned thermal model, the table.
# PROFILE=cpu (default): the short schedules a 2-core CPU affords (about 3 h, sweep included); PROFILE=full: the configs'.
PROFILE ?= cpu
ablation: env
	PROFILE=$(PROFILE) scripts/run_ablation.sh

# The real thermal sequences: student beside CSRT, KCF, NanoTrack v2 and VitTrack (models read in place from
# ../shared/models/peers; a missing file skips that peer), plots, per-run timelines and worst-frame strips.
eval: env
	$(VENV)/rgbt-tracker eval --sequences ../shared/data/real --modality thermal --peer-models ../shared/models/peers --analysis --output-dir outputs/eval

# The student's figures, then its per-frame time beside each peer on the same frames (interleaved).
bench: env
	$(VENV)/rgbt-tracker bench --peer-models ../shared/models/peers

# The running node at 30 Hz (640x480 rgb8 + 640x512 mono16): latency, rate, drops, CPU, memory.
node-bench: env
	@$(ROS_ENV) $(VENV)/rgbt-tracker node-bench
