"""launch/tracker.launch.py, config/tracker.yaml, config/fastdds_shm.xml and fastdds_shm_large.xml and config/tracker.rviz.

`launch` and `launch_ros` are not installable here, so the launch file is read (AST) and run
against small stand-ins for those two packages: what it names (executable, files, parameters,
topics) must exist in the package, and the params file must match what the node declares.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib.util
import re
import sys
import types
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from rgbt_tracker_ros.ros import parameters
from rgbt_tracker_ros.ros.dds_profile import PROFILE_VARIABLE, apply_shipped_profile, profile_problem
from rgbt_tracker_ros.ros.names import INPUT_TOPICS, NODE_NAME

REPO = Path(__file__).resolve().parents[2]
LAUNCH = REPO / "launch" / "tracker.launch.py"
PARAMS = REPO / "config" / "tracker.yaml"
PROFILE = REPO / "config" / "fastdds_shm.xml"
LARGE_PROFILE = REPO / "config" / "fastdds_shm_large.xml"  # for 4K cameras
RVIZ = REPO / "config" / "tracker.rviz"


def _tree() -> ast.Module:
    return ast.parse(LAUNCH.read_text(), filename=str(LAUNCH))


def _constants(tree: ast.Module) -> dict:
    """Module-level NAME = "string" assignments."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = node.value.value
    return out


def _value(node, constants):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


def _calls(tree, name: str) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)
            and (getattr(n.func, "id", None) == name or getattr(n.func, "attr", None) == name)]


def _flatten(mapping: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _node_call(tree) -> ast.Call:
    """The one call that starts the node (Node, or LifecycleNode with autostart false)."""
    (call,) = [c for c in ast.walk(tree)
               if isinstance(c, ast.Call) and any(k.arg == "executable" for k in c.keywords)]
    return call


def _installed_globs() -> list[str]:
    """The glob patterns setup.py's data_files install."""
    tree = ast.parse((REPO / "setup.py").read_text())
    return [_value(call.args[0], {}) for call in _calls(tree, "glob")]


def _package_name() -> str:
    return ET.parse(REPO / "package.xml").getroot().findtext("name")


# ------------------------------------------------------------------------------------- by reading

def _imported_from_names(tree: ast.Module) -> set[str]:
    """What the launch file imports from the package's module of the node's names."""
    return {alias.name for node in tree.body if isinstance(node, ast.ImportFrom)
            and node.module == "rgbt_tracker_ros.ros.names" for alias in node.names}


def test_launch_file_names_the_installed_executable():
    tree = _tree()
    constants = _constants(tree)
    node_call = _node_call(tree)
    keywords = {k.arg: _value(k.value, constants) for k in node_call.keywords}
    assert keywords["package"] == _package_name() == "rgbt_tracker_ros"
    # The node's name is the package's own constant, not a copy of it.
    assert "NODE_NAME" in _imported_from_names(tree) and "NODE_NAME" not in constants
    (name,) = [k.value for k in node_call.keywords if k.arg == "name"]
    assert isinstance(name, ast.Name) and name.id == "NODE_NAME"
    executable = keywords["executable"]
    setup = (REPO / "setup.py").read_text()
    match = re.search(rf'"{executable} = {{PACKAGE}}\.([\w.]+):(\w+)"', setup)
    assert match, f"setup.py has no console script {executable}"
    module = importlib.import_module(f"rgbt_tracker_ros.{match.group(1)}")
    assert callable(getattr(module, match.group(2)))


def test_launch_file_names_files_that_exist_and_get_installed():
    tree = _tree()
    named = []
    for call in _calls(tree, "join"):
        parts = [_value(a, {}) for a in call.args[1:]]
        if parts and all(isinstance(p, str) for p in parts):
            named.append("/".join(parts))
    assert set(named) == {"config/tracker.yaml", "config/fastdds_shm.xml"}
    patterns = _installed_globs()
    for relative in named:
        assert (REPO / relative).is_file(), relative
        assert any(fnmatch.fnmatch(relative, p) for p in patterns), f"setup.py does not install {relative}"
    assert any(fnmatch.fnmatch("launch/tracker.launch.py", p) for p in patterns)
    assert any(fnmatch.fnmatch("config/tracker.rviz", p) for p in patterns)


def test_launch_arguments_are_declared_and_used():
    tree = _tree()
    declared = {_value(c.args[0], {}) for c in _calls(tree, "DeclareLaunchArgument")}
    used = {_value(c.args[0], {}) for c in _calls(tree, "LaunchConfiguration")}
    assert declared == {"namespace", "visible_topic", "thermal_topic", "params_file", "model", "autostart",
                        "visible_transport", "thermal_transport", "dds_profile"}
    assert used == declared


def test_launch_file_remaps_the_node_inputs_and_passes_declared_parameters():
    tree = _tree()
    sources = [ast.unparse(elt.elts[0]) for k in _node_call(tree).keywords
               if k.arg == "remappings" for elt in k.value.elts]
    assert sources == ["INPUT_TOPICS[VISIBLE]", "INPUT_TOPICS[THERMAL]"]  # the node's own names
    assert "INPUT_TOPICS" in _imported_from_names(tree)
    passed = {k.value for d in ast.walk(tree) if isinstance(d, ast.Dict) for k in d.keys}
    assert passed == {"model", "autostart", "visible.transport", "thermal.transport"}
    assert passed <= set(parameters.SPEC_BY_NAME) and passed <= set(_flatten(_params()))


def test_launch_file_sets_the_fastdds_profile():
    tree = _tree()
    (call,) = _calls(tree, "SetEnvironmentVariable")
    assert _value(call.args[0], {}) == "FASTDDS_DEFAULT_PROFILES_FILE"
    value = call.args[1]  # LaunchConfiguration("dds_profile"), whose default is the shipped profile
    assert getattr(value.func, "id", None) == "LaunchConfiguration" and _value(value.args[0], {}) == "dds_profile"
    (declared,) = [c for c in _calls(tree, "DeclareLaunchArgument") if _value(c.args[0], {}) == "dds_profile"]
    default = {k.arg: k.value for k in declared.keywords}["default_value"]
    assert isinstance(default, ast.Name) and default.id == "profile"


# ------------------------------------------------------------------------------------- by running

class _Substitution:
    def __init__(self, name):
        self.name = name

    def perform(self, context):
        return context.launch_configurations.get(self.name, _DEFAULTS[self.name])


class _Recorder:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


_DEFAULTS: dict = {}


@pytest.fixture
def launch_stubs(monkeypatch):
    """Stand-ins for launch, launch_ros and ament_index_python (the share dir is the repository)."""
    launch = types.ModuleType("launch")
    launch.LaunchDescription = lambda entities: list(entities)
    actions = types.ModuleType("launch.actions")

    class DeclareLaunchArgument(_Recorder):
        def __init__(self, name, default_value="", description=""):
            super().__init__(name, default_value=default_value, description=description)
            _DEFAULTS[name] = default_value

    actions.DeclareLaunchArgument = DeclareLaunchArgument
    actions.OpaqueFunction = _Recorder
    actions.SetEnvironmentVariable = _Recorder
    substitutions = types.ModuleType("launch.substitutions")
    substitutions.LaunchConfiguration = _Substitution
    launch_ros = types.ModuleType("launch_ros")
    launch_ros_actions = types.ModuleType("launch_ros.actions")
    launch_ros_actions.Node = type("Node", (_Recorder,), {})
    launch_ros_actions.LifecycleNode = type("LifecycleNode", (_Recorder,), {})
    ament = types.ModuleType("ament_index_python.packages")
    ament.get_package_share_directory = lambda package: str(REPO)
    for name, module in {"launch": launch, "launch.actions": actions, "launch.substitutions": substitutions,
                         "launch_ros": launch_ros, "launch_ros.actions": launch_ros_actions,
                         "ament_index_python.packages": ament}.items():
        monkeypatch.setitem(sys.modules, name, module)
    spec = importlib.util.spec_from_file_location("tracker_launch", LAUNCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _launch(module, **arguments):
    entities = module.generate_launch_description()
    (opaque,) = [e for e in entities if e.kwargs.get("function")]
    context = types.SimpleNamespace(launch_configurations=arguments)
    (node,) = opaque.kwargs["function"](context)
    return entities, node


def test_launch_description_runs(launch_stubs):
    entities, node = _launch(launch_stubs)
    (env,) = [e for e in entities if e.args and e.args[0] == "FASTDDS_DEFAULT_PROFILES_FILE"]
    assert Path(env.args[1].perform(types.SimpleNamespace(launch_configurations={}))) == PROFILE
    assert node.kwargs["executable"] == "tracker_node" and node.kwargs["name"] == NODE_NAME
    assert type(node).__name__ == "Node"  # autostart: an unmanaged start
    assert node.kwargs["parameters"] == [str(PARAMS), {"autostart": True}]  # no model override unless asked for
    remaps = dict((src, sub.name) for src, sub in node.kwargs["remappings"])
    assert remaps == {"visible/image": "visible_topic", "thermal/image": "thermal_topic"}
    defaults = {e.args[0]: e.kwargs["default_value"] for e in entities if type(e).__name__ == "DeclareLaunchArgument"}
    assert defaults["visible_topic"] == INPUT_TOPICS["visible"] and defaults["thermal_topic"] == INPUT_TOPICS["thermal"]


def test_launch_dds_profile_argument_names_another_profile(launch_stubs):
    entities = launch_stubs.generate_launch_description()
    (env,) = [e for e in entities if e.args and e.args[0] == "FASTDDS_DEFAULT_PROFILES_FILE"]
    context = types.SimpleNamespace(launch_configurations={"dds_profile": str(LARGE_PROFILE)})
    assert Path(env.args[1].perform(context)) == LARGE_PROFILE


def test_launch_model_argument_overrides_the_params_file(launch_stubs):
    _, node = _launch(launch_stubs, model="/models/student_v2")
    assert node.kwargs["parameters"] == [str(PARAMS), {"model": "/models/student_v2"}, {"autostart": True}]


def test_launch_transport_arguments_set_the_cameras_transport(launch_stubs):
    _, node = _launch(launch_stubs, visible_transport="compressed", thermal_transport="compressed")
    assert node.kwargs["parameters"] == [str(PARAMS), {"visible.transport": "compressed"},
                                         {"thermal.transport": "compressed"}, {"autostart": True}]


def test_launch_autostart_false_starts_a_managed_node(launch_stubs):
    tree = _tree()
    imported = {alias.name for node in tree.body if isinstance(node, ast.ImportFrom)
                and node.module == "launch_ros.actions" for alias in node.names}
    assert imported == {"Node", "LifecycleNode"}
    _, node = _launch(launch_stubs, autostart="false")
    assert type(node).__name__ == "LifecycleNode"  # launch_ros's lifecycle action
    assert node.kwargs["parameters"] == [str(PARAMS), {"autostart": False}]
    assert node.kwargs["name"] == NODE_NAME and node.kwargs["executable"] == "tracker_node"
    assert node.kwargs["namespace"].name == "namespace"  # the lifecycle action needs both


# ------------------------------------------------------------------------------------- config files

def _params() -> dict:
    document = yaml.safe_load(PARAMS.read_text())
    assert list(document) == ["/**"] and list(document["/**"]) == ["ros__parameters"]
    return document["/**"]["ros__parameters"]


def test_params_file_sets_exactly_the_declared_parameters_with_their_defaults():
    values = _flatten(_params())
    assert set(values) == set(parameters.SPEC_BY_NAME)
    for name, value in values.items():
        default = parameters.SPEC_BY_NAME[name].default
        if default is None:
            assert value == [], f"{name}: unset arrays are written []"
        else:
            assert type(value) is type(default), f"{name}: {value!r} has not the declared type of {default!r}"
            assert value == default, f"{name}: file says {value!r}, the node's default is {default!r}"


def test_params_file_values_pass_the_node_validation():
    values = {name: (None if v == [] else v) for name, v in _flatten(_params()).items()}
    startup, runtime = parameters.settings_from(values)
    startup.tracker_config()  # the tracker accepts them too
    assert runtime.init_box is None and startup.thermal_to_visible is None


@pytest.mark.parametrize("profile, segment_mib", [(PROFILE, 16), (LARGE_PROFILE, 128)], ids=["shipped", "large"])
def test_fastdds_profile(profile, segment_mib):
    ns = {"dds": "http://www.eprosima.com"}
    root = ET.parse(profile).getroot()
    descriptors = {d.findtext("dds:transport_id", namespaces=ns): d
                   for d in root.iterfind(".//dds:transport_descriptor", ns)}
    shm = [d for d in descriptors.values() if d.findtext("dds:type", namespaces=ns) == "SHM"]
    udp = [d for d in descriptors.values() if d.findtext("dds:type", namespaces=ns) == "UDPv4"]
    assert len(shm) == 1 and int(shm[0].findtext("dds:segment_size", namespaces=ns)) == segment_mib * 1024 * 1024
    assert len(udp) == 1
    assert [a.text for a in udp[0].iterfind("dds:interfaceWhiteList/dds:address", ns)] == ["127.0.0.1"]
    (participant,) = root.iterfind(".//dds:participant", ns)
    assert participant.get("is_default_profile") == "true"
    assert participant.findtext("dds:rtps/dds:useBuiltinTransports", namespaces=ns) == "false"
    used = [t.text for t in participant.iterfind("dds:rtps/dds:userTransports/dds:transport_id", ns)]
    assert sorted(used) == sorted(descriptors)


@pytest.mark.parametrize("discovery_range", ["LOCALHOST", "SUBNET", None])
def test_the_shipped_profile_is_named_and_the_discovery_range_kept(discovery_range):
    env = {} if discovery_range is None else {"ROS_AUTOMATIC_DISCOVERY_RANGE": discovery_range}
    apply_shipped_profile(env)
    assert Path(env[PROFILE_VARIABLE]).resolve() == PROFILE.resolve()
    assert env.get("ROS_AUTOMATIC_DISCOVERY_RANGE") == discovery_range
    own = {PROFILE_VARIABLE: "/etc/my_profile.xml", "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
    apply_shipped_profile(own)
    assert own == {PROFILE_VARIABLE: "/etc/my_profile.xml", "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}


def test_rviz_config_shows_the_debug_image_and_both_inputs():
    config = yaml.safe_load(RVIZ.read_text())
    displays = config["Visualization Manager"]["Displays"]
    topics = {d["Topic"]["Value"] for d in displays if d["Class"] == "rviz_default_plugins/Image"}
    assert topics == {f"/{NODE_NAME}/debug_image", f"/{INPUT_TOPICS['visible']}", f"/{INPUT_TOPICS['thermal']}"}


def test_a_profile_that_is_not_a_file_is_named_as_the_problem(tmp_path):
    assert profile_problem({}) is None
    assert profile_problem({PROFILE_VARIABLE: str(LARGE_PROFILE)}) is None
    for named in (tmp_path / "missing.xml", tmp_path):
        problem = profile_problem({PROFILE_VARIABLE: str(named)})
        assert problem is not None and f"names {named}, which is not a file" in problem
