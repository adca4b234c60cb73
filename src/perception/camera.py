"""Camera–LiDAR fusion: project points into a calibrated pinhole camera, colorize clouds, lift 2-D boxes to 3-D.

The camera model is sensor_msgs/CameraInfo's (:class:`~sanqin.common.types.CameraModel`): intrinsics ``K``
and the ``plumb_bob`` distortion ``D = (k1, k2, t1, t2, k3)`` (the OpenCV radial-tangential model; ``D``
empty or ``distortion_model`` ``none`` means no distortion). Points are given in the LiDAR frame and moved
into the camera's optical frame (z forward, x right, y down, REP-103 ``*_optical_frame``) by the extrinsic
``T_cam_lidar``. The raw (distorted) image is the one projected into, as a driver publishes it.

A 2-D detection (pixel box) gets the 3-D position of the points that project inside it: the nearest
depth mode (a histogram over depth; background behind the object is farther, and the box corners often
hold ground points) and the median of the points in that mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sanqin.common.types import CameraModel
from sanqin.perception.errors import CameraModelError, ImageInputError, InvalidCloudError

SUPPORTED_DISTORTION = ("plumb_bob", "rational_polynomial", "none", "")


@dataclass(frozen=True)
class Projection:
    """Pixels (M, 2) of the points that land in the image, their indices in the input and depths (m)."""

    uv: np.ndarray
    index: np.ndarray
    depth_m: np.ndarray


@dataclass(frozen=True)
class Detection2D:
    """A pixel box (u_min, v_min, u_max, v_max) with a class label and score."""

    box_px: tuple[float, float, float, float]
    label: str = ""
    score: float = 1.0


@dataclass(frozen=True)
class Detection3D:
    """A detection with a 3-D position in the LiDAR frame (NaN when no point supports it)."""

    detection: Detection2D
    position_m: np.ndarray
    n_points: int


def _xyz(points: np.ndarray) -> np.ndarray:
    """(N, 3) float64 of an (N, ≥3) array (x, y, z first) or a single 3-vector; other shapes are refused.

    A plain ``reshape(-1, 3)`` would silently scramble an (N, 4) x-y-z-intensity array into nonsense points.
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim == 1 and pts.size == 3:
        return pts.reshape(1, 3)
    if pts.ndim != 2 or pts.shape[1] < 3:
        raise InvalidCloudError(f"expected (N, 3) points (x, y, z first), got shape {pts.shape}")
    return pts[:, :3]


def check_model(model: CameraModel, image_shape: tuple[int, ...] | None = None) -> None:
    """Raise :class:`CameraModelError` for an unusable calibration or one that disagrees with the image."""
    k = np.asarray(model.k, float)
    if not np.all(np.isfinite(k)) or k[0, 0] <= 0 or k[1, 1] <= 0:
        raise CameraModelError(
            f"camera matrix K must be finite with positive focal lengths, got fx={k[0, 0]}, fy={k[1, 1]}"
        )
    if model.distortion_model not in SUPPORTED_DISTORTION:
        raise CameraModelError(f"distortion model {model.distortion_model!r} is not supported ({SUPPORTED_DISTORTION})")
    if not np.all(np.isfinite(model.d)):
        raise CameraModelError("distortion coefficients must be finite")
    if model.width <= 0 or model.height <= 0:
        raise CameraModelError(f"camera size must be positive, got {model.width}×{model.height}")
    if image_shape is not None and (image_shape[0] != model.height or image_shape[1] != model.width):
        raise CameraModelError(
            f"image is {image_shape[1]}×{image_shape[0]} but CameraInfo says {model.width}×{model.height}"
        )


def _coefficients(d: np.ndarray) -> np.ndarray:
    dd = np.zeros(8)
    dd[: min(8, d.size)] = d[:8]
    return dd  # k1, k2, p1, p2, k3, k4, k5, k6 (OpenCV order)


def _radial(r2: np.ndarray, dd: np.ndarray) -> np.ndarray:
    k1, k2, _, _, k3, k4, k5, k6 = dd
    return (1 + k1 * r2 + k2 * r2**2 + k3 * r2**3) / (1 + k4 * r2 + k5 * r2**2 + k6 * r2**3)


def monotonic_radius(d: np.ndarray, limit: float) -> float:
    """Largest normalised radius (≤ ``limit``) up to which the radial distortion still grows with the radius.

    Beyond it the polynomial folds back (strong barrel distortion: ``k1 = -0.4`` turns at r ≈ 0.91), and
    rays from outside the lens's field of view would land inside the image.
    """
    dd = _coefficients(np.asarray(d, float).reshape(-1))
    r = np.linspace(0.0, limit, 4001)
    rd = r * _radial(r * r, dd)
    bad = ~(np.diff(rd) > 0)
    return float(r[int(np.argmax(bad))]) if bad.any() else float(limit)


def distort(xn: np.ndarray, yn: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Plumb-bob (and rational) distortion of normalised image coordinates."""
    dd = _coefficients(d)
    _, _, p1, p2 = dd[:4]
    r2 = xn * xn + yn * yn
    radial = _radial(r2, dd)
    xd = xn * radial + 2 * p1 * xn * yn + p2 * (r2 + 2 * xn * xn)
    yd = yn * radial + p1 * (r2 + 2 * yn * yn) + 2 * p2 * xn * yn
    return xd, yd


def project(
    points_lidar: np.ndarray,
    model: CameraModel,
    t_cam_lidar: np.ndarray,
    min_depth_m: float = 0.1,
    max_norm_radius: float = 2.0,
) -> Projection:
    """Project LiDAR-frame points into the raw image; keeps points in front of the camera and inside it.

    ``max_norm_radius`` bounds the normalised radius considered, and so does the radius where the radial
    distortion stops growing (:func:`monotonic_radius`): the polynomial model folds back outside the
    calibrated field of view, which would put points from outside it into the image.
    """
    check_model(model)
    pts = _xyz(points_lidar)
    pc = pts @ t_cam_lidar[:3, :3].T + t_cam_lidar[:3, 3]
    z = pc[:, 2]
    front = np.isfinite(pc).all(1) & (z > min_depth_m)
    idx = np.nonzero(front)[0]
    xn = pc[idx, 0] / z[idx]
    yn = pc[idx, 1] / z[idx]
    distorted = model.distortion_model not in ("none", "") and model.d.size > 0
    r_max = monotonic_radius(model.d, max_norm_radius) if distorted else max_norm_radius
    inside_fov = xn * xn + yn * yn <= r_max**2
    idx, xn, yn = idx[inside_fov], xn[inside_fov], yn[inside_fov]
    if distorted:
        xn, yn = distort(xn, yn, model.d)
    k = model.k
    u = k[0, 0] * xn + k[0, 1] * yn + k[0, 2]
    v = k[1, 1] * yn + k[1, 2]
    # Pixel centres at integer coordinates (OpenCV / image_geometry): pixel i covers [i - 0.5, i + 0.5).
    inimg = (u >= -0.5) & (u < model.width - 0.5) & (v >= -0.5) & (v < model.height - 0.5)
    return Projection(np.stack([u[inimg], v[inimg]], 1), idx[inimg], z[idx[inimg]])


def colorize(
    points_lidar: np.ndarray, image: np.ndarray, model: CameraModel, t_cam_lidar: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3) uint8 colours of the points (the pixel whose centre is nearest) and an (N,) mask of those that got one.

    ``image`` is (H, W, 3) rgb8 or (H, W) mono8; its size must match the calibration.
    """
    img = np.asarray(image)
    if img.dtype != np.uint8 or img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] != 3):
        raise ImageInputError(
            f"colorize needs an rgb8 (H, W, 3) or mono8 (H, W) uint8 image, got {img.dtype} {img.shape}"
        )
    check_model(model, img.shape)
    n = _xyz(points_lidar).shape[0]
    proj = project(points_lidar, model, t_cam_lidar)
    colors = np.zeros((n, 3), np.uint8)
    mask = np.zeros(n, bool)
    ui = np.clip(np.floor(proj.uv[:, 0] + 0.5).astype(np.int64), 0, model.width - 1)
    vi = np.clip(np.floor(proj.uv[:, 1] + 0.5).astype(np.int64), 0, model.height - 1)
    pix = img[vi, ui]
    colors[proj.index] = pix if img.ndim == 3 else np.repeat(pix[:, None], 3, axis=1)
    mask[proj.index] = True
    return colors, mask


def locate_detections(
    detections: list[Detection2D],
    points_lidar: np.ndarray,
    model: CameraModel,
    t_cam_lidar: np.ndarray,
    depth_bin_m: float = 0.5,
    min_points: int = 3,
) -> list[Detection3D]:
    """3-D positions (LiDAR frame) of 2-D detections from the points projecting inside their boxes."""
    pts = _xyz(points_lidar)
    proj = project(pts, model, t_cam_lidar)
    out: list[Detection3D] = []
    for det in detections:
        u0, v0, u1, v1 = det.box_px
        if not (np.all(np.isfinite(det.box_px)) and u1 > u0 and v1 > v0):
            out.append(Detection3D(det, np.full(3, np.nan), 0))
            continue
        inside = (proj.uv[:, 0] >= u0) & (proj.uv[:, 0] <= u1) & (proj.uv[:, 1] >= v0) & (proj.uv[:, 1] <= v1)
        depth = proj.depth_m[inside]
        if depth.size < min_points:
            out.append(Detection3D(det, np.full(3, np.nan), int(depth.size)))
            continue
        bins = np.floor((depth - depth.min()) / depth_bin_m).astype(np.int64)
        counts = np.bincount(bins)
        # Nearest bin holding a substantial share: the object, not the ground or background behind it.
        need = max(min_points, int(0.2 * counts.max()))
        first = int(np.nonzero(counts >= need)[0][0])
        sel = (bins >= first) & (bins <= first + 1)
        chosen = proj.index[inside][sel]
        out.append(Detection3D(det, np.median(pts[chosen], axis=0), int(chosen.size)))
    return out
