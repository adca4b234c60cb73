"""WGS84 ↔ local ENU (metres) about a reference point, and MAVLink's int-scaled degrees.

A local tangent plane with the WGS84 meridional and prime-vertical radii at the reference latitude:
errors stay below ~1 cm per km over the few kilometres a field or a power-line span covers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WGS84_A_M = 6378137.0
WGS84_E2 = 6.69437999014e-3
DEG_E7 = 1e7


@dataclass(frozen=True)
class GeoOrigin:
    """Reference point of a local ENU frame: WGS84 latitude/longitude (deg) and altitude (m)."""

    latitude_deg: float
    longitude_deg: float
    altitude_m: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.latitude_deg) and math.isfinite(self.longitude_deg)):
            raise ValueError(f"origin must be finite, got {self.latitude_deg}, {self.longitude_deg}")
        if abs(self.latitude_deg) >= 89.9:
            raise ValueError("a local tangent plane is not defined this close to a pole")

    @property
    def radii_m(self) -> tuple[float, float]:
        """(metres per radian of latitude, metres per radian of longitude) at the origin."""
        s = math.sin(math.radians(self.latitude_deg))
        d = 1.0 - WGS84_E2 * s * s
        m = WGS84_A_M * (1.0 - WGS84_E2) / d**1.5
        n = WGS84_A_M / math.sqrt(d)
        return m, n * math.cos(math.radians(self.latitude_deg))

    def to_enu(self, latitude_deg: float, longitude_deg: float, altitude_m: float = 0.0) -> tuple[float, float, float]:
        """WGS84 → (east, north, up) metres from the origin."""
        m, n = self.radii_m
        dlon = (longitude_deg - self.longitude_deg + 540.0) % 360.0 - 180.0
        return (math.radians(dlon) * n, math.radians(latitude_deg - self.latitude_deg) * m,
                altitude_m - self.altitude_m)

    def to_geodetic(self, east_m: float, north_m: float, up_m: float = 0.0) -> tuple[float, float, float]:
        """(east, north, up) metres → WGS84 latitude, longitude (deg), altitude (m)."""
        m, n = self.radii_m
        lon = self.longitude_deg + math.degrees(east_m / n)
        lon = (lon + 540.0) % 360.0 - 180.0
        return self.latitude_deg + math.degrees(north_m / m), lon, self.altitude_m + up_m


def deg_to_e7(value_deg: float) -> int:
    """Degrees → MAVLink int32 degE7 (rounded)."""
    return int(round(value_deg * DEG_E7))


def e7_to_deg(value_e7: int) -> float:
    """MAVLink int32 degE7 → degrees."""
    return float(value_e7) / DEG_E7


def distance_m(lat1_deg: float, lon1_deg: float, lat2_deg: float, lon2_deg: float) -> float:
    """Great-circle distance (m) on a sphere of the WGS84 mean radius."""
    r = 6371008.8
    p1, p2 = math.radians(lat1_deg), math.radians(lat2_deg)
    dp, dl = p2 - p1, math.radians(lon2_deg - lon1_deg)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(a)))
