"""JSON decoding without a broker: the fast path for plain records agrees with the careful one."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from plantwin.connectors.mqtt.json_payload import JsonDecoder, _Rows
from plantwin.connectors.mqtt.options import PayloadOptions
from plantwin.connectors.mqtt.session import Message
from plantwin.connectors.mqtt.topics import Route, TopicRouter

TOPIC = "p/m1/temps"
ADDRESSES = [f"{TOPIC}:a", f"{TOPIC}:b"]
T_MS = 1_780_000_000_000


class CarefulDecoder(JsonDecoder):
    """The same decoder with the fast path switched off."""

    def _simple_routes(self, topic: str, routes: list[Route]) -> list[tuple[str, str]] | None:
        return None


field_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
)
records = st.fixed_dictionaries(
    {},
    optional={
        "a": field_values,
        "b": field_values,
        "ts": st.one_of(st.integers(T_MS - 10, T_MS + 10), st.none(), st.text(max_size=3)),
        "quality": st.sampled_from(["good", "bad", "nope", 1]),
    },
)


def _decode(decoder: JsonDecoder, payload: bytes) -> tuple[object, list[tuple[str, str]]]:
    batch, dead = decoder.decode([Message(TOPIC, payload, T_MS * 1_000_000 + 5)])
    rows = (
        None
        if batch is None
        else list(
            zip(
                batch.address,
                batch.ts.tolist(),
                batch.value.tolist(),
                batch.status.tolist(),
                strict=True,
            )
        )
    )
    return rows, [(d.location, d.reason) for d in dead]


@given(st.lists(st.one_of(records, st.integers()), max_size=6))
def test_fast_and_careful_decoding_agree(batch: list[object]) -> None:
    payload = json.dumps(batch).encode()
    router = TopicRouter(ADDRESSES)
    fast = _decode(JsonDecoder("b", router, PayloadOptions()), payload)
    careful = _decode(CarefulDecoder("b", TopicRouter(ADDRESSES), PayloadOptions()), payload)
    assert repr(fast) == repr(careful)  # repr: NaN never equals itself


def test_a_plain_batch_takes_the_fast_path() -> None:
    decoder = JsonDecoder("b", TopicRouter(ADDRESSES), PayloadOptions())
    payload = json.dumps([{"a": 1.5, "b": 2, "ts": T_MS}, {"a": 3.0, "ts": T_MS + 1}]).encode()
    rows, dead = _decode(decoder, payload)
    assert rows == [
        (f"{TOPIC}:a", T_MS * 1_000_000, 1.5, 0),
        (f"{TOPIC}:b", T_MS * 1_000_000, 2.0, 0),
        (f"{TOPIC}:a", (T_MS + 1) * 1_000_000, 3.0, 0),
    ]
    assert dead == []
    assert decoder._simple[TOPIC] == [(f"{TOPIC}:a", "a"), (f"{TOPIC}:b", "b")]


plain_records = st.fixed_dictionaries(
    {"a": st.floats(-1e6, 1e6), "ts": st.integers(T_MS - 10, T_MS + 10)},
    optional={"b": st.floats(-1e6, 1e6)},
)


@given(
    st.lists(st.one_of(plain_records, plain_records, plain_records, records), max_size=20),
    st.sampled_from([PayloadOptions(), PayloadOptions(ts=None), PayloadOptions(quality=None)]),
)
def test_one_route_lists_decode_as_the_careful_way(batch: list[object], options: object) -> None:
    """One binding per topic: the column-wise way (8 records or more) and the single loop."""
    assert isinstance(options, PayloadOptions)
    payload = json.dumps(batch).encode()
    fast = _decode(JsonDecoder("b", TopicRouter([f"{TOPIC}:a"]), options), payload)
    careful = _decode(CarefulDecoder("b", TopicRouter([f"{TOPIC}:a"]), options), payload)
    assert repr(fast) == repr(careful)


def test_a_long_plain_list_is_taken_column_wise() -> None:
    decoder = JsonDecoder("b", TopicRouter([f"{TOPIC}:a"]), PayloadOptions(ts_unit="ns"))
    batch = [{"a": i, "ts": T_MS + i} for i in range(10)]
    rows, dead = _decode(decoder, json.dumps(batch).encode())
    assert rows == [(f"{TOPIC}:a", T_MS + i, float(i), 0) for i in range(10)]
    assert dead == []
    bad = [*batch[:9], {"a": float("inf"), "ts": T_MS}]  # the last one sends all the slow way
    rows, dead = _decode(decoder, json.dumps(bad).encode())
    assert rows == [(f"{TOPIC}:a", T_MS + i, float(i), 0) for i in range(9)]
    assert [location for location, _ in dead] == [f"{TOPIC}[9].a"]
    taken, untouched = _Rows(), _Rows()
    assert decoder._whole_list(list(batch), 0, f"{TOPIC}:a", "a", taken)
    assert len(taken.value) == 10
    assert not decoder._whole_list(list(bad), 0, f"{TOPIC}:a", "a", untouched)
    assert untouched == _Rows()


def test_a_nested_quality_path_is_read_on_every_way() -> None:
    """A quality one key deeper than the record must not be skipped by the fast ways."""
    options = PayloadOptions(quality="meta.q")
    for n in (1, 3, 10):  # one record, the single loop, the column-wise way
        batch = [{"a": 1.0, "ts": T_MS, "meta": {"q": "bad"}}] * n
        payload = json.dumps(batch).encode()
        fast = _decode(JsonDecoder("b", TopicRouter([f"{TOPIC}:a"]), options), payload)
        careful = _decode(CarefulDecoder("b", TopicRouter([f"{TOPIC}:a"]), options), payload)
        assert fast == careful
        assert fast[0] == [(f"{TOPIC}:a", T_MS * 1_000_000, 1.0, 2)] * n
