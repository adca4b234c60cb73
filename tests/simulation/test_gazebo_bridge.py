"""Bridge configs: every type pair is one ros_gz_bridge converts, and the topics are the ones our nodes use."""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml

from sanqin.runtime.node import resolve_name
from sanqin.runtime.paths import share_dir
from sanqin.runtime.registry import get_node_spec
from sanqin.runtime.runner import build_graph
from sanqin.simulation.gazebo.bridge import (
    GZ_TO_ROS,
    ROS_GZ_TYPES,
    ROS_TO_GZ,
    BridgeEntry,
    check_entry,
    read_bridge_yaml,
    render_bridge_yaml,
    ros_published,
    ros_subscribed,
)
from sanqin.simulation.gazebo.errors import BridgeError
from sanqin.simulation.gazebo.generate import all_nodes, generate

SHARE = share_dir()
TWINS = yaml.safe_load((SHARE / "sim" / "gazebo" / "twins.yaml").read_text())["twins"]


@pytest.fixture(scope="module")
def generation():
    return generate(SHARE)


def _node_topics(twin) -> tuple[dict[str, str], dict[str, str]]:
    """(subscribed, published) topic → type of the twin's nodes, after namespaces and remaps."""
    subs: dict[str, str] = {}
    pubs: dict[str, str] = {}
    for entry in all_nodes(twin):
        spec = get_node_spec(entry.node)
        for i in spec.inputs:
            subs[resolve_name(entry.remap.get(i.topic, i.topic), entry.namespace, entry.name)] = i.msg_type
        for o in spec.outputs:
            pubs[resolve_name(entry.remap.get(o.topic, o.topic), entry.namespace, entry.name)] = o.msg_type
    return subs, pubs


@pytest.fixture(scope="module")
def headless_topics(generation) -> dict[str, dict[str, str]]:
    """Per twin: topics that carried messages in a short headless run, with their types."""
    out: dict[str, dict[str, str]] = {}
    for name, twin in generation.twins.items():
        sc = replace(twin.scenario, duration_s=min(0.2, twin.scenario.duration_s))
        graph, sims, _ = build_graph(sc)
        t = 0.0
        while t < sc.duration_s - 1e-9:
            t += sc.step_s
            for _, sim in sims:
                sim.step(t, sc.step_s)
            graph.advance_to(t)
        types = graph.bus.topic_types()
        out[name] = {topic: types[topic] for topic, n in graph.bus.counts.items() if n}
    return out


@pytest.mark.parametrize("name", sorted(TWINS))
def test_bridge_feeds_every_node_input_with_its_type(name: str, generation, headless_topics) -> None:
    """Node inputs that the headless simulators feed are fed in Gazebo, with the same type."""
    twin = generation.twins[name]
    entries = read_bridge_yaml((SHARE / TWINS[name]["bridge"]).read_text(), name)
    assert entries[0] == BridgeEntry("/clock", "/clock", "rosgraph_msgs/msg/Clock", "gz.msgs.Clock", GZ_TO_ROS)
    from_gz = ros_published(entries)
    to_gz = ros_subscribed(entries)
    subs, pubs = _node_topics(twin)
    headless = headless_topics[name]
    for topic, msg_type in subs.items():
        if topic in headless and topic not in pubs:
            assert headless[topic] == msg_type
            assert from_gz.get(topic) == msg_type, f"{name}: node input {topic} ({msg_type}) is not bridged"
        if topic in from_gz:
            assert from_gz[topic] == msg_type, f"{name}: {topic} bridged as {from_gz[topic]}, node wants {msg_type}"
    launch = (SHARE / TWINS[name]["launch"]).read_text()
    for topic, msg_type in to_gz.items():
        fed = pubs.get(topic) == msg_type or f" {topic} {msg_type}" in launch
        assert fed, f"{name}: the bridge sends {topic} to Gazebo but nothing publishes it as {msg_type}"


@pytest.mark.parametrize("name", sorted(TWINS))
def test_bridged_topics_have_the_headless_types(name: str, headless_topics) -> None:
    """Topics the headless run carries are bridged with the same ROS type."""
    entries = read_bridge_yaml((SHARE / TWINS[name]["bridge"]).read_text(), name)
    headless = headless_topics[name]
    for e in entries:
        if e.ros_topic in headless:
            assert headless[e.ros_topic] == e.ros_type, e.ros_topic


def test_every_type_pair_is_in_the_ros_gz_table() -> None:
    for ros_type, gz_types in ROS_GZ_TYPES.items():
        assert ros_type.count("/msg/") == 1 and all(t.startswith("gz.msgs.") for t in gz_types)
    check_entry(BridgeEntry("/a", "/b", "sensor_msgs/msg/PointCloud2", "gz.msgs.PointCloudPacked", GZ_TO_ROS))


@pytest.mark.parametrize(("entry", "match"), [
    (BridgeEntry("/p", "/p", "sensor_msgs/msg/PointCloud2", "gz.msgs.LaserScan", GZ_TO_ROS), "cannot convert"),
    (BridgeEntry("/c", "/c", "std_msgs/msg/Float64MultiArray", "gz.msgs.Double_V", ROS_TO_GZ), "not bridgeable"),
    (BridgeEntry("relative", "/c", "std_msgs/msg/Bool", "gz.msgs.Boolean", ROS_TO_GZ), "absolute"),
    (BridgeEntry("/c", "/c", "std_msgs/msg/Bool", "gz.msgs.Boolean", "SIDEWAYS"), "direction"),
])
def test_invalid_bridges_are_rejected(entry: BridgeEntry, match: str) -> None:
    with pytest.raises(BridgeError, match=match):
        check_entry(entry)


def test_conflicting_bridges_and_bad_files_are_rejected() -> None:
    a = BridgeEntry("/x", "/gz/x", "std_msgs/msg/Bool", "gz.msgs.Boolean", GZ_TO_ROS)
    b = BridgeEntry("/x", "/gz/other", "std_msgs/msg/Bool", "gz.msgs.Boolean", GZ_TO_ROS)
    with pytest.raises(BridgeError, match="two different bridges"):
        render_bridge_yaml([a, b])
    assert read_bridge_yaml(render_bridge_yaml([a, a])) == [a]
    with pytest.raises(BridgeError, match="list"):
        read_bridge_yaml("ros_topic_name: /x")
    with pytest.raises(BridgeError, match="lacks"):
        read_bridge_yaml("- {ros_topic_name: /x}")
