"""Thermal hotspots: DL/T 664 grading, detection on synthetic radiometric images, debouncing, inspection log."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sanqin.perception.errors import ImageInputError, InspectionLogError
from sanqin.perception.inspection_log import InspectionLog, read_log
from sanqin.perception.thermal import (
    HotspotConfig,
    HotspotTracker,
    TrackerLocationConfig,
    check_thermal,
    find_hotspots,
    grade,
)

CFG = HotspotConfig()


@pytest.mark.parametrize(
    ("t1", "t2", "t0", "expected"),
    [
        (40.0, 36.0, 25.0, 0),  # δ = 27 %, ΔT 4 K: normal
        (45.0, 36.0, 25.0, 1),  # δ = 45 %: general
        (60.0, 30.0, 25.0, 2),  # δ = 86 %: serious
        (82.0, 70.0, 25.0, 2),  # T1 ≥ 80 °C: serious although δ = 21 %
        (100.0, 28.0, 25.0, 3),  # δ = 96 %: critical
        (112.0, 100.0, 25.0, 3),  # T1 ≥ 110 °C
        (27.0, 25.5, 25.0, 0),  # δ = 75 % but ΔT 1.5 K: noise, not graded by δ
    ],
)
def test_dlt664_grading(t1, t2, t0, expected) -> None:
    delta, g = grade(t1, t2, t0, CFG)
    assert delta == pytest.approx(100 * (t1 - t2) / (t1 - t0))
    assert g == expected


def _scene(hot_c=None, at=(60, 40), rng=None):
    """A 120×160 thermal image: 20 °C wall, a 35 °C cable along row 60, an optional joint hotspot."""
    rng = rng or np.random.default_rng(0)
    img = 20.0 + rng.normal(0, 0.2, (120, 160))
    img[55:66, :] = 35.0 + rng.normal(0, 0.2, (11, 160))
    if hot_c is not None:
        r, c = at
        yy, xx = np.mgrid[0:120, 0:160]
        blob = np.exp(-((yy - r) ** 2 + (xx - c) ** 2) / (2 * 3.0**2))
        img += (hot_c - 35.0) * blob * ((yy >= 55) & (yy <= 65))
    return img.astype(np.float32)


def test_hot_joint_is_found_and_graded_against_its_cable() -> None:
    (hs,) = find_hotspots(_scene(hot_c=75.0), CFG)
    assert hs.centroid_px == pytest.approx((40, 60), abs=1.5)
    assert hs.t1_c == pytest.approx(75.0, abs=1.0)
    assert hs.t2_c == pytest.approx(35.0, abs=1.0)  # the cable beside the joint, not the wall
    assert hs.t0_c == pytest.approx(20.0, abs=1.0)
    assert hs.grade == 1 and hs.grade_name == "general"  # 35 % ≤ δ ≈ 73 % < 80 % and T1 < 80 °C
    assert hs.delta_pct == pytest.approx(100 * (75 - 35) / (75 - 20), abs=3)


def test_normal_cable_and_noise_give_no_hotspot() -> None:
    assert find_hotspots(_scene(), CFG) == []


def test_invalid_pixels_and_encodings() -> None:
    img = _scene(hot_c=60.0)
    img[0:10, 0:10] = np.nan
    img[20, 20] = np.inf
    assert len(find_hotspots(img, CFG)) == 1
    assert find_hotspots(np.full((50, 50), np.nan, np.float32), CFG) == []
    with pytest.raises(ImageInputError, match="32FC1"):
        check_thermal(np.zeros((10, 10), np.uint16), "mono16")
    with pytest.raises(ImageInputError, match="2-D"):
        check_thermal(np.zeros((10, 10, 3), np.float32))


def test_tracker_confirms_after_repeated_frames_and_locates_along_the_tunnel() -> None:
    trk = HotspotTracker(
        TrackerLocationConfig(confirm_frames=3, focal_px=400, center_px=80, target_range_m=1.3, along_sign=1.0)
    )
    (hs,) = find_hotspots(_scene(hot_c=75.0, at=(60, 80)), CFG)
    alarms = []
    for st in [10.0, 10.0, 10.0, 10.0]:
        got = trk.update([hs], st, np.array([st, 0.0, 0.0]), 0.0)
        alarms.append(len(got))
    assert alarms == [0, 0, 1, 0]  # once, on the third sighting
    (conf,) = trk.confirmed
    assert conf.station_m == pytest.approx(10.0, abs=0.05)


def test_joints_side_by_side_on_two_tiers_are_two_hotspots() -> None:
    img = _scene(hot_c=75.0, at=(60, 80))
    img[20:31, :] = 35.0  # a second cable tier, with its own joint at the same station
    yy, xx = np.mgrid[0:120, 0:160]
    img += ((95.0 - 35.0) * np.exp(-((yy - 25) ** 2 + (xx - 80) ** 2) / 18.0) * ((yy >= 20) & (yy <= 30)))
    hotspots = find_hotspots(img.astype(np.float32), CFG)
    assert len(hotspots) == 2
    trk = HotspotTracker(TrackerLocationConfig(confirm_frames=3, center_px=80, along_sign=1.0))
    alarms = [len(trk.update(hotspots, 10.0, np.array([10.0, 0.0, 0.0]), 0.0)) for _ in range(3)]
    assert alarms == [0, 0, 2]  # each confirmed by its own three sightings, not the pair by two frames
    assert sorted(t.best.grade for t in trk.confirmed) == [1, 2]


def test_single_frame_reflection_never_alarms() -> None:
    trk = HotspotTracker(TrackerLocationConfig(confirm_frames=3, window_frames=5))
    (hs,) = find_hotspots(_scene(hot_c=75.0), CFG)
    assert trk.update([hs], 5.0, np.zeros(3), 0.0) == []
    for k in range(10):
        assert trk.update([], 5.0 + 0.2 * k, np.zeros(3), 0.0) == []
    assert trk.tracks == []


def test_inspection_log_appends_durably_and_survives_a_torn_line(tmp_path) -> None:
    path = tmp_path / "logs" / "inspection.jsonl"
    log = InspectionLog(path)
    log.append({"id": 1, "t1_c": 75.0, "delta": float("nan"), "pos": np.array([1.0, 2.0])})
    log.close()
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"id": 2, "t1')  # a crash mid-write
    log2 = InspectionLog(path)
    log2.append({"id": 3})
    log2.close()
    records, bad = read_log(path)
    assert [r["id"] for r in records] == [1] and bad == 1  # the torn line swallowed the next record's start
    assert records[0]["delta"] is None and records[0]["pos"] == [1.0, 2.0]
    json.loads(path.read_text().splitlines()[0])


def test_inspection_log_in_an_unwritable_place_raises_a_typed_error(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InspectionLogError, match="cannot open"):
        InspectionLog(blocker / "sub" / "log.jsonl")


def test_a_frame_full_of_hot_specks_is_graded_speck_by_speck() -> None:
    # A glitching sensor (fixed-pattern noise) can light up thousands of small regions; each is found and
    # graded in its own window (this frame took ~13 s when every region scanned the whole image).
    rng = np.random.default_rng(3)
    img = 20.0 + rng.normal(0, 0.2, (512, 640))
    img[100:400, :] = 35.0
    for dr in range(3):
        for dc in range(2):
            img[dr::5, dc::5] = 60.0
    hotspots = find_hotspots(img.astype(np.float32), CFG)
    assert len(hotspots) == 102 * 128  # a 3×2 speck every 5 rows and columns (the cut-off last row is too small)
    assert {h.area_px for h in hotspots} == {6} and {h.grade for h in hotspots} == {1}
    assert all(h.t1_c == pytest.approx(60.0) for h in hotspots)
