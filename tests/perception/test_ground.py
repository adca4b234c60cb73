"""Ground segmentation: flat floors, ramps and slopes stay ground; boxes, walls and pallet tops do not."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.perception.ground import GroundConfig, GroundSegmenter
from sanqin.runtime.config import load_config
from sanqin.runtime.errors import ConfigError

from .perception_scenes import box_mesh, floor_mesh, scan, wedge_mesh


def _segment(points, **kw):
    return GroundSegmenter(GroundConfig(**kw)).segment(points)


def test_flat_floor_with_boxes_separates_floor_from_obstacles() -> None:
    mesh = floor_mesh() + box_mesh((6, 2, 0.9), (0.5, 0.5, 1.8)) + box_mesh((9, -3, 0.5), (1.2, 1.2, 1.0))
    pts = scan(mesh)
    res = _segment(pts)
    floor = pts[:, 2] < -0.97  # sensor 1 m above the floor
    high = pts[:, 2] > -0.7
    assert res.ground[floor].mean() > 0.99
    assert res.ground[high].mean() < 0.01


def test_solid_ramp_is_ground_but_a_pallet_top_is_not() -> None:
    ramp = wedge_mesh(4.0, 14.0, -6.0, 6.0, 1.5)  # 8.5° climb across a 12 m wide aisle
    pallet = box_mesh((-6.0, 3.0, 0.6), (1.2, 1.0, 1.2))
    pts = scan(floor_mesh() + ramp + pallet)
    res = _segment(pts)
    on_ramp = (pts[:, 0] > 5.0) & (pts[:, 0] < 13.5) & (np.abs(pts[:, 1]) < 3.0) & (pts[:, 2] > -0.95)
    assert on_ramp.sum() > 100
    assert res.ground[on_ramp].mean() > 0.9
    pallet_pts = (np.abs(pts[:, 0] + 6.0) < 0.7) & (np.abs(pts[:, 1] - 3.0) < 0.6) & (pts[:, 2] > -0.8)
    assert pallet_pts.sum() > 20
    assert res.ground[pallet_pts].mean() < 0.05


def test_sensor_on_a_slope_sees_the_sloped_floor_as_ground() -> None:
    # Tilted floor plane z = 0.1 x (a 5.7° slope) under a level sensor.
    from .perception_scenes import box_mesh as bm

    slab = bm((0, 0, -0.05), (80, 80, 0.1))
    slab.rotate(
        np.array([[np.cos(-0.1), 0, np.sin(-0.1)], [0, 1, 0], [-np.sin(-0.1), 0, np.cos(-0.1)]]), center=(0, 0, 0)
    )
    pts = scan(slab + box_mesh((8, 0, 1.6), (0.6, 0.6, 1.6)))
    res = _segment(pts, max_step_m=0.4)
    expected_floor = np.abs(pts[:, 2] - (0.1 * pts[:, 0] - 1.0)) < 0.1
    assert res.ground[expected_floor].mean() > 0.95
    post = (np.abs(pts[:, 0] - 8) < 0.4) & (np.abs(pts[:, 1]) < 0.4) & (pts[:, 2] > 0.1 * 8 - 0.6)
    assert post.sum() > 10 and res.ground[post].mean() < 0.1


def test_tunnel_cross_section_floor_is_ground_walls_are_not() -> None:
    walls = box_mesh((0, 1.6, 1.5), (80, 0.2, 3.0)) + box_mesh((0, -1.6, 1.5), (80, 0.2, 3.0))
    ceiling = box_mesh((0, 0, 3.1), (80, 3.4, 0.2))
    pts = scan(floor_mesh() + walls + ceiling, mount_z=0.6)
    res = _segment(pts, sensor_height_m=0.6)
    floor = pts[:, 2] < -0.57
    wall = (np.abs(pts[:, 1]) > 1.45) & (pts[:, 2] > -0.3)
    assert res.ground[floor].mean() > 0.97
    assert res.ground[wall].mean() < 0.02


@pytest.mark.parametrize("n", [0, 1, 2])
def test_tiny_clouds_give_a_mask_of_the_right_length(n: int) -> None:
    pts = np.zeros((n, 3), np.float32) - [0, 0, 1]
    res = _segment(pts + np.array([2.0, 0.0, 0.0], np.float32))
    assert res.ground.shape == (n,)


def test_config_rejects_inconsistent_zones() -> None:
    with pytest.raises(ConfigError, match="zone_rings"):
        load_config(GroundConfig, {"zone_rings": [4, 4]})
    with pytest.raises(ConfigError, match="increase"):
        load_config(GroundConfig, {"zone_edges_m": [0.3, 5.0, 4.0, 25.0, 60.0]})
