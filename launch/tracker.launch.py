"""Launch the RGB-T tracker node.

    ros2 launch rgbt_tracker_ros tracker.launch.py \
        visible_topic:=/camera/color/image_raw thermal_topic:=/thermal/image_raw

Arguments: namespace, visible_topic, thermal_topic, params_file (default: the shipped
config/tracker.yaml), model (a model folder; empty keeps the params file's, by default the shipped
student), visible_transport / thermal_transport (raw or compressed; empty keeps the params file's),
autostart (true: the node configures and activates itself at start; false: launch_ros's
LifecycleNode action starts it unconfigured, for a lifecycle manager to bring up), dds_profile.
Fast DDS is pointed at dds_profile, by default the shipped shared-memory profile
(config/fastdds_shm.xml: the default 512 KiB segment is smaller than one camera frame);
config/fastdds_shm_large.xml is the one for 4K cameras. The node's name and input topics come
from the package (rgbt_tracker_ros/ros/names.py), so they are written once.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import LifecycleNode, Node

from rgbt_tracker_ros.ros.names import INPUT_TOPICS, NODE_NAME
from rgbt_tracker_ros.ros.pairing import THERMAL, VISIBLE

PACKAGE = "rgbt_tracker_ros"
EXECUTABLE = "tracker_node"


def _tracker_node(context):
    parameters = [LaunchConfiguration("params_file").perform(context)]
    model = LaunchConfiguration("model").perform(context)
    if model:  # only when given: an empty argument must not clear the params file's model
        parameters.append({"model": model})
    visible_transport = LaunchConfiguration("visible_transport").perform(context)
    if visible_transport:  # likewise: empty keeps the params file's (raw by default)
        parameters.append({"visible.transport": visible_transport})
    thermal_transport = LaunchConfiguration("thermal_transport").perform(context)
    if thermal_transport:
        parameters.append({"thermal.transport": thermal_transport})
    autostart = LaunchConfiguration("autostart").perform(context).lower() in ("true", "1")
    parameters.append({"autostart": autostart})
    # A managed node is started by the lifecycle action, so that launch (and a lifecycle manager) can
    # send it transitions and see its state.
    action = Node if autostart else LifecycleNode
    return [
        action(
            package=PACKAGE,
            executable=EXECUTABLE,
            name=NODE_NAME,
            namespace=LaunchConfiguration("namespace"),
            parameters=parameters,
            remappings=[
                (INPUT_TOPICS[VISIBLE], LaunchConfiguration("visible_topic")),
                (INPUT_TOPICS[THERMAL], LaunchConfiguration("thermal_topic")),
            ],
            output="screen",
            emulate_tty=True,
        )
    ]


def generate_launch_description():
    share = get_package_share_directory(PACKAGE)
    params_file = os.path.join(share, "config", "tracker.yaml")
    profile = os.path.join(share, "config", "fastdds_shm.xml")
    return LaunchDescription([
        DeclareLaunchArgument("namespace", default_value="", description="namespace of the node and its topics"),
        DeclareLaunchArgument("visible_topic", default_value=INPUT_TOPICS[VISIBLE],
                              description="visible camera topic (sensor_msgs/Image)"),
        DeclareLaunchArgument("thermal_topic", default_value=INPUT_TOPICS[THERMAL],
                              description="thermal camera topic (sensor_msgs/Image)"),
        DeclareLaunchArgument("params_file", default_value=params_file, description="node parameters (YAML)"),
        DeclareLaunchArgument("model", default_value="",
                              description="model folder (model.json + ONNX); empty: the params file's model"),
        DeclareLaunchArgument("visible_transport", default_value="",
                              description="raw or compressed (CompressedImage on <visible_topic>/compressed); "
                                          "empty: the params file's"),
        DeclareLaunchArgument("thermal_transport", default_value="",
                              description="raw or compressed (16-bit png on <thermal_topic>/compressed); "
                                          "empty: the params file's"),
        DeclareLaunchArgument("autostart", default_value="true",
                              description="true: configure and activate at start; false: a managed node "
                                          "that waits unconfigured for its lifecycle transitions"),
        DeclareLaunchArgument("dds_profile", default_value=profile,
                              description="Fast DDS profile of the processes started here (config/fastdds_shm.xml; "
                                          "fastdds_shm_large.xml for 4K cameras)"),
        SetEnvironmentVariable("FASTDDS_DEFAULT_PROFILES_FILE", LaunchConfiguration("dds_profile")),
        OpaqueFunction(function=_tracker_node),
    ])
