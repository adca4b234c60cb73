"""Mission items shared by the planners (which produce them) and the UAV bridge (which uploads them).

Fields follow MAVLink's MISSION_ITEM_INT but in SI/degrees: ``latitude_deg``/``longitude_deg`` WGS84,
``altitude_m`` in the item's frame (MAV_FRAME; 3 = GLOBAL_RELATIVE_ALT is the default), ``command`` a
MAV_CMD number, ``params`` its param1..param4. Conversion to int-scaled MAVLink happens only in
:mod:`sanqin.uav_bridge`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAV_FRAME_GLOBAL_RELATIVE_ALT = 3
MAV_FRAME_MISSION = 2
MAV_CMD_NAV_WAYPOINT = 16


@dataclass(frozen=True)
class MissionItem:
    """One mission item (a MAVLink MISSION_ITEM_INT in degrees and metres)."""

    command: int = MAV_CMD_NAV_WAYPOINT
    latitude_deg: float = 0.0
    longitude_deg: float = 0.0
    altitude_m: float = 0.0
    params: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    frame: int = MAV_FRAME_GLOBAL_RELATIVE_ALT
    autocontinue: bool = True

    def is_finite(self) -> bool:
        """True when the position holds no NaN/inf (params are not checked: NaN is MAVLink's 'unused')."""
        return all(math.isfinite(v) for v in (self.latitude_deg, self.longitude_deg, self.altitude_m))
