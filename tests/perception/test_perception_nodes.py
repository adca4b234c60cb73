"""Perception nodes on the headless bus: built from the shipped params, real messages in and out, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sanqin.common.types import ImageFrame, ImuSample, Odometry, PointCloud, Pose, Twist
from sanqin.msgs.diagnostics import diagnostics_from_msg
from sanqin.msgs.geometry import odometry_from_msg, odometry_to_msg
from sanqin.msgs.grid import occupancy_to_grid
from sanqin.msgs.image import frame_to_image
from sanqin.msgs.obstacles import pointcloud2_to_obstacles
from sanqin.msgs.pointcloud import cloud_to_pointcloud2
from sanqin.msgs.sensors import imu_from_msg, imu_to_msg
from sanqin.perception import nodes
from sanqin.perception.inspection_log import read_log
from sanqin.runtime.headless import Graph
from sanqin.runtime.params import load_node_config

from .perception_scenes import box_mesh, floor_mesh, scan

ROOT = Path(__file__).resolve().parents[2]
SPECS = [
    "obstacle_detector",
    "lidar_odometry",
    "imu_attitude",
    "thermal_inspector",
    "canopy_mapper",
    "camera_lidar_fusion",
]


def _node(graph: Graph, name: str, **params):
    spec = getattr(nodes, name.upper())
    cfg = load_node_config(spec.config, ROOT / "config" / f"{name}.yaml", name, "", params)
    return graph.add_node(spec, cfg, strict=True)


def _collect(graph: Graph, topic: str, msgtype: str) -> list:
    got: list = []
    graph.bus.subscribe(topic, msgtype, got.append)
    return got


@pytest.mark.parametrize("name", SPECS)
def test_node_builds_from_its_shipped_params(name: str, tmp_path: Path) -> None:
    g = Graph()
    # The shipped thermal log lives under ~/.ros; a test must not write there.
    node = _node(g, name, **({"log_path": str(tmp_path / "log.jsonl")} if name == "thermal_inspector" else {}))
    assert node.host.diagnostics()[0].level == 0


def test_obstacle_detector_publishes_the_planner_table_and_markers() -> None:
    g = Graph()
    node = _node(g, "obstacle_detector", **{"pipeline.ground.sensor_height_m": 1.0, "mount_xyz_m": [0.0, 0.0, 1.0]})
    obst = _collect(g, "/obstacles", "sensor_msgs/msg/PointCloud2")
    marks = _collect(g, "/obstacle_markers", "visualization_msgs/msg/MarkerArray")
    pts = scan(floor_mesh() + box_mesh((6.0, 1.0, 0.6), (1.2, 1.0, 1.2)))
    f = g.bus.factory
    for k in range(4):
        t = 0.1 * (k + 1)
        odom = Odometry(stamp_s=t, frame_id="odom", pose=Pose([10.0, 0.0, 0.0]))
        g.bus.publish("/odom", odometry_to_msg(odom, f))
        g.bus.publish("/points", cloud_to_pointcloud2(PointCloud(stamp_s=t, frame_id="lidar", points=pts), f))
        g.advance_to(t)
    last = pointcloud2_to_obstacles(f.deserialize(f.serialize(obst[-1]), "sensor_msgs/msg/PointCloud2"))
    assert last.frame_id == "odom" and len(last.obstacles) == 1
    assert last.obstacles[0].center_m[:2] == pytest.approx([16.0, 1.0], abs=0.6)  # only the near faces are seen
    assert len(marks) == 4 and len(marks[-1].markers) == 3  # DELETEALL + box + id
    m = node.component.metrics()
    assert m["frames"] == 4 and m["process_max_ms"] >= m["process_mean_ms"] > 0.0
    assert m["frame_switches"] == 0 and m["frames_sensor_frame"] == 0  # odometry from the first cloud on


def test_obstacle_detector_survives_empty_nan_and_malformed_clouds() -> None:
    g = Graph()
    node = _node(g, "obstacle_detector")
    f = g.bus.factory
    obst = _collect(g, "/obstacles", "sensor_msgs/msg/PointCloud2")
    g.bus.publish("/points", cloud_to_pointcloud2(PointCloud(stamp_s=0.1, frame_id="lidar"), f))
    nan = PointCloud(stamp_s=0.2, frame_id="lidar", points=np.full((100, 3), np.nan, np.float32))
    g.bus.publish("/points", cloud_to_pointcloud2(nan, f))
    bad = cloud_to_pointcloud2(PointCloud(stamp_s=0.3, frame_id="lidar", points=np.ones((10, 3), np.float32)), f)
    bad.data = bad.data[:-5]
    g.bus.publish("/points", bad)
    g.advance_to(0.5)
    assert len(obst) == 2  # empty lists for the empty and all-NaN clouds
    assert node.host.counters["messages_rejected"] == 1
    assert node.host.diagnostics()[0].level == 1  # the malformed cloud is reported


def _imu_msg(f, t, gyro=(0.0, 0.0, 0.0), acc=(0.0, 0.0, 9.80665)):
    return imu_to_msg(
        ImuSample(
            stamp_s=t, frame_id="imu", angular_velocity_rad_s=np.array(gyro), linear_acceleration_m_s2=np.array(acc)
        ),
        f,
    )


def test_imu_attitude_outputs_orientation_and_skips_nan_and_time_jumps() -> None:
    g = Graph()
    node = _node(g, "imu_attitude")
    f = g.bus.factory
    out = _collect(g, "/imu_out", "sensor_msgs/msg/Imu")
    tilt = np.array([0.0, 9.80665 * np.sin(0.2), 9.80665 * np.cos(0.2)])  # rolled 0.2 rad
    for k in range(200):
        g.bus.publish("/imu_raw", _imu_msg(f, 0.01 * (k + 1), acc=tilt))
    g.bus.publish("/imu_raw", _imu_msg(f, 2.02, gyro=(np.nan, 0, 0)))
    g.bus.publish("/imu_raw", _imu_msg(f, 50.0, gyro=(0, 0, 3.0)))  # a 48 s gap
    g.advance_to(3.0)
    imu = imu_from_msg(out[-1])
    from scipy.spatial.transform import Rotation

    roll = Rotation.from_quat(imu.orientation_xyzw).as_euler("xyz")[0]
    assert roll == pytest.approx(0.2, abs=0.01)
    m = node.host.metrics()
    assert m["time_jumps"] == 1 and m["rejected"] == 1 and node.host.counters["domain_errors"] == 1


def test_lidar_odometry_publishes_odometry_and_tf_and_rejects_bad_imu() -> None:
    g = Graph()
    node = _node(g, "lidar_odometry", **{"odometry.mount_xyz_m": [0.0, 0.0, 1.0]})
    f = g.bus.factory
    odo = _collect(g, "/odometry", "nav_msgs/msg/Odometry")
    tf = _collect(g, "/tf", "tf2_msgs/msg/TFMessage")
    mesh = floor_mesh() + box_mesh((6.0, 1.0, 0.6), (1.2, 1.0, 1.2)) + box_mesh((-4.0, -3.0, 1.0), (1.0, 3.0, 2.0))
    pts = scan(mesh)
    for k in range(3):
        t = 0.1 * (k + 1)
        g.bus.publish("/imu", _imu_msg(f, t))
        g.bus.publish("/wheel_odom", odometry_to_msg(Odometry(stamp_s=t, twist=Twist()), f))
        g.bus.publish("/points", cloud_to_pointcloud2(PointCloud(stamp_s=t, frame_id="lidar", points=pts), f))
        g.advance_to(t)
    g.bus.publish("/imu", _imu_msg(f, 0.35, acc=(np.nan, 0, 9.8)))
    g.advance_to(0.4)
    est = odometry_from_msg(odo[-1])
    assert len(odo) == 3 and len(tf) == 3
    assert np.linalg.norm(est.pose.position_m) < 0.05  # standing still
    cov = np.asarray(est.pose_covariance)
    assert cov[3, 3] == cov[4, 4] == pytest.approx(0.02**2)  # roll/pitch: fusion.attitude_std_rad of the params
    assert np.all(np.linalg.eigvalsh(cov) >= 0.0)
    assert node.host.counters["domain_errors"] == 1
    empty = PointCloud(stamp_s=0.45, frame_id="lidar", points=np.zeros((0, 3), np.float32))
    g.bus.publish("/points", cloud_to_pointcloud2(empty, f))
    g.advance_to(0.5)
    assert len(odo) == 3 and node.host.counters["domain_errors"] == 2
    assert node.component.metrics()["skipped_scans"] == 1
    m = node.component.metrics()
    assert m["frames"] == 3 and m["scan_max_ms"] >= m["scan_mean_ms"] > 0.0  # the skipped scan is not timed


def _thermal(f, t, hot=True, encoding="32FC1"):
    img = np.full((120, 160), 20.0, np.float32)
    img[55:66, :] = 35.0
    if hot:
        img[57:64, 77:84] = 90.0
    if encoding != "32FC1":
        img = img.astype(np.uint16)
    return frame_to_image(ImageFrame(stamp_s=t, frame_id="thermal", data=img, encoding=encoding), f)


def test_thermal_inspector_alarms_once_logs_and_rejects_wrong_encodings(tmp_path) -> None:
    g = Graph()
    log = tmp_path / "inspection.jsonl"
    node = _node(g, "thermal_inspector", log_path=str(log))
    f = g.bus.factory
    alarms = _collect(g, "/hotspot_alarms", "diagnostic_msgs/msg/DiagnosticArray")
    for k in range(5):
        t = 0.2 * (k + 1)
        g.bus.publish("/odom", odometry_to_msg(Odometry(stamp_s=t, pose=Pose([20.0 + 0.01 * k, 0, 0])), f))
        g.bus.publish("/thermal_image", _thermal(f, t))
    g.bus.publish("/thermal_image", _thermal(f, 1.2, encoding="mono16"))
    g.advance_to(1.5)
    assert len(alarms) == 1
    _, statuses = diagnostics_from_msg(alarms[0])
    assert statuses[0].level == 2 and statuses[0].values["grade"] == "serious"  # T1 = 90 °C ≥ 80 °C
    records, bad = read_log(log)
    assert len(records) == 1 and bad == 0 and records[0]["grade_name"] == "serious"
    assert node.host.counters["domain_errors"] == 1  # the mono16 image


def test_canopy_mapper_publishes_cover_and_prescription_grids() -> None:
    g = Graph()
    _node(g, "canopy_mapper", **{"grid.cells_x": 10, "grid.cells_y": 10, "grid.cell_m": 2.0, "publish_period_s": 0.5})
    f = g.bus.factory
    cover = _collect(g, "/canopy_cover", "nav_msgs/msg/OccupancyGrid")
    rate = _collect(g, "/spray_prescription", "nav_msgs/msg/OccupancyGrid")
    img = np.zeros((480, 640, 3), np.uint8)
    img[:] = (120, 90, 60)
    img[:, :320] = (60, 140, 50)  # left half leaves
    g.bus.publish("/odom", odometry_to_msg(Odometry(stamp_s=0.1, frame_id="field", pose=Pose([10.0, 10.0, 5.0])), f))
    g.bus.publish("/image", frame_to_image(ImageFrame(stamp_s=0.1, data=img, encoding="rgb8"), f))
    g.advance_to(0.6)
    grid = occupancy_to_grid(cover[-1])
    seen = np.isfinite(grid.values)
    assert seen.any() and 0.3 < np.nanmean(grid.values) < 0.7
    assert len(rate) == 1


def _camera_info(f, w=640, h=480):
    from sanqin.common.types import CameraModel
    from sanqin.msgs.camera import model_to_camera_info

    k = np.array([[500.0, 0, w / 2], [0, 500.0, h / 2], [0, 0, 1]])
    model = CameraModel(
        stamp_s=0.0,
        frame_id="camera",
        width=w,
        height=h,
        distortion_model="plumb_bob",
        k=k,
        d=np.array([-0.1, 0.01, 0.0, 0.0, 0.0]),
        p=np.hstack([k, np.zeros((3, 1))]),
    )
    return model_to_camera_info(model, f)


def test_camera_lidar_fusion_colors_points_and_rejects_mismatched_calibration_and_encodings() -> None:
    from sanqin.msgs.pointcloud import pointcloud2_to_table

    g = Graph()
    node = _node(g, "camera_lidar_fusion", camera_xyz_m=[0.0, 0.0, 0.0])
    f = g.bus.factory
    out = _collect(g, "/points_colored", "sensor_msgs/msg/PointCloud2")
    img = np.zeros((480, 640, 3), np.uint8)
    img[:, :320] = (255, 0, 0)  # left half of the view red, right half blue
    img[:, 320:] = (0, 0, 255)
    pts = np.array([[10.0, 2.0, 0.0], [10.0, -2.0, 0.0], [-10.0, 0.0, 0.0]], np.float32)
    g.bus.publish("/camera_info", _camera_info(f))
    g.bus.publish("/image", frame_to_image(ImageFrame(stamp_s=0.1, frame_id="camera", data=img, encoding="rgb8"), f))
    g.bus.publish("/points", cloud_to_pointcloud2(PointCloud(stamp_s=0.1, frame_id="lidar", points=pts), f))
    g.advance_to(0.15)
    assert len(out) == 1
    table, _ = pointcloud2_to_table(out[0], ("x", "y", "rgb"))
    rgb = table[:, 2].astype("<f4").view("<u4")
    assert table.shape[0] == 2  # the point behind the camera is dropped
    assert set(rgb.tolist()) == {0xFF0000, 0x0000FF} and rgb[table[:, 1] > 0][0] == 0xFF0000
    # CameraInfo for a 320×240 camera with 640×480 images: the cloud is rejected with a diagnostic.
    g.bus.publish("/camera_info", _camera_info(f, 320, 240))
    g.bus.publish("/points", cloud_to_pointcloud2(PointCloud(stamp_s=0.12, frame_id="lidar", points=pts), f))
    g.bus.publish(
        "/image", frame_to_image(ImageFrame(stamp_s=0.2, data=img[:, :, 0].astype(np.uint16), encoding="mono16"), f)
    )
    g.advance_to(0.3)
    assert len(out) == 1
    assert node.host.counters["domain_errors"] == 2
    assert "CameraInfo says 320×240" in node.host.last_problem or "mono16" in node.host.last_problem


def test_thermal_station_follows_signed_progress_and_bad_poses_change_nothing() -> None:
    from sanqin.perception.components import ThermalInspector, ThermalInspectorConfig
    from sanqin.perception.errors import OdometryError

    insp = ThermalInspector(ThermalInspectorConfig(log_path="", station_offset_m=5.0))
    rng = np.random.default_rng(0)
    yaw90 = [0.0, 0.0, np.sqrt(0.5), np.sqrt(0.5)]  # the tunnel runs along odom +y here
    for k in range(200):  # standing at a joint with 2 cm pose jitter: path length would add ~3 m
        insp.on_odom(Odometry(stamp_s=0.05 * k, pose=Pose([*rng.normal(0, 0.02, 2), 0.0], yaw90)), 0.0)
    assert insp.station_m == pytest.approx(5.0, abs=0.1)
    for k in range(1, 11):  # 10 m forward along +y, then 4 m reversing (a rail robot shuttling back)
        insp.on_odom(Odometry(stamp_s=10 + k, pose=Pose([0.0, float(k), 0.0], yaw90)), 0.0)
    for k in range(1, 5):
        insp.on_odom(Odometry(stamp_s=20 + k, pose=Pose([0.0, 10.0 - k, 0.0], yaw90)), 0.0)
    assert insp.station_m == pytest.approx(11.0, abs=0.1)
    assert insp.heading == pytest.approx(np.pi / 2)
    for bad in (Pose([0.0, 99.0, 0.0], [0.0, 0.0, 0.0, 0.0]), Pose([np.nan, 0.0, 0.0]), Pose([0, 0, 0], [np.nan] * 4)):
        with pytest.raises(OdometryError):
            insp.on_odom(Odometry(stamp_s=30.0, pose=bad), 0.0)
    assert insp.station_m == pytest.approx(11.0, abs=0.1) and insp.odom_stamp == 24.0


def test_perception_nodes_report_unusable_poses_as_domain_errors() -> None:
    g = Graph()
    detector = _node(g, "obstacle_detector")
    canopy = _node(g, "canopy_mapper")
    f = g.bus.factory
    zero_q = odometry_to_msg(Odometry(stamp_s=0.1, pose=Pose([1.0, 2.0, 5.0], [0.0, 0.0, 0.0, 0.0])), f)
    g.bus.publish("/odom", zero_q)
    g.advance_to(0.2)
    assert detector.host.counters["domain_errors"] == 1 and detector.component.odom_pose is None
    assert canopy.host.counters["domain_errors"] == 1 and canopy.component.pose is None


def test_obstacle_detector_places_a_cloud_with_the_odometry_at_its_stamp() -> None:
    from scipy.spatial.transform import Rotation

    from sanqin.perception.components import ObstacleDetector, ObstacleDetectorConfig

    det = ObstacleDetector(ObstacleDetectorConfig(mount_xyz_m=(0.0, 0.0, 0.0)))
    for k in range(3):  # turning at 0.5 rad/s while driving along x, odometry at 10 Hz
        q = Rotation.from_euler("z", 0.05 * k).as_quat()
        det.on_odom(Odometry(stamp_s=0.1 * k, pose=Pose([0.1 * k, 0.0, 0.0], q)), 0.0)
    mid = det.pose_at(0.15)
    assert mid[:3, 3] == pytest.approx([0.15, 0.0, 0.0])
    assert Rotation.from_matrix(mid[:3, :3]).as_euler("xyz")[2] == pytest.approx(0.075)
    assert np.allclose(det.pose_at(0.2 + 0.3), det._odom_hist[-1][1])  # newer than the odometry: the last pose
    assert det.pose_at(5.0) is None  # beyond odom_timeout_s: tracked in the sensor frame
    det.on_odom(Odometry(stamp_s=0.05, pose=Pose([9.0, 0.0, 0.0])), 0.0)  # time went back: history restarts
    assert det.pose_at(0.15)[0, 3] == pytest.approx(9.0)


def _object_scene(center=(8.0, 1.0, 0.3), half=0.5) -> tuple[np.ndarray, np.ndarray]:
    """Points of a 1 m front face (x = const) at ``center``, a wall 12 m behind it and the ground below.

    Returns the cloud (LiDAR frame) and the face points (their median is the true detection position).
    """
    cx, cy, cz = center
    g = np.linspace(-half, half, 21)
    yy, zz = np.meshgrid(g, g)
    face = np.column_stack([np.full(yy.size, cx), cy + yy.ravel(), cz + zz.ravel()])
    wy, wz = np.meshgrid(np.linspace(-8, 8, 81), np.linspace(-1.0, 4.0, 26))
    wall = np.column_stack([np.full(wy.size, cx + 12.0), wy.ravel(), wz.ravel()])
    gx, gy = np.meshgrid(np.linspace(2.0, 19.0, 69), np.linspace(-6, 6, 49))
    ground = np.column_stack([gx.ravel(), gy.ravel(), np.full(gx.size, -1.0)])
    return np.vstack([face, wall, ground]).astype(np.float32), face


def _box_of(face: np.ndarray, f, pad_px: float = 15.0) -> list[float]:
    """The pixel box of the face points in the test camera (padded, so wall and ground points fall inside too)."""
    from sanqin.msgs.camera import camera_info_to_model
    from sanqin.perception.camera import project

    # The shipped orientation (optical z along LiDAR +x) with the camera at the LiDAR origin.
    t_cam_lidar = np.array([[0.0, -1.0, 0.0, 0.0], [0.0, 0.0, -1.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0, 0, 0, 1.0]])
    proj = project(face, camera_info_to_model(_camera_info(f)), t_cam_lidar)
    assert proj.index.size == face.shape[0]
    return [*(proj.uv.min(0) - pad_px), *(proj.uv.max(0) + pad_px)]


def _detections_msg(f, stamp_s: float, boxes, class_ids=None, scores=None):
    from sanqin.common.detections import Detections2D
    from sanqin.msgs.detections import detections_to_pointcloud2

    n = len(boxes)
    dets = Detections2D(np.asarray(boxes, float), class_ids if class_ids is not None else np.arange(n),
                        scores if scores is not None else np.full(n, 0.8), stamp_s, "camera_optical_frame")
    return detections_to_pointcloud2(dets, f)


def _fusion_status(node) -> dict:
    return next(s for s in node.host.diagnostics() if s.name.endswith("/projection")).values


def test_camera_lidar_fusion_places_detections_at_the_known_3d_position() -> None:
    from sanqin.msgs.detections import pointcloud2_to_located

    g = Graph()
    node = _node(g, "camera_lidar_fusion", camera_xyz_m=[0.0, 0.0, 0.0])
    f = g.bus.factory
    out = _collect(g, "/detections_3d", "sensor_msgs/msg/PointCloud2")
    marks = _collect(g, "/detection_markers", "visualization_msgs/msg/MarkerArray")
    cloud_a, face_a = _object_scene((8.0, 1.0, 0.3))
    cloud_b, _ = _object_scene((6.0, -2.0, 0.0))  # 0.1 s later the object is elsewhere
    g.bus.publish("/camera_info", _camera_info(f))
    g.bus.publish("/points", cloud_to_pointcloud2(PointCloud(stamp_s=1.0, frame_id="lidar", points=cloud_a), f))
    g.bus.publish("/points", cloud_to_pointcloud2(PointCloud(stamp_s=1.1, frame_id="lidar", points=cloud_b), f))
    g.advance_to(1.1)
    # A detector's output arrives late, stamped with its image (1.01 s): it is placed with the 1.0 s cloud.
    box = _box_of(face_a, f)
    boxes = [box, [np.nan, 10.0, 50.0, 60.0], [700.0, 10.0, 800.0, 60.0], [100.0, 10.0, 40.0, 60.0]]
    g.bus.publish("/detections", _detections_msg(f, 1.01, boxes, class_ids=[7, 1, 2, 3]))
    g.advance_to(1.2)
    assert len(out) == 1 and len(marks) == 1
    loc = pointcloud2_to_located(out[0])
    assert loc.frame_id == "lidar" and loc.stamp_s == pytest.approx(1.01)
    assert loc.detections.class_ids.tolist() == [7, 1, 2, 3]  # one row per input detection, input order
    np.testing.assert_allclose(loc.positions_m[0], np.median(face_a, axis=0), atol=0.05)
    np.testing.assert_allclose(loc.positions_m[0], [8.0, 1.0, 0.3], atol=0.05)
    assert loc.n_points[0] >= 0.9 * face_a.shape[0]
    assert loc.located.tolist() == [True, False, False, False] and loc.n_points[1:].tolist() == [0, 0, 0]
    assert len(marks[0].markers) == 3 and marks[0].markers[1].pose.position.x == pytest.approx(8.0, abs=0.05)
    status = _fusion_status(node)
    assert status["detections_located"] == "1" and status["boxes_invalid"] == "3"
    assert node.host.counters["domain_errors"] == 0 and node.host.counters["handler_errors"] == 0


def test_camera_lidar_fusion_skips_and_counts_unmatched_detections_and_rejects_malformed_tables() -> None:
    from sanqin.msgs.pointcloud import table_to_pointcloud2

    g = Graph()
    node = _node(g, "camera_lidar_fusion", camera_xyz_m=[0.0, 0.0, 0.0], detection_tolerance_s=0.05)
    f = g.bus.factory
    out = _collect(g, "/detections_3d", "sensor_msgs/msg/PointCloud2")
    cloud, face = _object_scene()
    box = _box_of(face, f)
    g.bus.publish("/detections", _detections_msg(f, 0.5, [box]))  # no CameraInfo yet
    g.advance_to(0.5)
    g.bus.publish("/camera_info", _camera_info(f))
    g.bus.publish("/detections", _detections_msg(f, 0.6, [box]))  # no cloud yet
    g.advance_to(0.6)
    assert _fusion_status(node)["detections_skipped_no_cloud"] == "1"
    status = next(s for s in node.host.diagnostics() if s.name.endswith("/projection"))
    assert status.level == 1 and "before any LiDAR cloud" in status.message
    g.bus.publish("/points", cloud_to_pointcloud2(PointCloud(stamp_s=1.0, frame_id="lidar", points=cloud), f))
    g.bus.publish("/detections", _detections_msg(f, 1.2, [box]))  # stale: 0.2 s from the only cloud
    g.bus.publish("/detections", _detections_msg(f, 0.9, [box]))  # older than the cloud by 0.1 s
    # A table without the detection fields (an obstacle table on the wrong topic) is rejected, not fatal.
    g.bus.publish("/detections", table_to_pointcloud2(np.zeros((1, 3)), ("x", "y", "z"), 1.0, "lidar", f))
    g.advance_to(1.3)
    assert out == []
    status = _fusion_status(node)
    assert status["detections_skipped_no_camera_info"] == "1" and status["detections_skipped_stale"] == "2"
    assert node.host.counters["messages_rejected"] == 1 and "lacks field" in node.host.last_problem
    # An empty detection list and an all-NaN one still answer (with nothing placed), and the node keeps working.
    g.bus.publish("/detections", _detections_msg(f, 1.0, np.zeros((0, 4))))
    g.bus.publish("/detections", _detections_msg(f, 1.0, [[np.nan] * 4]))
    g.bus.publish("/detections", _detections_msg(f, 1.03, [box]))
    g.advance_to(1.4)
    assert len(out) == 3 and out[0].width == 0 and out[1].width == 1
    from sanqin.msgs.detections import pointcloud2_to_located

    assert not pointcloud2_to_located(out[1]).located.any()
    np.testing.assert_allclose(pointcloud2_to_located(out[2]).positions_m[0], [8.0, 1.0, 0.3], atol=0.05)
    assert node.host.counters["domain_errors"] == 0 and node.host.counters["handler_errors"] == 0


def test_camera_lidar_fusion_config_rejects_bad_detection_parameters() -> None:
    from sanqin.runtime.errors import ConfigError

    for bad in ({"detection_tolerance_s": -0.1}, {"cloud_history": 0}, {"min_points": 0}, {"depth_bin_m": 0.0}):
        with pytest.raises(ConfigError):
            load_node_config(nodes.CAMERA_LIDAR_FUSION.config, ROOT / "config" / "camera_lidar_fusion.yaml",
                             "camera_lidar_fusion", "", bad)
