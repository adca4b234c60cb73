"""Camera–LiDAR projection (plumb bob), colorization and 2-D boxes → 3-D positions."""

from __future__ import annotations

import numpy as np
import pytest

from sanqin.common.types import CameraModel
from sanqin.perception.camera import Detection2D, colorize, distort, locate_detections, monotonic_radius, project
from sanqin.perception.errors import CameraModelError, ImageInputError, InvalidCloudError

# LiDAR x forward, y left, z up → optical z forward, x right, y down.
T_CAM_LIDAR = np.array([[0.0, -1.0, 0.0, 0.0], [0.0, 0.0, -1.0, 0.1], [1.0, 0.0, 0.0, 0.0], [0, 0, 0, 1.0]])


def _model(d=(0.0, 0.0, 0.0, 0.0, 0.0), w=640, h=480) -> CameraModel:
    k = np.array([[500.0, 0, 320.0], [0, 500.0, 240.0], [0, 0, 1]])
    return CameraModel(width=w, height=h, distortion_model="plumb_bob", k=k, d=np.array(d),
                       p=np.hstack([k, np.zeros((3, 1))]))


def test_projection_of_known_points_without_distortion() -> None:
    pts = np.array([[10.0, 0.0, 0.1], [10.0, 1.0, 0.1], [-5.0, 0.0, 0.0], [10.0, 50.0, 0.0]])
    proj = project(pts, _model(), T_CAM_LIDAR)
    assert list(proj.index) == [0, 1]  # behind the camera and outside the image are dropped
    assert proj.uv[0] == pytest.approx([320.0, 240.0])
    assert proj.uv[1] == pytest.approx([320.0 - 50.0, 240.0])
    assert proj.depth_m == pytest.approx([10.0, 10.0])


def test_plumb_bob_distortion_matches_the_opencv_formula() -> None:
    d = np.array([-0.2, 0.05, 0.001, -0.002, 0.01])
    x, y = np.array([0.3]), np.array([-0.2])
    xd, yd = distort(x, y, d)
    r2 = 0.13
    radial = 1 - 0.2 * r2 + 0.05 * r2**2 + 0.01 * r2**3
    assert xd[0] == pytest.approx(0.3 * radial + 2 * 0.001 * 0.3 * -0.2 + -0.002 * (r2 + 2 * 0.09))
    assert yd[0] == pytest.approx(-0.2 * radial + 0.001 * (r2 + 2 * 0.04) + 2 * -0.002 * 0.3 * -0.2)
    proj = project(np.array([[5.0, -1.5, 1.0]]), _model(d), T_CAM_LIDAR)
    xn, yn = 1.5 / 5.0, -(1.0 - 0.1) / 5.0
    exd, eyd = distort(np.array([xn]), np.array([yn]), d)
    assert proj.uv[0] == pytest.approx([500 * exd[0] + 320, 500 * eyd[0] + 240])


def test_points_where_strong_barrel_distortion_folds_back_stay_out_of_the_image() -> None:
    model = _model(d=(-0.4, 0.0, 0.0, 0.0, 0.0))  # r_d = r (1 - 0.4 r²) turns back at r ≈ 0.91
    assert monotonic_radius(model.d, 2.0) == pytest.approx(np.sqrt(1 / 1.2), abs=1e-3)
    # Optical x = -lidar y: normalised radius 0.5 (inside) and 1.2 (outside the lens's field of view,
    # which the polynomial folds back to r_d = 0.51, i.e. u = 574 px, inside the image).
    pts = np.array([[10.0, -5.0, 0.1], [10.0, -12.0, 0.1]])
    proj = project(pts, model, T_CAM_LIDAR)
    assert list(proj.index) == [0]
    assert proj.uv[0, 0] == pytest.approx(320 + 500 * 0.5 * (1 - 0.4 * 0.25))


def test_colorize_takes_the_pixel_under_each_point() -> None:
    img = np.zeros((480, 640, 3), np.uint8)
    img[:, :320] = (255, 0, 0)  # left half red
    img[:, 320:] = (0, 0, 255)
    pts = np.array([[10.0, 2.0, 0.0], [10.0, -2.0, 0.0], [-10.0, 0.0, 0.0]])
    colors, mask = colorize(pts, img, _model(), T_CAM_LIDAR)
    assert list(mask) == [True, True, False]
    assert tuple(colors[0]) == (255, 0, 0) and tuple(colors[1]) == (0, 0, 255)


def test_colorize_uses_pixel_centres_at_integer_coordinates() -> None:
    img = np.zeros((480, 640), np.uint8)
    img[:, 1::2] = 255  # odd columns white
    # u = 320 - 500 · y / 10 (optical x = -lidar y): 100.4 lies in pixel 100, 100.6 in pixel 101.
    pts = np.array([[10.0, (320 - 100.4) / 50, 0.1], [10.0, (320 - 100.6) / 50, 0.1], [10.0, (320 + 0.4) / 50, 0.1]])
    colors, mask = colorize(pts, img, _model(), T_CAM_LIDAR)
    assert mask.all()  # u = -0.4 is still inside pixel 0
    assert list(colors[:, 0]) == [0, 255, 0]


def test_detection_gets_the_position_of_the_object_not_the_background() -> None:
    rng = np.random.default_rng(0)
    person = rng.normal([8.0, 0.5, 0.0], [0.15, 0.2, 0.5], (300, 3))
    wall = np.stack([np.full(2000, 20.0), rng.uniform(-5, 5, 2000), rng.uniform(-1, 2, 2000)], 1)
    pts = np.vstack([person, wall])
    proj = project(person, _model(), T_CAM_LIDAR)
    box = (*proj.uv.min(0), *proj.uv.max(0))
    (det,) = locate_detections([Detection2D(tuple(map(float, box)), "person")], pts, _model(), T_CAM_LIDAR)
    assert det.position_m == pytest.approx([8.0, 0.5, 0.0], abs=0.15)
    (empty,) = locate_detections([Detection2D((0.0, 0.0, 5.0, 5.0))], pts, _model(), T_CAM_LIDAR)
    assert np.isnan(empty.position_m).all()


def test_camera_info_disagreeing_with_the_image_and_bad_images_are_rejected() -> None:
    with pytest.raises(CameraModelError, match="CameraInfo says"):
        colorize(np.zeros((1, 3)), np.zeros((240, 320, 3), np.uint8), _model(), T_CAM_LIDAR)
    with pytest.raises(ImageInputError, match="rgb8"):
        colorize(np.zeros((1, 3)), np.zeros((480, 640), np.float32), _model(), T_CAM_LIDAR)
    with pytest.raises(CameraModelError, match="focal"):
        project(np.zeros((1, 3)), CameraModel(width=640, height=480), T_CAM_LIDAR)
    with pytest.raises(CameraModelError, match="not supported"):
        project(np.zeros((1, 3)), CameraModel(width=640, height=480, k=_model().k, distortion_model="equidistant"),
                T_CAM_LIDAR)


def test_points_with_extra_fields_are_read_by_column_and_bad_shapes_refused() -> None:
    xyzi = np.array([[10.0, 0.0, 0.1, 7.0], [10.0, 1.0, 0.1, 9.0], [10.0, -1.0, 0.1, 3.0]])  # x y z intensity
    proj = project(xyzi, _model(), T_CAM_LIDAR)
    assert list(proj.index) == [0, 1, 2] and proj.uv[1] == pytest.approx([270.0, 240.0])
    assert project(np.array([10.0, 0.0, 0.1]), _model(), T_CAM_LIDAR).uv[0] == pytest.approx([320.0, 240.0])
    for bad in (np.zeros((4, 2)), np.zeros(6), np.zeros((2, 2, 3))):
        with pytest.raises(InvalidCloudError, match="x, y, z"):
            project(bad, _model(), T_CAM_LIDAR)
