"""What the end-to-end training tests share: a training config small enough to run in seconds
(a handful of tiny synthetic sequences, two steps an epoch) and the command line they run it with."""

import subprocess
import sys

TINY_DATA = """
data:
  sources: [{kind: synthetic, count: 20}]
  val_sequences: 2
  val_pairs: 8
  synthetic_width: 160
  synthetic_height: 128
  synthetic_length: 20
"""


def tiny_optim(epochs: int) -> str:
    """A YAML mapping body for `optim:` (or a compression stage's schedule): batch 4, two steps an epoch."""
    return f"{{batch_size: 4, epochs: {epochs}, steps_per_epoch: 2, warmup_steps: 1}}"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """`rgbt-tracker ARGS` from this checkout, output captured."""
    return subprocess.run([sys.executable, "-m", "rgbt_tracker_ros.cli", *args], capture_output=True, text=True)
