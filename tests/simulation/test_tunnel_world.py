"""Cable-tunnel world: closed low-poly mesh, floor profile, objects where the ground truth says, bad configs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import open3d as o3d
import pytest

from sanqin.runtime.config import load_config
from sanqin.runtime.errors import ConfigError
from sanqin.simulation.worlds.tunnel import MATERIAL_IDS, MATERIALS, TunnelConfig, TunnelWorld, build_tunnel


@pytest.fixture(scope="module")
def world() -> TunnelWorld:
    return build_tunnel(TunnelConfig())


def _caster(world: TunnelWorld):
    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(o3d.t.geometry.TriangleMesh.from_legacy(world.mesh))

    def cast(origin, direction):
        o = np.atleast_2d(np.asarray(origin, float))
        d = np.atleast_2d(np.asarray(direction, float))
        d = d / np.linalg.norm(d, axis=1, keepdims=True)
        o = np.broadcast_to(o, d.shape)
        ans = scene.cast_rays(o3d.core.Tensor(np.hstack([o, d]).astype(np.float32)))
        t = ans["t_hit"].numpy().astype(float)
        prim = ans["primitive_ids"].numpy()
        mat = np.where(np.isfinite(t), world.triangle_material[np.minimum(prim, len(world.triangle_material) - 1)], -1)
        return t, mat

    return cast


def test_default_tunnel_is_small_and_finite(world: TunnelWorld) -> None:
    assert 2_000 < world.triangles < 20_000
    v = np.asarray(world.mesh.vertices)
    assert np.isfinite(v).all()
    assert v[:, 0].min() == pytest.approx(0.0) and v[:, 0].max() == pytest.approx(200.0)
    assert len(world.triangle_material) == len(world.mesh.triangles)
    refl = world.triangle_reflectivity()
    assert set(np.unique(refl)) <= {np.float32(r) for r in MATERIALS.values()}


def test_shell_is_closed(world: TunnelWorld) -> None:
    cast = _caster(world)
    dirs = np.random.default_rng(0).normal(size=(20_000, 3))
    for station in (1.0, 37.3, 125.0, 199.0):
        t, _ = cast(world.centerline(station, 1.2), dirs)
        assert np.isfinite(t).all(), f"rays escape the tunnel at station {station}"


def test_floor_profile_follows_the_ramp(world: TunnelWorld) -> None:
    assert world.floor_z(50.0) == 0.0
    assert world.floor_z(125.0) == pytest.approx(0.05 * 15.0)
    assert world.floor_z(180.0) == pytest.approx(0.05 * 30.0)
    assert world.grade(120.0) == 0.05 and world.grade(150.0) == 0.0
    np.testing.assert_allclose(world.floor_z(np.array([0.0, 140.0])), [0.0, 1.5])
    cast = _caster(world)
    for s in (20.0, 125.0, 170.0):
        t, mat = cast(world.centerline(s, 1.0), [0, 0, -1])
        assert t[0] == pytest.approx(1.0, abs=1e-4) and mat[0] == MATERIAL_IDS["concrete"]
        t, _ = cast(world.centerline(s, 1.0), [0, 0, 1])
        assert t[0] == pytest.approx(world.config.height_m - 1.0, abs=1e-3)  # arch crown


def test_drain_channel_in_the_floor(world: TunnelWorld) -> None:
    drain = world.annotations.drain
    cast = _caster(world)
    t, _ = cast([60.0, drain.lateral_m, 0.3], [0, 0, -1])  # below the lowest tray
    assert t[0] == pytest.approx(0.3 + drain.depth_m, abs=1e-4)


def test_joints_are_on_their_cables_and_hit_by_rays(world: TunnelWorld) -> None:
    ann = world.annotations
    assert [j.station_m for j in ann.joints] == [40.0, 95.0, 160.0]
    cast = _caster(world)
    for joint in ann.joints:
        cable = next(c for c in ann.cables if (c.side, c.tier, c.index) == (joint.side, joint.tier, joint.cable))
        assert joint.box.center_m[1] == pytest.approx(cable.y_m)
        assert joint.box.center_m[2] == pytest.approx(world.floor_z(joint.station_m) + cable.center_above_floor_m)
        assert (joint.box.center_m[1] > 0) == (joint.side == "left")
        # Looking from the centre line at the joint's centre, the first thing hit is the joint.
        origin = np.array([joint.station_m, 0.0, joint.box.center_m[2] + 0.3])
        t, mat = cast(origin, np.asarray(joint.box.center_m) - origin)
        assert mat[0] == MATERIAL_IDS["joint"]


def test_cart_and_trays_are_where_the_ground_truth_says(world: TunnelWorld) -> None:
    ann = world.annotations
    cart = ann.cart
    cast = _caster(world)
    origin = np.array([cart.station_m, -0.5, 0.5])
    t, mat = cast(origin, [0, 1, 0])
    assert mat[0] == MATERIAL_IDS["cart"]
    assert t[0] == pytest.approx(cart.box.min_m[1] - origin[1], abs=1e-4)
    assert cart.box.contains(origin + t[0] * np.array([0, 1, 0]), margin_m=1e-3)[0]
    assert len(ann.trays) == 6 and len(ann.cables) == 12 and len(ann.brackets) == 200
    tray = next(tr for tr in ann.trays if tr.side == "right" and tr.tier == 2)
    # Midway between brackets and beside the cables, straight down onto the top tray's surface.
    y = tray.y_inner_m - 0.02
    t, mat = cast([31.0, y, 2.5], [0, 0, -1])
    assert mat[0] == MATERIAL_IDS["tray"] and t[0] == pytest.approx(2.5 - tray.top_above_floor_m, abs=1e-4)
    # Past the ramp the tray has climbed with the floor.
    t, _ = cast([171.0, y, 4.0], [0, 0, -1])
    assert t[0] == pytest.approx(4.0 - 1.5 - tray.top_above_floor_m, abs=1e-4)


def test_rectangular_single_side_variant_without_extras() -> None:
    cfg = TunnelConfig(
        length_m=30.0, profile="rectangular", tray_sides="left", joint_stations_m=(10.0,), joint_sides=("left",),
        joint_tiers=(0,), joint_cables=(1,), cart_enabled=False, ramp_start_m=(), ramp_length_m=(), ramp_grade=(),
        drain_enabled=False, end_walls=False,
    )
    w = build_tunnel(cfg)
    assert w.annotations.cart is None and w.annotations.drain is None
    assert {t.side for t in w.annotations.trays} == {"left"}
    cast = _caster(w)
    t, _ = cast(w.centerline(15.0, 1.0), [0, 0, 1])
    assert t[0] == pytest.approx(cfg.height_m - 1.0, abs=1e-4)
    t, _ = cast(w.centerline(15.0, 1.0), [1, 0, 0])
    assert not np.isfinite(t[0])  # open ends


@pytest.mark.parametrize(
    "change, match",
    [
        ({"arch_rise_m": 2.0}, "arch_rise_m"),
        ({"tray_sides": "left"}, "carries no trays"),
        ({"tray_heights_m": [0.6, 1.1, 2.5]}, "below the wall top"),
        ({"tray_heights_m": [1.1, 0.6, 1.6]}, "must increase"),
        ({"joint_tiers": [0, 1]}, "same length"),
        ({"joint_stations_m": [40.0, 95.0, 250.0]}, "outside the tunnel"),
        ({"ramp_start_m": [10.0, 20.0], "ramp_length_m": [15.0, 5.0], "ramp_grade": [0.1, 0.1]}, "overlaps"),
        ({"cart_lateral_m": 1.4}, "does not fit"),
        ({"drain_lateral_m": 1.5}, "drain"),
        ({"length_m": -1.0}, "below the minimum"),
    ],
)
def test_bad_configs_are_rejected_at_load(change: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_config(TunnelConfig, change)


def test_build_is_deterministic() -> None:
    cfg = replace(TunnelConfig(), length_m=40.0, joint_stations_m=(), joint_sides=(), joint_tiers=(), joint_cables=(),
                  cart_station_m=20.0, ramp_start_m=(10.0,), ramp_length_m=(10.0,))
    a, b = build_tunnel(cfg), build_tunnel(cfg)
    np.testing.assert_array_equal(np.asarray(a.mesh.vertices), np.asarray(b.mesh.vertices))
    np.testing.assert_array_equal(a.triangle_material, b.triangle_material)


def _bent(**kw) -> TunnelWorld:
    base = {"length_m": 120.0, "bend_start_m": (40.0,), "bend_length_m": (31.4159265,), "bend_angle_deg": (90.0,),
            "joint_stations_m": (20.0, 55.0, 100.0), "cart_station_m": 50.0, "ramp_start_m": (80.0,),
            "ramp_length_m": (20.0,), "ramp_grade": (0.05,)}
    base.update(kw)
    return build_tunnel(load_config(TunnelConfig, base))


def test_bend_turns_the_centre_line_exactly() -> None:
    w = _bent()
    radius = 31.4159265 / (np.pi / 2)  # 20 m
    np.testing.assert_allclose(w.centerline(30.0), [30.0, 0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(w.centerline(40.0 + 31.4159265), [40.0 + radius, radius, 0.0], atol=1e-6)
    np.testing.assert_allclose(w.centerline(90.0)[:2], [60.0, 20.0 + 90.0 - 71.4159265], atol=1e-6)
    assert w.heading(100.0) == pytest.approx(np.pi / 2) and w.heading(10.0) == 0.0
    assert w.curvature(50.0) == pytest.approx(1 / radius) and w.curvature(20.0) == 0.0
    # Lateral offsets point to the left wall: after the left turn, left is -x.
    np.testing.assert_allclose(w.to_world(100.0, 1.0, 0.5) - w.centerline(100.0), [-1.0, 0.0, 0.5], atol=1e-9)


def test_bent_tunnel_is_closed_and_its_objects_are_where_the_ground_truth_says() -> None:
    w = _bent()
    cast = _caster(w)
    dirs = np.random.default_rng(1).normal(size=(20_000, 3))
    for station in (45.0, 55.5, 70.0, 95.0):
        t, _ = cast(w.centerline(station, 1.2), dirs)
        assert np.isfinite(t).all(), f"rays escape the bent tunnel at station {station}"
        # The walls are width/2 from the centre line, square to it.
        _, psi = w.frame(station)
        t, _ = cast(w.centerline(station, 0.3), [-np.sin(psi), np.cos(psi), 0.0])
        assert t[0] == pytest.approx(w.config.width_m / 2, abs=0.01)
    joint = w.annotations.joints[1]  # in the bend, on the right wall
    assert joint.box.yaw_rad == pytest.approx(w.heading(55.0))
    origin = w.centerline(55.0, joint.box.center_m[2] - w.floor_z(55.0) + 0.3)
    _, mat = cast(origin, np.asarray(joint.box.center_m) - origin)
    assert mat[0] == MATERIAL_IDS["joint"]
    assert joint.box.contains(np.asarray(joint.box.center_m))[0]
    cart = w.annotations.cart.box
    inside = np.asarray(cart.center_m)
    assert cart.contains(inside)[0] and not cart.contains(inside + 0.5 * np.array(cart.size_m))[0]
    assert cart.contains(cart.corners(), margin_m=1e-9).all()


def test_bends_are_validated() -> None:
    with pytest.raises(ConfigError, match="too tight"):
        load_config(TunnelConfig, {"bend_start_m": [10.0], "bend_length_m": [2.0], "bend_angle_deg": [90.0]})
    with pytest.raises(ConfigError, match="overlaps"):
        load_config(TunnelConfig, {"bend_start_m": [10.0, 15.0], "bend_length_m": [10.0, 10.0],
                                   "bend_angle_deg": [10.0, 10.0]})
    with pytest.raises(ConfigError, match="same length"):
        load_config(TunnelConfig, {"bend_start_m": [10.0], "bend_length_m": [], "bend_angle_deg": [10.0]})
