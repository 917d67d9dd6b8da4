# Entry points; each sets up (and reuses) the virtual environment in .venv first.
SHELL := /bin/bash
VENV := .venv/bin
ROS_ENV := source scripts/ros_env.sh &&

.PHONY: env demo test train-student export-student eval bench node-bench

env:
	@scripts/setup_env.sh

# Player, tracker node and service initialisation as separate processes over DDS on localhost.
demo: env
	@$(ROS_ENV) $(VENV)/rgbt-tracker demo --output-dir outputs/demo

test: env
	@$(ROS_ENV) $(VENV)/python -m pytest -q test

train-student: env
	$(VENV)/rgbt-tracker train --config config/training/student.yaml
	$(VENV)/rgbt-tracker export --checkpoint runs/student/best.pt --output rgbt_tracker_ros/weights/student

eval: env
	$(VENV)/rgbt-tracker eval --sequences ../shared/data/real --modality thermal --output-dir outputs/eval

bench: env
	$(VENV)/rgbt-tracker bench

# The running node at 30 Hz (640x480 rgb8 + 640x512 mono16): latency, rate, drops, CPU, memory.
node-bench: env
	@$(ROS_ENV) $(VENV)/rgbt-tracker node-bench
