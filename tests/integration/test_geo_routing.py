"""Travel time through an OSRM-compatible routing server (a tiny local fake speaking /route/v1 JSON)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.geo.routing import RoutingError, route
from core.geo.travel import estimate_minutes, travel_time

BERLIN = (52.5200, 13.4050)
POTSDAM = (52.3906, 13.0645)


class FakeOsrm:
    """Answers GET /route/v1/{profile}/{lon},{lat};{lon},{lat} with a fixed route, or a scripted failure."""

    def __init__(self) -> None:
        self.answer: tuple[int, str] = (200, json.dumps({
            "code": "Ok",
            "routes": [{"duration": 2100.0, "distance": 34_800.0, "weight": 2100.0, "legs": []}],
            "waypoints": [{"location": [13.405, 52.52]}, {"location": [13.0645, 52.3906]}],
        }))  # fmt: skip
        self.paths: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the name http.server calls
                fake.paths.append(self.path)
                code, body = fake.answer
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def osrm() -> Iterator[FakeOsrm]:
    fake = FakeOsrm()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def test_route__reads_duration_and_distance_from_osrms_answer(osrm):
    found = route(osrm.url, BERLIN, POTSDAM, mode="car")

    assert (found.minutes, found.km) == (35.0, 34.8)
    assert osrm.paths == ["/route/v1/driving/13.405000,52.520000;13.064500,52.390600?overview=false"]


def test_travel_time__car_uses_the_route_plus_the_access_time(osrm):
    result = travel_time(BERLIN, POTSDAM, mode="car", routing_url=osrm.url)

    assert (result.source, result.minutes) == ("osrm", 40.0)  # 35 min driving + 5 min to the car and parking


def test_travel_time__transit_keeps_the_estimate_because_osrm_has_no_timetables(osrm):
    result = travel_time(BERLIN, POTSDAM, mode="transit", routing_url=osrm.url)

    assert result.source == "estimate"
    assert osrm.paths == []


@pytest.mark.parametrize(
    "answer",
    [
        (200, json.dumps({"code": "NoRoute", "message": "Impossible route between points", "routes": []})),  # no road
        (500, "internal error"),  # the server is broken
        (200, "<html>proxy error</html>"),  # not JSON
    ],
)
def test_travel_time__falls_back_to_the_estimate_when_routing_fails(osrm, answer):
    osrm.answer = answer

    with pytest.raises(RoutingError):
        route(osrm.url, BERLIN, POTSDAM, mode="car")
    result = travel_time(BERLIN, POTSDAM, mode="car", routing_url=osrm.url)
    assert result.source == "estimate"
    assert result.minutes == pytest.approx(float(estimate_minutes(result.distance_km, "car")))


def test_travel_time__unreachable_server_falls_back_to_the_estimate():
    result = travel_time(BERLIN, POTSDAM, mode="car", routing_url="http://127.0.0.1:9")

    assert result.source == "estimate"
