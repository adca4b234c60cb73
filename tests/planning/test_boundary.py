"""Boundary files: real parcels load in a local metric frame; broken inputs raise BoundaryError."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sanqin.planning import boundary as b
from sanqin.planning.errors import BoundaryError

DATA = Path("/work/shared/data")
needs_data = pytest.mark.skipif(not DATA.exists(), reason="shared real data not available")


@needs_data
def test_real_parcels_load_with_their_surveyed_area_and_holes() -> None:
    nl = b.read_fields(DATA / "fields/nl_brp_2023_53fields.geojson")
    assert len(nl) == 53
    for f in nl:
        ref = f.properties["area_m2_source_crs"]  # area in the national grid (RD New)
        assert f.area_m2 == pytest.approx(ref, rel=2e-3, abs=1.0)
        assert len(f.boundary.interiors) == f.properties["n_holes"]
    dk = b.read_fields(DATA / "fields/dk_marker_2026_100fields.geojson")
    assert sum(len(f.boundary.interiors) > 0 for f in dk) == 8


@needs_data
def test_gml_and_qgc_plan_boundaries() -> None:
    env = b.read_field(DATA / "fields/fields2cover/Envelope.xml")
    assert env.area_m2 == pytest.approx(172581, rel=0.01)  # the parcel's stated 17.2581 ha
    plan = b.read_field(DATA / "qgc_plans/qgroundcontrol_sample_with_survey.plan")
    assert plan.area_m2 > 1000 and plan.frame is not None


@needs_data
def test_unclosed_ring_and_plan_without_polygon_are_rejected() -> None:
    with pytest.raises(BoundaryError, match="not closed"):
        b.read_fields(DATA / "fields/fields2cover/strips.geojson")
    with pytest.raises(BoundaryError, match="no survey polygon"):
        b.read_fields(DATA / "qgc_plans/qgroundcontrol_sample.plan")


def _write(tmp_path, name, doc):
    p = tmp_path / name
    p.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return p


SQUARE = [[5.0, 52.0], [5.001, 52.0], [5.001, 52.001], [5.0, 52.001], [5.0, 52.0]]


@pytest.mark.parametrize(
    "ring, match",
    [
        ([[5.0, 52.0], [5.001, 52.0], [5.0, 52.0]], "three distinct"),
        ([[5.0, 52.0], [5.001, 52.001], [5.001, 52.0], [5.0, 52.001], [5.0, 52.0]], "invalid polygon"),
        ([[5.0, 52.0], [500.0, 52.0], [5.0, 52.001], [5.0, 52.0]], "out of range"),
        ([[5.0, 52.0], ["x", 52.0], [5.0, 52.001], [5.0, 52.0]], "number pairs"),
        ([[5.0, 52.0], [float("nan"), 52.0], [5.0, 52.001], [5.0, 52.0]], "non-finite"),
        ([[5.0, 52.0], [5.001, 52.0], [5.002, 52.0], [5.0, 52.0]], "zero area"),
    ],
)
def test_bad_polygons_raise(tmp_path, ring, match) -> None:
    doc = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring]}}
    with pytest.raises(BoundaryError, match=match):
        b.read_fields(_write(tmp_path, "f.geojson", doc))


def test_no_spray_feature_kml_and_corrupt_files(tmp_path) -> None:
    zone = [[5.0004, 52.0004], [5.0006, 52.0004], [5.0006, 52.0006], [5.0004, 52.0006], [5.0004, 52.0004]]
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "A"}, "geometry": {"type": "Polygon", "coordinates": [SQUARE]}},
        {"type": "Feature", "properties": {"role": "no_spray"}, "geometry": {"type": "Polygon", "coordinates": [zone]}},
    ]}
    f = b.read_field(_write(tmp_path, "f.geojson", doc))
    assert len(f.no_spray) == 1 and f.no_spray[0].area == pytest.approx(0.04 * f.area_m2, rel=0.02)
    coords = " ".join(f"{x},{y},0" for x, y in SQUARE)
    kml = (f'<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>field</name><Polygon>'
           f'<outerBoundaryIs><LinearRing><coordinates>{coords}</coordinates></LinearRing></outerBoundaryIs>'
           f'</Polygon></Placemark></Document></kml>')
    k = b.read_field(_write(tmp_path, "f.kml", kml))
    assert k.area_m2 == pytest.approx(f.area_m2, rel=1e-6)
    xy = k.frame.to_local(np.array([5.0005]), np.array([52.0005]))
    assert np.allclose(k.frame.to_geo(xy), [[52.0005, 5.0005]])
    with pytest.raises(BoundaryError, match="not valid JSON"):
        b.read_fields(_write(tmp_path, "bad.geojson", "{not json"))
    with pytest.raises(BoundaryError, match="DOCTYPE"):
        b.read_fields(_write(tmp_path, "evil.kml", '<!DOCTYPE x [<!ENTITY a "b">]><kml/>'))
    with pytest.raises(BoundaryError, match="cannot read"):
        b.read_fields(tmp_path / "missing.geojson")


def test_qgc_plan_fences_inclusion_and_exclusion(tmp_path) -> None:
    field = [[52.0, 5.0], [52.0, 5.002], [52.001, 5.002], [52.001, 5.0]]
    fence = [[51.9995, 4.9995], [51.9995, 5.0025], [52.0015, 5.0025], [52.0015, 4.9995]]
    pond = [[52.0004, 5.0008], [52.0004, 5.0012], [52.0006, 5.0012], [52.0006, 5.0008]]
    survey = {"type": "ComplexItem", "complexItemType": "survey", "polygon": field}

    def plan(items, polygons):
        return {"fileType": "Plan", "mission": {"items": items}, "geoFence": {"polygons": polygons}}

    # survey polygon + the fence round it (inclusion key missing: QGC's default is inclusion) + a pond
    doc = plan([survey], [{"polygon": fence}, {"polygon": pond, "inclusion": False}])
    fields = b.read_fields(_write(tmp_path, "a.plan", doc))
    assert len(fields) == 1 and len(fields[0].no_spray) == 1  # the fence is neither a field nor a no-spray zone
    assert fields[0].no_spray[0].area < 0.05 * fields[0].area_m2
    doc = plan([survey], [{"polygon": fence, "inclusion": True}])
    assert len(b.read_fields(_write(tmp_path, "b.plan", doc))) == 1
    # no survey: the inclusion fences are the fields
    doc = plan([], [{"polygon": field, "inclusion": True}, {"polygon": pond, "inclusion": False}])
    only = b.read_fields(_write(tmp_path, "c.plan", doc))
    assert len(only) == 1 and len(only[0].no_spray) == 1
    with pytest.raises(BoundaryError, match="geofence polygon 0"):
        b.read_fields(_write(tmp_path, "d.plan", plan([survey], ["junk"])))
