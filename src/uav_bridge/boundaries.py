"""Field and corridor boundaries from GeoJSON and KML → geofence polygons (outer ring: inclusion, holes:
exclusion), and back to GeoJSON.

GeoJSON positions are ``[lon, lat(, alt)]`` (RFC 7946); KML ``<coordinates>`` are ``lon,lat[,alt]`` tuples.
Rings must be closed (first = last position, as both formats require), have at least three distinct
vertices and be valid (non-self-intersecting) polygons; anything else raises :class:`PlanFileError`.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from shapely.geometry import Polygon

from sanqin.uav_bridge.errors import PlanFileError
from sanqin.uav_bridge.geo import GeoOrigin
from sanqin.uav_bridge.mission_items import FencePolygon

KML_NS = "{http://www.opengis.net/kml/2.2}"


def _ring(coords: Any, where: str) -> tuple[tuple[float, float], ...]:
    """A closed [lon, lat] ring → (lat, lon) vertices without the repeated closing vertex."""
    if not isinstance(coords, (list, tuple)) or len(coords) < 4:
        raise PlanFileError(f"{where}: a ring needs at least 4 positions (closed), got {coords!r:.80}")
    pts = []
    for k, c in enumerate(coords):
        if not isinstance(c, (list, tuple)) or len(c) < 2:
            raise PlanFileError(f"{where}: position {k} is not [lon, lat]")
        lon, lat = float(c[0]), float(c[1])
        if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
            raise PlanFileError(f"{where}: position {k} ({lon}, {lat}) is not a WGS84 lon/lat")
        pts.append((lat, lon))
    if pts[0] != pts[-1]:
        raise PlanFileError(f"{where}: ring is not closed (first {pts[0]} != last {pts[-1]})")
    verts = tuple(pts[:-1])
    if len(set(verts)) < 3:
        raise PlanFileError(f"{where}: ring has fewer than 3 distinct vertices")
    return verts


def _check_valid(outer: tuple[tuple[float, float], ...], holes: list[tuple[tuple[float, float], ...]],
                 where: str) -> None:
    origin = GeoOrigin(outer[0][0], outer[0][1])
    poly = Polygon([origin.to_enu(*v)[:2] for v in outer], [[origin.to_enu(*v)[:2] for v in h] for h in holes])
    if not poly.is_valid or poly.area <= 0:
        from shapely.validation import explain_validity

        raise PlanFileError(f"{where}: invalid polygon ({explain_validity(poly)})")


def _polygon(rings: Any, where: str) -> list[FencePolygon]:
    if not isinstance(rings, list) or not rings:
        raise PlanFileError(f"{where}: a Polygon needs at least its outer ring")
    outer = _ring(rings[0], f"{where}: outer ring")
    holes = [_ring(r, f"{where}: hole {i}") for i, r in enumerate(rings[1:])]
    _check_valid(outer, holes, where)
    return [FencePolygon(outer, True)] + [FencePolygon(h, False) for h in holes]


def _geometry(geom: Any, where: str) -> list[FencePolygon]:
    if not isinstance(geom, dict):
        raise PlanFileError(f"{where}: geometry must be an object")
    kind = geom.get("type")
    if kind == "Polygon":
        return _polygon(geom.get("coordinates"), where)
    if kind == "MultiPolygon":
        out = []
        for i, rings in enumerate(geom.get("coordinates") or []):
            out += _polygon(rings, f"{where}[{i}]")
        return out
    if kind == "GeometryCollection":
        out = []
        for i, g in enumerate(geom.get("geometries") or []):
            out += _geometry(g, f"{where}.geometries[{i}]")
        return out
    raise PlanFileError(f"{where}: geometry type {kind!r} is not a polygon")


def geojson_boundaries(doc: Any, where: str = "geojson") -> list[list[FencePolygon]]:
    """One list of fence polygons per feature (outer inclusion + hole exclusions)."""
    if not isinstance(doc, dict):
        raise PlanFileError(f"{where}: top level must be an object")
    kind = doc.get("type")
    if kind == "FeatureCollection":
        feats = doc.get("features")
        if not isinstance(feats, list) or not feats:
            raise PlanFileError(f"{where}: FeatureCollection has no features")
        return [_geometry(f.get("geometry") if isinstance(f, dict) else None, f"{where}: features[{i}]")
                for i, f in enumerate(feats)]
    if kind == "Feature":
        return [_geometry(doc.get("geometry"), where)]
    return [_geometry(doc, where)]


def read_geojson(path: str | Path) -> list[list[FencePolygon]]:
    """Boundaries from a GeoJSON file (one entry per feature)."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except OSError as err:
        raise PlanFileError(f"{p}: cannot read: {err.strerror or err}") from err
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise PlanFileError(f"{p}: not valid JSON: {err}") from err
    return geojson_boundaries(doc, str(p))


def _kml_coords(text: str | None, where: str) -> list[list[float]]:
    out = []
    for tok in (text or "").split():
        parts = tok.split(",")
        try:
            out.append([float(v) for v in parts[:2]])
        except ValueError as err:
            raise PlanFileError(f"{where}: bad coordinate {tok!r}") from err
    return out


def read_kml(path: str | Path) -> list[list[FencePolygon]]:
    """Boundaries from a KML file: every ``<Polygon>`` (outer boundary inclusion, inner ones exclusion)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise PlanFileError(f"{p}: cannot read: {err}") from err
    if "<!ENTITY" in text or "<!DOCTYPE" in text:
        raise PlanFileError(f"{p}: DOCTYPE/ENTITY declarations are not accepted in KML")
    try:
        root = ET.fromstring(text)  # noqa: S314 - no DTD or entities (checked above)
    except ET.ParseError as err:
        raise PlanFileError(f"{p}: not valid XML: {err}") from err
    ns = KML_NS if root.tag.startswith(KML_NS) else ""
    out = []
    for i, poly in enumerate(root.iter(f"{ns}Polygon")):
        where = f"{p}: Polygon {i}"
        outer = poly.find(f"{ns}outerBoundaryIs/{ns}LinearRing/{ns}coordinates")
        if outer is None:
            raise PlanFileError(f"{where}: no outerBoundaryIs/LinearRing/coordinates")
        rings = [_kml_coords(outer.text, where)]
        inner = poly.findall(f"{ns}innerBoundaryIs/{ns}LinearRing/{ns}coordinates")
        rings += [_kml_coords(c.text, where) for c in inner]
        out.append(_polygon(rings, where))
    if not out:
        raise PlanFileError(f"{p}: no Polygon in the KML")
    return out


def read_boundaries(path: str | Path) -> list[list[FencePolygon]]:
    """GeoJSON (.geojson/.json) or KML (.kml) boundaries by file extension."""
    suffix = Path(path).suffix.lower()
    if suffix == ".kml":
        return read_kml(path)
    if suffix in (".geojson", ".json"):
        return read_geojson(path)
    raise PlanFileError(f"{path}: unknown boundary format {suffix!r}; use .geojson, .json or .kml")


def boundaries_to_geojson(boundaries: list[list[FencePolygon]]) -> dict[str, Any]:
    """Boundaries back to a GeoJSON FeatureCollection (exclusions become holes of the preceding outer ring)."""
    feats = []
    for polys in boundaries:
        rings: list[list[list[float]]] = []
        for fp in polys:
            ring = [[lon, lat] for lat, lon in fp.vertices]
            rings.append(ring + [ring[0]])
        feats.append({"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": rings}})
    return {"type": "FeatureCollection", "features": feats}
