"""Inspection patterns (camera geometry, corridor, structure, survey) and their mission items."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely.geometry import LineString, Polygon

from sanqin.planning import boundary as b
from sanqin.planning import coverage as cv
from sanqin.planning import missions as ms
from sanqin.planning.camera import Camera, line_spacing_m, trigger_distance_m
from sanqin.planning.corridor_scan import corridor_scan
from sanqin.planning.errors import InspectionError, PlanningError
from sanqin.planning.structure_scan import structure_scan
from sanqin.planning.survey_grid import survey_grid

CAM = Camera(sensor_width_mm=13.2, sensor_height_mm=8.8, image_width_px=5472, image_height_px=3648,
             focal_length_mm=8.8)


def test_camera_geometry() -> None:
    assert CAM.footprint_m(100.0) == pytest.approx((150.0, 100.0))
    assert CAM.gsd_m(100.0) == pytest.approx(150.0 / 5472)
    assert CAM.distance_for_gsd(CAM.gsd_m(37.0)) == pytest.approx(37.0)
    assert trigger_distance_m(CAM, 100.0, 0.8) == pytest.approx(20.0)
    assert line_spacing_m(CAM, 100.0, 0.6) == pytest.approx(60.0)
    with pytest.raises(InspectionError):
        trigger_distance_m(CAM, 100.0, 1.0)
    with pytest.raises(InspectionError):
        Camera(focal_length_mm=0.0)


def test_corridor_scan_flies_both_sides_facing_the_line() -> None:
    line = np.array([[0.0, 0.0], [200.0, 0.0], [300.0, 100.0]])
    passes = corridor_scan(line, altitude_m=40.0, offsets_m=(-20.0, 20.0), camera=CAM, line_height_m=20.0)
    assert len(passes) == 2
    right, left = passes
    assert np.all(right.waypoints_m[:2, 1] == pytest.approx(-20.0)) and right.waypoints_m[0, 0] == pytest.approx(0)
    assert left.waypoints_m[0, 0] > 250  # second pass flies back
    assert right.gimbal_pitch_deg == pytest.approx(-45.0)
    # the right-hand pass flies along the line with it on its left; the left-hand pass flies back, line on its left
    assert right.gimbal_yaw_deg == -90.0 and left.gimbal_yaw_deg == -90.0
    flipped = corridor_scan(line, 40.0, offsets_m=(20.0, -20.0), camera=CAM, line_height_m=20.0)
    assert [p.gimbal_yaw_deg for p in flipped] == [90.0, 90.0]
    assert corridor_scan(line, 40.0, offsets_m=(0.0,), camera=CAM)[0].gimbal_yaw_deg == 0.0
    dist = math.hypot(20.0, 20.0)
    assert right.trigger_distance_m == pytest.approx(CAM.footprint_m(dist)[1] * 0.3)
    with pytest.raises(InspectionError):
        corridor_scan(np.array([[0.0, 0.0]]), 40.0)
    with pytest.raises(InspectionError):
        corridor_scan(line, altitude_m=10.0, line_height_m=20.0)


def test_structure_scan_orbits_face_the_tower() -> None:
    pts = structure_scan((10.0, 20.0), structure_radius_m=2.0, standoff_m=10.0, bottom_m=5.0, top_m=35.0,
                         camera=CAM, frontal_overlap=0.6, side_overlap=0.6)
    layers = sorted({p.layer for p in pts})
    assert len(layers) >= 3 and pts[0].position_m[2] == 5.0 and pts[-1].position_m[2] == 35.0
    for p in pts:
        assert np.hypot(p.position_m[0] - 10, p.position_m[1] - 20) == pytest.approx(12.0)
        toward = np.array([10.0, 20.0]) - p.position_m[:2]
        assert math.atan2(toward[1], toward[0]) == pytest.approx(p.yaw_rad)
        assert p.gimbal_pitch_deg == 0.0
    with pytest.raises(InspectionError):
        structure_scan((0, 0), 1.0, 5.0, 30.0, 10.0)


def test_survey_grid_spacing_and_coverage() -> None:
    area = Polygon([(0, 0), (400, 0), (400, 250), (0, 250)])
    grid = survey_grid(area, altitude_m=80.0, camera=CAM, frontal_overlap=0.75, side_overlap=0.65)
    assert grid.line_spacing_m == pytest.approx(120.0 * 0.35)
    assert grid.trigger_distance_m == pytest.approx(80.0 * 0.25)
    assert len(grid.lines_m) >= math.ceil(250 / grid.line_spacing_m)
    assert grid.lines_m[0][1, :2] == pytest.approx(grid.lines_m[1][0, :2], abs=grid.line_spacing_m * 1.01)


def test_inspection_and_spraying_mission_items() -> None:
    frame = b.LocalFrame(52.0, 5.0)
    wp = np.array([[0, 0, 30.0], [100, 0, 30.0]])
    items = ms.inspection_items(frame, wp, trigger_distance_m=12.5, gimbal_pitch_deg=-45.0,
                                yaw_rad=np.array([np.pi / 2, 0.0]), takeoff_alt_m=30.0, speed_m_s=6.0)
    cmds = [i.command for i in items]
    assert cmds[0] == ms.MAV_CMD_NAV_TAKEOFF and cmds[-1] == ms.MAV_CMD_NAV_RETURN_TO_LAUNCH
    assert ms.MAV_CMD_DO_SET_CAM_TRIGG_DIST in cmds and ms.MAV_CMD_DO_MOUNT_CONTROL in cmds
    yaws = [i.params[0] for i in items if i.command == ms.MAV_CMD_CONDITION_YAW]
    assert yaws == pytest.approx([0.0, 90.0])  # ENU north = compass 0°, ENU east = compass 90°
    assert all(i.is_finite() for i in items)
    assert items[2].latitude_deg == pytest.approx(52.0) and items[2].longitude_deg == pytest.approx(5.0)
    with pytest.raises(PlanningError):
        ms.inspection_items(frame, np.array([[0, 0, np.nan]]))
    mount = next(i for i in items if i.command == ms.MAV_CMD_DO_MOUNT_CONTROL)
    assert mount.params[:3] == (-45.0, 0.0, 0.0) and mount.altitude_m == ms.MAV_MOUNT_MODE_MAVLINK_TARGETING
    # per-waypoint gimbal attitude: a mount command where it changes; photo stations shoot at each waypoint
    wp3 = np.array([[0, 0, 30.0], [50, 0, 30.0], [100, 0, 30.0]])
    items = ms.inspection_items(frame, wp3, gimbal_pitch_deg=np.array([-30.0, -30.0, -60.0]),
                                gimbal_yaw_deg=np.array([90.0, 90.0, -90.0]), photo_each_waypoint=True)
    mounts = [(i.params[0], i.params[2]) for i in items if i.command == ms.MAV_CMD_DO_MOUNT_CONTROL]
    assert mounts == [(-30.0, 90.0), (-60.0, -90.0)]
    shots = [i for i in items if i.command == ms.MAV_CMD_DO_DIGICAM_CONTROL]
    assert len(shots) == 3 and all(i.latitude_deg == 1.0 for i in shots)  # param 5 = 1: shoot
    with pytest.raises(PlanningError, match="take-off"):  # e.g. a structure scan from bottom_m = 0
        ms.inspection_items(frame, wp3, takeoff_alt_m=0.0)
    with pytest.raises(PlanningError, match="gimbal_pitch_deg"):
        ms.inspection_items(frame, wp3, gimbal_pitch_deg=np.array([-30.0, np.nan, -60.0]))

    fld = b.field_from_local([(0, 0), (120, 0), (120, 60), (0, 60)], origin_lat_lon_deg=(52.0, 5.0))
    plan = cv.plan_coverage(fld, cv.CoverageConfig(swath_m=6.0, tank_l=5.0, boom_sections=2),
                            home_m=np.array([-5.0, -5.0]))
    sorties = ms.coverage_sorties(plan, alt_m=3.0)
    assert len(sorties) == len(plan.refills) + 1
    for s in sorties:
        assert s[0].command == ms.MAV_CMD_NAV_TAKEOFF and s[-1].command == ms.MAV_CMD_NAV_RETURN_TO_LAUNCH
        sprays = [i.params[0] for i in s if i.command == ms.MAV_CMD_DO_SPRAYER]
        assert sprays and sprays[0] == 1.0 and sprays[-1] == 0.0  # every sortie ends with the sprayer off
    servo = ms.coverage_sorties(plan, 3.0, ms.SprayerOutput("servo", pump_servo=13))
    # a no-spray zone beside a pass switches one of two sections off: the single DO_SPRAYER switch must be off
    # there (spraying the whole boom would wet the zone), the servo method keeps the other section on
    zoned = b.field_from_local([(0, 0), (120, 0), (120, 60), (0, 60)], no_spray=[[(50, 27), (70, 27), (70, 60),
                                                                                  (50, 60)]],
                               origin_lat_lon_deg=(52.0, 5.0))
    zplan = cv.plan_coverage(zoned, cv.CoverageConfig(swath_m=6.0, boom_sections=2, heading_deg=0.0,
                                                      headland_laps=0, fill_gaps=False))
    partial = [s for p in zplan.pieces for s in p.spray if s.on and not all(s.sections)]
    assert partial  # the plan does have half-boom stretches
    frame_z = zoned.frame
    for sortie in ms.coverage_sorties(zplan, 3.0):
        on, pos = False, None
        for it in sortie:
            if it.command == ms.MAV_CMD_DO_SPRAYER:
                on = it.params[0] == 1.0
            elif it.command == ms.MAV_CMD_NAV_WAYPOINT:
                nxt = frame_z.to_local(np.array([it.longitude_deg]), np.array([it.latitude_deg]))[0]
                if on and pos is not None:  # a sprayed leg: the whole 6 m boom stays off the zone
                    strip = LineString([pos, nxt]).buffer(3.0, cap_style="flat")
                    assert strip.intersection(zoned.no_spray[0]).area < 1e-3
                pos = nxt
    assert {int(i.params[0]) for s in servo for i in s if i.command == ms.MAV_CMD_DO_SET_SERVO} == {9, 10, 13}
    for bad in ({"section_pwm_on": 19000}, {"section_servo_first": 0}, {"pump_max_flow_l_min": 0.0},
                {"method": "hose"}):
        with pytest.raises(PlanningError):
            ms.SprayerOutput(**{"method": "servo", **bad})
    path = ms.to_path(plan.pieces[1].points_m, "map")
    assert len(path.poses) == len(plan.pieces[1].points_m)
