"""The shipped Germany outline and PLZ region shapes: regenerable, and every PLZ lies inside its shapes."""

from __future__ import annotations

import numpy as np
import pytest

from core.geo.outline import build_shapes, outline_geojson, postcode_centroids, regions_geojson


def inside(polygons: list, points: np.ndarray) -> np.ndarray:
    """Even-odd ray casting over all rings of a MultiPolygon: True where a [lon, lat] point is inside."""
    result = np.zeros(len(points), dtype=bool)
    for polygon in polygons:
        for ring in polygon:
            xy = np.asarray(ring)
            x1, y1 = xy[:-1, 0][None, :], xy[:-1, 1][None, :]
            x2, y2 = xy[1:, 0][None, :], xy[1:, 1][None, :]
            px, py = points[:, :1], points[:, 1:]
            crosses = (y1 > py) != (y2 > py)
            with np.errstate(divide="ignore", invalid="ignore"):
                at = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
            result ^= (np.count_nonzero(crosses & (px < at), axis=1) % 2).astype(bool)
    return result


@pytest.fixture(scope="module")
def centroids():
    plz, latlon = postcode_centroids()
    return plz, latlon[:, ::-1]  # [lon, lat] like GeoJSON


def test_outline__contains_every_one_of_the_8168_plz_centroids(centroids):
    plz, lonlat = centroids
    polygons = outline_geojson()["features"][0]["geometry"]["coordinates"]

    assert len(plz) == 8168
    assert inside(polygons, lonlat).all()


def test_regions__one_shape_per_3_digit_region_containing_its_own_centroids(centroids):
    plz, lonlat = centroids
    features = regions_geojson()["features"]

    assert [f["properties"]["region"] for f in features] == sorted({p[:3] for p in plz})
    codes = np.array([p[:3] for p in plz])
    for feature in features[::20]:  # a sample: testing all 671 takes long and adds nothing
        region = feature["properties"]["region"]
        members = lonlat[codes == region]
        assert inside(feature["geometry"]["coordinates"], members).all(), region
        assert feature["properties"]["postcodes"] == len(members)


def test_shapes__regenerate_from_the_packaged_data_like_the_shipped_files():
    outline, regions = build_shapes()

    shipped = outline_geojson()["features"][0]["geometry"]["coordinates"]
    fresh = outline["features"][0]["geometry"]["coordinates"]
    assert len(fresh) == len(shipped)
    assert len(fresh[0][0]) == pytest.approx(len(shipped[0][0]), rel=0.01)
    assert np.allclose(np.min(fresh[0][0], axis=0), np.min(shipped[0][0], axis=0), atol=0.01)
    assert [f["properties"] for f in regions["features"]] == [f["properties"] for f in regions_geojson()["features"]]


def test_regions_near__keeps_the_regions_around_a_point_only():
    from core.geo.outline import regions_geojson, regions_near

    berlin = regions_near(52.52, 13.40, lat_span=0.3, lon_span=0.5)["features"]
    regions = {f["properties"]["region"] for f in berlin}
    assert "101" in regions  # Berlin-Mitte
    assert "803" not in regions  # Munich is far away
    assert len(berlin) < len(regions_geojson()["features"]) / 10
