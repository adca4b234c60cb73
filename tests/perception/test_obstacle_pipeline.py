"""The LiDAR obstacle pipeline on simulated scans: boxes where the objects are, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.perception.errors import InvalidCloudError
from sanqin.perception.obstacles import ObstaclePipeline, ObstaclePipelineConfig
from sanqin.perception.voxel import voxel_downsample

from .perception_scenes import box_mesh, floor_mesh, scan

OBJECTS = [  # centre x, y, size l, w, h, yaw
    (6.0, 2.0, 0.5, 0.4, 1.75, 0.0),  # a person
    (9.0, -3.0, 1.2, 1.0, 1.2, 0.3),  # a pallet
    (-7.0, 4.0, 0.5, 0.4, 1.7, 0.0),
    (12.0, 6.0, 1.2, 0.8, 1.0, -0.5),
]


@pytest.fixture(scope="module")
def bay_scan():
    mesh = floor_mesh()
    for x, y, length, w, h, yaw in OBJECTS:
        mesh += box_mesh((x, y, h / 2), (length, w, h), yaw)
    return scan(mesh, mount_z=1.0)


def test_every_object_is_detected_once_near_its_position(bay_scan) -> None:
    pipe = ObstaclePipeline(ObstaclePipelineConfig())
    boxes, _, (n_in, n_used, n_ground, n_clusters) = pipe.detect(bay_scan)
    assert n_in == len(bay_scan) and n_ground > 0.5 * n_used
    centers = np.array([b.center_m[:2] for b in boxes])
    for x, y, *_ in OBJECTS:
        d = np.linalg.norm(centers - [x, y], axis=1)
        assert d.min() < 0.6
    assert len(boxes) == len(OBJECTS)
    for b in boxes:
        assert 0.8 < b.size_m[2] < 2.0  # heights of people and pallets (tops seen, bottoms near the floor)


def test_tracks_confirm_over_frames_and_static_objects_have_no_speed(bay_scan) -> None:
    pipe = ObstaclePipeline(ObstaclePipelineConfig())
    for k in range(5):
        frame = pipe.process(bay_scan, 0.1 * k)
    assert len(frame.tracks) == len(OBJECTS)
    for tr in frame.tracks:
        assert np.linalg.norm(tr.velocity_m_s) < 0.2


def test_sensor_pose_moves_detections_into_the_tracking_frame(bay_scan) -> None:
    pipe = ObstaclePipeline(ObstaclePipelineConfig())
    pose = np.eye(4)
    pose[:3, 3] = [100.0, 50.0, 0.0]
    frame = pipe.process(bay_scan, 0.0, pose)
    assert min(np.linalg.norm(b.center_m[:2] - [106.0, 52.0]) for b in frame.detections) < 0.6


@pytest.mark.parametrize(
    "cloud",
    [np.zeros((0, 3)), np.full((500, 3), np.nan), np.array([[3.0, 1.0, -0.5]]), np.full((10, 3), np.inf)],
    ids=["empty", "all-nan", "single-point", "all-inf"],
)
def test_degenerate_clouds_give_no_obstacles(cloud) -> None:
    frame = ObstaclePipeline(ObstaclePipelineConfig()).process(cloud, 0.0)
    assert frame.detections == () and frame.tracks == ()


def test_two_million_points_are_thinned_to_the_cap_first() -> None:
    rng = np.random.default_rng(0)
    pts = rng.uniform(-20, 20, (2_000_000, 3)).astype(np.float32)
    pipe = ObstaclePipeline(ObstaclePipelineConfig(max_input_points=150_000))
    assert pipe.sanitize(pts).shape[0] <= 150_000
    frame = pipe.process(pts, 0.0)
    assert frame.n_input == 2_000_000 and frame.n_used <= 150_000


def test_malformed_arrays_raise_a_typed_error() -> None:
    with pytest.raises(InvalidCloudError, match="shape"):
        ObstaclePipeline(ObstaclePipelineConfig()).process(np.zeros((5, 2)), 0.0)


def test_voxel_downsample_keeps_one_centroid_per_voxel() -> None:
    pts = np.array([[0.01, 0.01, 0.01], [0.05, 0.05, 0.05], [1.0, 1.0, 1.0]], np.float32)
    out, _ = voxel_downsample(pts, 0.1)
    assert out.shape == (2, 3)
    assert np.any(np.all(np.isclose(out, [0.03, 0.03, 0.03]), axis=1))


def test_a_yawed_sensor_pose_rotates_centres_and_box_yaws(bay_scan) -> None:
    local = ObstaclePipeline(ObstaclePipelineConfig()).process(bay_scan, 0.0).detections
    pose = np.eye(4)
    pose[:3, :3] = [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]  # yaw +90°: sensor x is odom +y
    pose[:3, 3] = [100.0, 50.0, 0.0]
    moved = ObstaclePipeline(ObstaclePipelineConfig()).process(bay_scan, 0.0, pose).detections
    assert len(moved) == len(local) == len(OBJECTS)
    for b in local:
        want = np.array([100.0 - b.center_m[1], 50.0 + b.center_m[0]])
        m = min(moved, key=lambda o: np.linalg.norm(o.center_m[:2] - want))
        assert np.linalg.norm(m.center_m[:2] - want) < 1e-6
        dyaw = np.mod(m.yaw_rad - b.yaw_rad, np.pi)  # a box's yaw is defined modulo π
        assert dyaw == pytest.approx(np.pi / 2, abs=1e-6)
