"""Canopy: ExG + Otsu, NDVI, cover grid in field coordinates, variable-rate prescription."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.perception.canopy import (
    CanopyGrid,
    CanopyGridConfig,
    PrescriptionConfig,
    SegmentationConfig,
    excess_green,
    ndvi,
    otsu_threshold,
    prescription,
    vegetation_ndvi,
    vegetation_rgb,
)
from sanqin.perception.errors import ImageInputError


def _field_image(cover_frac: float, rng, shape=(120, 160)):
    img = np.empty((*shape, 3), np.uint8)
    soil = rng.normal([120, 90, 60], 6, (*shape, 3))
    leaf = rng.normal([60, 140, 50], 12, (*shape, 3))
    mask = rng.random(shape) < cover_frac
    img[:] = np.clip(np.where(mask[:, :, None], leaf, soil), 0, 255).astype(np.uint8)
    return img, mask


def test_exg_otsu_segments_leaves_from_soil() -> None:
    img, truth = _field_image(0.4, np.random.default_rng(0))
    mask, thr = vegetation_rgb(img, SegmentationConfig())
    assert (mask == truth).mean() > 0.97
    assert 0.1 <= thr <= 0.4
    bgr_mask, _ = vegetation_rgb(img[:, :, ::-1].copy(), SegmentationConfig(), encoding="bgr8")
    assert np.array_equal(bgr_mask, mask)


def test_bare_soil_is_not_split_in_half_by_otsu() -> None:
    img, _ = _field_image(0.0, np.random.default_rng(1))
    mask, thr = vegetation_rgb(img, SegmentationConfig())
    assert mask.mean() < 0.05 and thr == pytest.approx(0.1)


def test_otsu_on_a_bimodal_sample() -> None:
    v = np.concatenate([np.random.default_rng(0).normal(0, 0.05, 1000), np.random.default_rng(1).normal(1, 0.05, 1000)])
    assert 0.3 < otsu_threshold(v) < 0.7
    with pytest.raises(ImageInputError):
        otsu_threshold(np.array([np.nan]))


def test_ndvi_and_its_mask() -> None:
    nir = np.array([[200, 50], [0, 100]], np.uint16)
    red = np.array([[50, 50], [0, 10]], np.uint16)
    v = ndvi(nir, red)
    assert v[0, 0] == pytest.approx(0.6) and v[0, 1] == 0.0 and np.isnan(v[1, 0])
    mask, thr = vegetation_ndvi(nir, red, SegmentationConfig())
    assert mask.tolist() == [[True, False], [False, True]] and thr == 0.35
    with pytest.raises(ImageInputError, match="equal shape"):
        ndvi(nir, red[:1])


def test_bad_rgb_inputs() -> None:
    with pytest.raises(ImageInputError, match="rgb8"):
        excess_green(np.zeros((4, 4), np.uint8), "mono8")
    with pytest.raises(ImageInputError, match="uint8"):
        excess_green(np.zeros((4, 4, 3), np.float32), "rgb8")


def test_cover_grid_places_a_nadir_image_in_field_coordinates() -> None:
    cfg = CanopyGridConfig(cell_m=1.0, cells_x=20, cells_y=20, fx_px=100, fy_px=100, cx_px=50, cy_px=50,
                           pixel_stride=1)
    grid = CanopyGrid(cfg)
    mask = np.zeros((100, 100), bool)
    mask[:50, :] = True  # image top half = ahead of the nose
    # At 10 m altitude the 100 px image covers 10 m × 10 m; drone at (10, 10) heading +y (yaw 90°).
    assert grid.add(mask, 10.0, 10.0, 10.0, np.pi / 2)
    cover = grid.cover()
    assert np.nanmean(cover[10:15, 5:15]) == pytest.approx(1.0)  # y > 10: ahead
    assert np.nanmean(cover[5:10, 5:15]) == pytest.approx(0.0)
    assert np.isnan(cover[0, 0])
    assert not grid.add(mask, 10.0, 10.0, float("nan"), 0.0)
    assert not grid.add(mask, 10.0, 10.0, 10.0, 0.0, roll_rad=0.5)
    assert grid.skipped == 2


def test_prescription_levels() -> None:
    cfg = PrescriptionConfig(min_cover=0.1, rate_min_l_ha=50, rate_max_l_ha=200, levels=4)
    cover = np.array([0.0, 0.05, 0.1, 0.3, 0.6, 1.0, np.nan])
    rate = prescription(cover, cfg)
    assert rate.tolist() == [0.0, 0.0, 50.0, 50.0, 150.0, 200.0, -1.0]


def test_an_image_of_another_size_than_the_intrinsics_is_refused() -> None:
    grid = CanopyGrid(CanopyGridConfig(cx_px=320, cy_px=240, width_px=640, height_px=480))
    with pytest.raises(ImageInputError, match="160×120 px but the camera intrinsics are for 640×480"):
        grid.add(np.ones((120, 160), bool), 10.0, 10.0, 10.0, 0.0)
    assert grid.images == 0 and not grid.seen.any()
    assert grid.add(np.ones((480, 640), bool), 10.0, 10.0, 10.0, 0.0)
    unchecked = CanopyGrid(CanopyGridConfig(cx_px=320, cy_px=240))  # width_px = height_px = 0: any size
    assert unchecked.add(np.ones((120, 160), bool), 10.0, 10.0, 10.0, 0.0)


def test_grid_config_rejects_an_empty_altitude_band_and_a_principal_point_outside_the_image() -> None:
    from sanqin.runtime.config import load_config
    from sanqin.runtime.errors import ConfigError

    with pytest.raises(ConfigError, match="max_altitude_m"):
        load_config(CanopyGridConfig, {"min_altitude_m": 50.0, "max_altitude_m": 20.0})
    with pytest.raises(ConfigError, match="principal point"):
        load_config(CanopyGridConfig, {"cx_px": 320.0, "width_px": 160, "height_px": 120, "cy_px": 60.0})
