"""Field boundaries from GeoJSON, KML, GML and QGroundControl ``.plan`` files, in a local ENU frame.

A file gives one field: an outer ring with optional holes (WGS84 lon/lat in GeoJSON/KML/GML, lat/lon in
``.plan``) plus optional no-spray zones (GeoJSON features whose ``properties`` carry ``"no_spray": true``
or ``"role": "no_spray"``/``"exclusion"``; KML placemarks named ``no-spray…``/``exclusion…``; exclusion
geofence polygons in a ``.plan``). Coordinates are projected with pyproj to a local azimuthal
equidistant frame centred on the field (x east, y north, metres) — distortion below 1e-6 over a few km.

Every reader validates: finite numbers, latitude/longitude in range, closed rings (GeoJSON requires
it), at least three distinct vertices, a valid (non self-intersecting) polygon with positive area.
Anything else raises :class:`~sanqin.planning.errors.BoundaryError` naming the file and the problem.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import CRS, Transformer
from shapely import validation
from shapely.geometry import Polygon

from sanqin.planning.errors import BoundaryError

LonLat = Sequence[tuple[float, float]]


class LocalFrame:
    """WGS84 ↔ local ENU (azimuthal equidistant about ``origin``), metres."""

    def __init__(self, lat0_deg: float, lon0_deg: float) -> None:
        if not (math.isfinite(lat0_deg) and math.isfinite(lon0_deg) and abs(lat0_deg) <= 90 and abs(lon0_deg) <= 180):
            raise BoundaryError(f"invalid frame origin {lat0_deg}, {lon0_deg}")
        self.lat0_deg, self.lon0_deg = float(lat0_deg), float(lon0_deg)
        crs = CRS.from_proj4(f"+proj=aeqd +lat_0={lat0_deg} +lon_0={lon0_deg} +x_0=0 +y_0=0 +datum=WGS84 +units=m")
        self._fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        self._inv = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

    def to_local(self, lon_deg: np.ndarray, lat_deg: np.ndarray) -> np.ndarray:
        """(n, 2) east/north metres from longitude/latitude arrays."""
        x, y = self._fwd.transform(np.asarray(lon_deg, float), np.asarray(lat_deg, float))
        return np.column_stack([np.atleast_1d(x), np.atleast_1d(y)])

    def to_geo(self, xy_m: np.ndarray) -> np.ndarray:
        """(n, 2) latitude/longitude degrees from local east/north metres."""
        xy = np.atleast_2d(np.asarray(xy_m, float))
        lon, lat = self._inv.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([np.atleast_1d(lat), np.atleast_1d(lon)])


@dataclass(frozen=True)
class Field:
    """A field in local ENU metres: boundary (with holes), no-spray zones, and its geographic frame."""

    boundary: Polygon
    no_spray: tuple[Polygon, ...] = ()
    frame: LocalFrame | None = None
    name: str = ""
    properties: dict = field(default_factory=dict)

    @property
    def area_m2(self) -> float:
        """Area of the boundary (holes excluded), m²."""
        return float(self.boundary.area)


def _check_ring(coords: Any, where: str, closed_required: bool) -> list[tuple[float, float]]:
    try:
        pts = [(float(c[0]), float(c[1])) for c in coords]
    except (TypeError, ValueError, IndexError) as err:
        raise BoundaryError(f"{where}: coordinates are not number pairs") from err
    if not pts:
        raise BoundaryError(f"{where}: empty ring")
    for lon, lat in pts:
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise BoundaryError(f"{where}: non-finite coordinate ({lon}, {lat})")
        if abs(lat) > 90 or abs(lon) > 180:
            raise BoundaryError(f"{where}: coordinate out of range (lon {lon}, lat {lat}); expected WGS84 degrees")
    if closed_required and pts[0] != pts[-1]:
        raise BoundaryError(f"{where}: ring is not closed (first and last positions differ)")
    if pts[0] == pts[-1]:
        pts = pts[:-1]
    if len(set(pts)) < 3:
        raise BoundaryError(f"{where}: a ring needs at least three distinct vertices, got {len(set(pts))}")
    return pts


def _polygon_local(outer: LonLat, holes: Sequence[LonLat], frame: LocalFrame, where: str) -> Polygon:
    def proj(ring: LonLat) -> np.ndarray:
        a = np.asarray(ring, float)
        return frame.to_local(a[:, 0], a[:, 1])

    poly = Polygon(proj(outer), [proj(h) for h in holes])
    return validate_polygon(poly, where)


def validate_polygon(poly: Polygon, where: str = "polygon") -> Polygon:
    """Return ``poly`` if it is a valid polygon with positive area; else raise :class:`BoundaryError`."""
    if poly.is_empty or not np.all(np.isfinite(np.asarray(poly.exterior.coords))):
        raise BoundaryError(f"{where}: empty or non-finite polygon")
    if not poly.is_valid:
        raise BoundaryError(f"{where}: invalid polygon ({validation.explain_validity(poly)})")
    # degenerate: collinear vertices (after projection a "line" of constant latitude curves slightly)
    if poly.area <= max(1e-6, 1e-5 * poly.length**2):
        raise BoundaryError(f"{where}: polygon has zero area ({poly.area:.3g} m² for a {poly.length:.1f} m outline)")
    return poly


def _frame_for(rings: Sequence[LonLat]) -> LocalFrame:
    a = np.vstack([np.asarray(r, float) for r in rings])
    return LocalFrame(float(np.mean(a[:, 1])), float(np.mean(a[:, 0])))


def _make_field(outer: LonLat, holes: Sequence[LonLat], where: str, name: str = "",
                properties: dict | None = None) -> Field:
    frame = _frame_for([outer])
    return Field(_polygon_local(outer, holes, frame, where), (), frame, name, dict(properties or {}))


def _is_no_spray(props: dict) -> bool:
    role = str(props.get("role", "")).lower().replace("-", "_")
    return bool(props.get("no_spray")) or role in ("no_spray", "exclusion", "obstacle")


def _geojson_polygons(geom: Any, where: str) -> list[tuple[list, list]]:
    if not isinstance(geom, dict) or "type" not in geom:
        raise BoundaryError(f"{where}: not a GeoJSON geometry")
    kind, coords = geom["type"], geom.get("coordinates")
    if kind == "Polygon":
        groups = [coords]
    elif kind == "MultiPolygon":
        groups = coords
    else:
        raise BoundaryError(f"{where}: expected a Polygon or MultiPolygon, got {kind}")
    out = []
    for gi, rings in enumerate(groups or []):
        if not rings:
            raise BoundaryError(f"{where}: polygon {gi} has no rings")
        outer = _check_ring(rings[0], f"{where}: polygon {gi} outer ring", True)
        holes = [_check_ring(r, f"{where}: polygon {gi} hole {hi}", True) for hi, r in enumerate(rings[1:])]
        out.append((outer, holes))
    return out


def fields_from_geojson(doc: Any, where: str = "geojson") -> list[Field]:
    """Every field of a GeoJSON document; no-spray features apply to the fields they intersect."""
    if not isinstance(doc, dict):
        raise BoundaryError(f"{where}: top level must be a JSON object")
    if doc.get("type") == "FeatureCollection":
        feats = doc.get("features")
        if not isinstance(feats, list):
            raise BoundaryError(f"{where}: FeatureCollection without a features list")
    elif doc.get("type") == "Feature":
        feats = [doc]
    else:
        feats = [{"type": "Feature", "properties": {}, "geometry": doc}]
    parcels, zones = [], []
    for i, f in enumerate(feats):
        props = (f or {}).get("properties") or {}
        polys = _geojson_polygons((f or {}).get("geometry"), f"{where}: feature {i}")
        (zones if _is_no_spray(props) else parcels).extend((p, props, i) for p in polys)
    if not parcels:
        raise BoundaryError(f"{where}: no field polygon found")
    fields = []
    for (outer, holes), props, i in parcels:
        fld = _make_field(outer, holes, f"{where}: feature {i}", str(props.get("id", props.get("Name", i))), props)
        mine = [z for z in zones if _local_poly(fld, z[0]).intersects(fld.boundary)]
        if mine:
            fld = Field(fld.boundary, tuple(_local_poly(fld, z[0]) for z in mine), fld.frame, fld.name, fld.properties)
        fields.append(fld)
    return fields


def _local_poly(fld: Field, rings: tuple[list, list]) -> Polygon:
    outer, holes = rings
    return _polygon_local(outer, holes, fld.frame, "no-spray zone")


_KML_NS = "{http://www.opengis.net/kml/2.2}"


def _kml_ring(elem: ET.Element | None, where: str) -> list[tuple[float, float]]:
    if elem is None or elem.text is None:
        raise BoundaryError(f"{where}: missing coordinates")
    pts = []
    for tok in elem.text.split():
        parts = tok.split(",")
        if len(parts) < 2:
            raise BoundaryError(f"{where}: bad coordinate tuple {tok!r}")
        pts.append((parts[0], parts[1]))
    return _check_ring(pts, where, False)


def _parse_xml(text: str, where: str) -> ET.Element:
    # entity expansion (billion laughs) needs a DTD: refuse any, then the stdlib parser is safe
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise BoundaryError(f"{where}: DOCTYPE/ENTITY declarations are not accepted")
    try:
        return ET.fromstring(text)  # noqa: S314 - no DTD or entities (checked above)
    except ET.ParseError as err:
        raise BoundaryError(f"{where}: not valid XML: {err}") from err


def fields_from_kml(text: str, where: str = "kml") -> list[Field]:
    """Fields from KML Placemark polygons; placemarks named ``no-spray…``/``exclusion…`` are zones."""
    root = _parse_xml(text, where)
    ns = _KML_NS if root.tag.startswith(_KML_NS) else ""
    parcels, zones = [], []
    for pi, pm in enumerate(root.iter(f"{ns}Placemark")):
        name = (pm.findtext(f"{ns}name") or "").strip()
        for gi, poly in enumerate(pm.iter(f"{ns}Polygon")):
            w = f"{where}: placemark {pi} polygon {gi}"
            outer = _kml_ring(poly.find(f"{ns}outerBoundaryIs/{ns}LinearRing/{ns}coordinates"), w)
            holes = [_kml_ring(h.find(f"{ns}LinearRing/{ns}coordinates"), f"{w} hole {hi}")
                     for hi, h in enumerate(poly.findall(f"{ns}innerBoundaryIs"))]
            low = name.lower()
            (zones if low.startswith(("no-spray", "no_spray", "nospray", "exclusion")) else parcels).append(
                (outer, holes, name))
    if not parcels:
        raise BoundaryError(f"{where}: no Placemark Polygon found")
    out = []
    for outer, holes, name in parcels:
        fld = _make_field(outer, holes, f"{where}: {name or 'polygon'}", name)
        mine = tuple(z for z in (_local_poly(fld, (o, h)) for o, h, _ in zones) if z.intersects(fld.boundary))
        out.append(Field(fld.boundary, mine, fld.frame, name))
    return out


def fields_from_gml(text: str, where: str = "gml") -> list[Field]:
    """Fields from GML ``Polygon`` elements with ``coordinates`` (lon,lat pairs, EPSG:4326/4258)."""
    root = _parse_xml(text, where)
    gml = "{http://www.opengis.net/gml}"
    out = []
    for pi, poly in enumerate(root.iter(f"{gml}Polygon")):
        w = f"{where}: polygon {pi}"
        outer = _kml_ring(poly.find(f"{gml}outerBoundaryIs/{gml}LinearRing/{gml}coordinates"), w)
        holes = [_kml_ring(h.find(f"{gml}LinearRing/{gml}coordinates"), f"{w} hole {hi}")
                 for hi, h in enumerate(poly.findall(f"{gml}innerBoundaryIs"))]
        out.append(_make_field(outer, holes, w, f"polygon {pi}"))
    if not out:
        raise BoundaryError(f"{where}: no gml:Polygon found")
    return out


def fields_from_qgc_plan(doc: Any, where: str = "plan") -> list[Field]:
    """The field of a QGC plan: each survey item's polygon, else the inclusion geofence polygons.

    Exclusion geofence polygons become no-spray zones. ``.plan`` stores ``[lat, lon]`` pairs.
    """
    if not isinstance(doc, dict) or doc.get("fileType") != "Plan":
        raise BoundaryError(f"{where}: not a QGroundControl plan (fileType != 'Plan')")

    def lonlat(pairs: Any, w: str) -> list[tuple[float, float]]:
        if not isinstance(pairs, list):
            raise BoundaryError(f"{w}: polygon must be a list of [lat, lon]")
        try:
            return _check_ring([(p[1], p[0]) for p in pairs], w, False)
        except (TypeError, IndexError) as err:
            raise BoundaryError(f"{w}: polygon must be a list of [lat, lon]") from err

    outers: list[list[tuple[float, float]]] = []
    for i, item in enumerate((doc.get("mission") or {}).get("items") or []):
        if isinstance(item, dict) and item.get("type") == "ComplexItem" and "polygon" in item:
            outers.append(lonlat(item["polygon"], f"{where}: mission item {i} polygon"))
    fence = (doc.get("geoFence") or {}).get("polygons") or []
    zones = []
    survey = bool(outers)
    for i, fp in enumerate(fence):
        if not isinstance(fp, dict):
            raise BoundaryError(f"{where}: geofence polygon {i} is not an object")
        ring = lonlat(fp.get("polygon"), f"{where}: geofence polygon {i}")
        if fp.get("inclusion", True) is False:  # QGC's default is an inclusion fence
            zones.append(ring)
        elif not survey:
            outers.append(ring)
        # an inclusion fence beside a survey polygon is the flight limit round it, not a field to spray
    if not outers:
        raise BoundaryError(f"{where}: no survey polygon or inclusion geofence polygon")
    out = []
    for i, outer in enumerate(outers):
        fld = _make_field(outer, [], f"{where}: polygon {i}", f"plan polygon {i}")
        mine = tuple(z for z in (_local_poly(fld, (r, [])) for r in zones) if z.intersects(fld.boundary))
        out.append(Field(fld.boundary, mine, fld.frame, fld.name))
    return out


def read_fields(path: str | Path) -> list[Field]:
    """All fields in a boundary file (format from the suffix: .geojson/.json, .kml, .gml/.xml, .plan)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise BoundaryError(f"{path}: cannot read: {err}") from err
    suffix = path.suffix.lower()
    if suffix in (".kml",):
        return fields_from_kml(text, str(path))
    if suffix in (".gml", ".xml"):
        return fields_from_gml(text, str(path))
    try:
        doc = json.loads(text)
    except ValueError as err:
        raise BoundaryError(f"{path}: not valid JSON: {err}") from err
    if suffix == ".plan" or (isinstance(doc, dict) and doc.get("fileType") == "Plan"):
        return fields_from_qgc_plan(doc, str(path))
    return fields_from_geojson(doc, str(path))


def read_field(path: str | Path, index: int = 0) -> Field:
    """One field of a boundary file (``index`` among its fields)."""
    fields = read_fields(path)
    if not 0 <= index < len(fields):
        raise BoundaryError(f"{path}: field index {index} out of range (file has {len(fields)})")
    return fields[index]


def field_from_local(boundary: Sequence[tuple[float, float]], holes: Sequence[Sequence[tuple[float, float]]] = (),
                     no_spray: Sequence[Sequence[tuple[float, float]]] = (), origin_lat_lon_deg: tuple[float, float]
                     | None = None, name: str = "") -> Field:
    """A field from local ENU metre coordinates (tests, simulators); optional geographic origin."""
    poly = validate_polygon(Polygon(boundary, holes), f"field {name or 'local'}")
    zones = tuple(validate_polygon(Polygon(z), f"no-spray zone {i}") for i, z in enumerate(no_spray))
    frame = LocalFrame(*origin_lat_lon_deg) if origin_lat_lon_deg is not None else None
    return Field(poly, zones, frame, name)
