"""2-D image detections and their 3-D positions as the camera–LiDAR fusion node exchanges them (ROS-free).

On the wire a detection list is a ``sensor_msgs/PointCloud2`` "table" (one point per detection, float32
fields ``x_min y_min x_max y_max class_id score``; see :mod:`sanqin.msgs.detections`) stamped with the
image it was detected in, because ``vision_msgs`` is not part of the standard message set we depend on.
Boxes are in image pixels of the raw image, pixel centres at integer coordinates (OpenCV convention).
Located detections add ``x y z`` (m, in the LiDAR frame) and ``n_points`` (the LiDAR points that placed
the detection; 0 with NaN ``x y z`` when none did).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Field order of the PointCloud2 detection table.
DETECTION_FIELDS = ("x_min", "y_min", "x_max", "y_max", "class_id", "score")
#: Field order of the PointCloud2 located-detection table.
LOCATED_FIELDS = (*DETECTION_FIELDS, "x", "y", "z", "n_points")


def _column(values: object, n: int, dtype: type, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=dtype).reshape(-1)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have {n} entries (one per box), got {arr.shape}")
    return arr


@dataclass(frozen=True)
class Detections2D:
    """Pixel boxes (N, 4) ``u_min v_min u_max v_max`` with integer class ids and scores, of one image."""

    boxes_px: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    class_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0))
    stamp_s: float = 0.0
    frame_id: str = "camera"

    def __post_init__(self) -> None:
        boxes = np.asarray(self.boxes_px, dtype=np.float64)
        if boxes.size == 0:
            boxes = boxes.reshape(0, 4)
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValueError(f"boxes_px must have shape (N, 4), got {boxes.shape}")
        n = boxes.shape[0]
        object.__setattr__(self, "boxes_px", boxes)
        object.__setattr__(self, "class_ids", _column(self.class_ids, n, np.int64, "class_ids"))
        object.__setattr__(self, "scores", _column(self.scores, n, np.float64, "scores"))

    def __len__(self) -> int:
        return int(self.boxes_px.shape[0])

    def as_array(self) -> np.ndarray:
        """(N, 6) float64 table in :data:`DETECTION_FIELDS` order."""
        return np.column_stack([self.boxes_px, self.class_ids.astype(np.float64), self.scores]).reshape(-1, 6)

    def usable_boxes(self, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """Boxes clipped to a ``width``×``height`` image and a mask of the usable ones.

        A box is unusable when a coordinate is not finite, it is empty or inverted (``max <= min``), or it
        lies wholly outside the image; a box reaching past the border is clipped to it (pixel i covers
        [i - 0.5, i + 0.5)).
        """
        b = self.boxes_px
        finite = np.isfinite(b).all(axis=1)
        with np.errstate(invalid="ignore"):
            ordered = (b[:, 2] > b[:, 0]) & (b[:, 3] > b[:, 1])
            clipped = np.column_stack([
                np.clip(b[:, 0], -0.5, width - 0.5),
                np.clip(b[:, 1], -0.5, height - 0.5),
                np.clip(b[:, 2], -0.5, width - 0.5),
                np.clip(b[:, 3], -0.5, height - 0.5),
            ]).reshape(-1, 4)
            overlaps = (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
        return clipped, finite & ordered & overlaps


@dataclass(frozen=True)
class LocatedDetections:
    """Detections with 3-D positions (N, 3) m in ``frame_id`` (NaN rows where no point placed one)."""

    detections: Detections2D
    positions_m: np.ndarray
    n_points: np.ndarray
    stamp_s: float = 0.0
    frame_id: str = "lidar"

    def __post_init__(self) -> None:
        n = len(self.detections)
        pos = np.asarray(self.positions_m, dtype=np.float64).reshape(-1, 3) if n else np.zeros((0, 3))
        if pos.shape != (n, 3):
            raise ValueError(f"positions_m must have shape ({n}, 3), got {pos.shape}")
        object.__setattr__(self, "positions_m", pos)
        object.__setattr__(self, "n_points", _column(self.n_points, n, np.int64, "n_points"))

    @property
    def located(self) -> np.ndarray:
        """Mask of the detections that got a position."""
        return np.isfinite(self.positions_m).all(axis=1)

    def as_array(self) -> np.ndarray:
        """(N, 10) float64 table in :data:`LOCATED_FIELDS` order."""
        return np.column_stack(
            [self.detections.as_array(), self.positions_m, self.n_points.astype(np.float64)]
        ).reshape(-1, len(LOCATED_FIELDS))
