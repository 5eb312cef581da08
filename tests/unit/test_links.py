"""Answer link tokens: signed (HMAC-SHA256), expiring, URL-safe; tampered and expired links are refused."""

from datetime import UTC, datetime, timedelta

import pytest

from core.communication.links import LinkError, answer_url, make_token, read_token
from core.errors import ValidationError

SECRET = "test-secret-" + "x" * 40
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=42)


def test_make_token__round_trips_to_the_item_id():
    token = make_token(7, secret=SECRET, expires_at=LATER)
    assert read_token(token, secret=SECRET, now=NOW) == 7


def test_make_token__is_url_safe():
    token = make_token(123456, secret=SECRET, expires_at=LATER)
    assert all(c.isalnum() or c in "._-" for c in token)
    assert answer_url("https://vermittlung.example.org/", token) == (
        f"https://vermittlung.example.org/answer?token={token}"
    )


def _flip_last(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.replace("7.", "8.", 1),  # another item id with the old signature
        lambda t: t.split(".")[0] + "." + str(int(t.split(".")[1]) + 86400) + "." + t.split(".")[2],  # longer expiry
        _flip_last,  # the signature changed
        lambda t: t[:-5],  # cut short when copying the link
        lambda t: "",  # no token at all
        lambda t: "garbage",  # not a token
        lambda t: t + "x",  # one character too many
    ],
)
def test_read_token__refuses_a_tampered_token(change):
    token = make_token(7, secret=SECRET, expires_at=LATER)
    with pytest.raises(LinkError) as error:
        read_token(change(token), secret=SECRET, now=NOW)
    assert error.value.reason == "invalid"
    assert "changed" in str(error.value)


def test_read_token__refuses_a_token_signed_with_another_secret():
    token = make_token(7, secret="another-secret", expires_at=LATER)
    with pytest.raises(LinkError, match="changed"):
        read_token(token, secret=SECRET, now=NOW)


@pytest.mark.parametrize(
    ("now", "valid"),
    [
        (LATER - timedelta(seconds=1), True),  # the last second of validity
        (LATER, False),  # the moment it expires
        (LATER + timedelta(days=3), False),  # days later
    ],
)
def test_read_token__expires_at_the_given_time(now, valid):
    token = make_token(7, secret=SECRET, expires_at=LATER)
    if valid:
        assert read_token(token, secret=SECRET, now=now) == 7
    else:
        with pytest.raises(LinkError, match=r"expired on 07\.01\.2027") as error:
            read_token(token, secret=SECRET, now=now)
        assert error.value.reason == "expired"


def test_make_token__needs_an_aware_expiry_and_a_secret():
    with pytest.raises(ValidationError, match="timezone"):
        make_token(7, secret=SECRET, expires_at=datetime(2026, 12, 1))
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        make_token(7, secret="", expires_at=LATER)


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.split(".")[0].translate(ARABIC_INDIC) + "." + t.split(".", 1)[1],  # item id "٧" reads as 7
        lambda t: t.split(".")[0] + "." + t.split(".")[1].translate(ARABIC_INDIC) + "." + t.split(".")[2],  # expiry
        lambda t: t.replace("7.", "\uff17.", 1),  # a fullwidth seven
    ],
)
def test_read_token__accepts_ascii_digits_only(change):
    token = make_token(7, secret=SECRET, expires_at=LATER)
    assert change(token) != token
    with pytest.raises(LinkError) as error:
        read_token(change(token), secret=SECRET, now=NOW)
    assert error.value.reason == "invalid"
