"""GeoJSON and KML boundaries from real field parcels, and the broken ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanqin.uav_bridge.boundaries import boundaries_to_geojson, geojson_boundaries, read_boundaries, read_geojson
from sanqin.uav_bridge.errors import PlanFileError

FIELDS = Path("/work/shared/data/fields")
pytestmark = pytest.mark.skipif(not FIELDS.is_dir(), reason="shared field data not present")


def test_real_parcels_with_holes() -> None:
    fields = read_geojson(FIELDS / "dk_marker_2026_100fields.geojson")
    assert len(fields) == 100
    with_holes = [f for f in fields if any(not p.inclusion for p in f)]
    assert len(with_holes) == 8
    assert all(f[0].inclusion and len(f[0].vertices) >= 3 for f in fields)
    back = geojson_boundaries(boundaries_to_geojson(fields))
    assert back == fields


def test_fields2cover_parcels_and_unclosed_ring() -> None:
    assert len(read_boundaries(FIELDS / "fields2cover" / "test.json")) == 1
    with pytest.raises(PlanFileError, match="not closed"):
        read_geojson(FIELDS / "fields2cover" / "strips.geojson")


def test_kml_polygons_and_hostile_kml(tmp_path) -> None:
    kml = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><Polygon>
<outerBoundaryIs><LinearRing><coordinates>5.0,52.0,0 5.01,52.0,0 5.01,52.01,0 5.0,52.01,0 5.0,52.0,0</coordinates>
</LinearRing></outerBoundaryIs>
<innerBoundaryIs><LinearRing><coordinates>5.004,52.004 5.006,52.004 5.006,52.006 5.004,52.004</coordinates>
</LinearRing></innerBoundaryIs></Polygon></Placemark></Document></kml>"""
    (tmp_path / "f.kml").write_text(kml)
    (polys,) = read_boundaries(tmp_path / "f.kml")
    assert [p.inclusion for p in polys] == [True, False] and polys[0].vertices[1] == (52.0, 5.01)
    (tmp_path / "bomb.kml").write_text('<!DOCTYPE kml [<!ENTITY a "aaaa">]><kml>&a;</kml>')
    with pytest.raises(PlanFileError, match="DOCTYPE"):
        read_boundaries(tmp_path / "bomb.kml")
    (tmp_path / "bow.kml").write_text(kml.replace("5.01,52.0,0 5.01,52.01,0", "5.01,52.01,0 5.01,52.0,0"))
    with pytest.raises(PlanFileError, match="invalid polygon"):
        read_boundaries(tmp_path / "bow.kml")
    with pytest.raises(PlanFileError, match="unknown boundary format"):
        read_boundaries(tmp_path / "f.shp")
