"""ament_python package: `colcon build` on a ROS 2 install, or `pip install .` in a virtual environment."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "rgbt_tracker_ros"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test", "test.*"]),
    package_data={PACKAGE: ["weights/*/*.json", "weights/*/*.onnx", "weights/*/*.pt"]},
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.py")),
        (f"share/{PACKAGE}/config", glob("config/*.yaml") + glob("config/*.rviz") + glob("config/*.xml")),
        (f"share/{PACKAGE}/config/training", glob("config/training/*.yaml")),
    ],
    python_requires=">=3.10",
    # Runtime needs are numpy, OpenCV, PyYAML and ONNX Runtime (requirements/runtime.txt). They are not
    # listed here because on a ROS install they come from apt (python3-numpy, python3-opencv), whose
    # distributions carry other names, and console-script wrappers would refuse to start.
    install_requires=["setuptools"],
    extras_require={
        # CPU inference; GPU users take the `gpu` extra instead (CUDA / TensorRT execution providers).
        "cpu": ["onnxruntime"],
        "gpu": ["onnxruntime-gpu"],
        "train": ["torch", "onnx", "onnxscript", "scikit-image", "matplotlib", "tqdm"],
        "eval": ["matplotlib", "tqdm", "psutil", "onnx"],  # onnx: FLOP counting (evaluation/flops.py)
    },
    zip_safe=True,
    maintainer="rgbt_tracker_ros maintainers",
    maintainer_email="maintainers@rgbt-tracker.invalid",
    description="RGB-T single object tracker for ROS 2 (ONNX Runtime student distilled from a two-stream teacher).",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            f"rgbt-tracker = {PACKAGE}.cli:main",
            f"tracker_node = {PACKAGE}.ros.tracker_node:main",
        ],
    },
)
