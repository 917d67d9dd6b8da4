# Entry points; each sets up (and reuses) the virtual environment in .venv first.
SHELL := /bin/bash
VENV := .venv/bin
ROS_ENV := source scripts/ros_env.sh &&

.PHONY: env demo test train-student export-student eval bench

env:
	@scripts/setup_env.sh

demo: env
	@$(VENV)/rgbt-tracker track --synthetic 1000000 --output outputs/demo/track.txt

test: env
	@$(ROS_ENV) $(VENV)/python -m pytest -q test

train-student: env
	$(VENV)/rgbt-tracker train --config config/training/student.yaml
	$(VENV)/rgbt-tracker export --checkpoint runs/student/best.pt --output rgbt_tracker_ros/weights/student

eval: env
	$(VENV)/rgbt-tracker eval --sequences ../shared/data/real --modality thermal --output-dir outputs/eval

bench: env
	$(VENV)/rgbt-tracker bench
