"""Events to rows and back: tagged JSON for scalars, raw little blobs for numpy arrays.

Why not pickle: a run file may come from someone else, and unpickling runs code. Here every
value is JSON (numbers, strings, lists) or a numeric array rebuilt with ``np.frombuffer`` from
an allow-listed dtype, and an event class is only ever looked up by name among the dataclasses
of ``engine.events`` — nothing in a run file can name code to run. Arrays keep their exact
dtype and bytes, so a round trip is bit-for-bit; an event's array bytes are stored zlib-packed
when that pays (a step batch shrinks to about 40%), and unpacking is capped so a hostile file
cannot inflate without bound.

Any dataclass is encoded generically by its fields, so a new event type (or a field someone
adds tomorrow) is stored without touching this file; one this version cannot rebuild comes
back as a ``RecordedEvent`` instead of failing the whole run.
"""

from __future__ import annotations

import dataclasses
import json
import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from trainscope.engine import events as ev
from trainscope.engine.runs.decimation import STORED_EVENTS, DecimatedSteps
from trainscope.engine.runs.errors import RunFileError

ARRAY_TAG, TUPLE_TAG, DICT_TAG, CLASS_TAG, FIELDS_TAG = "$a", "$t", "$d", "$dc", "f"
ALLOWED_DTYPE_KINDS = "biuf"  # bool, signed, unsigned, float: never object or void
_ALIGN = 8
RAW, ZLIB = b"\x00", b"\x01"  # first byte of a stored array blob: how the rest is packed
MAX_UNPACKED_BYTES = 256 << 20  # one event's arrays; a bigger claim is a damaged or hostile file


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event this TrainScope cannot rebuild as its class (newer or removed); kept as data."""

    kind: str
    fields: dict


@dataclass(frozen=True, slots=True)
class EncodedEvent:
    """One event as a row: its class name, the steps it covers, JSON text and an array blob."""

    kind: str
    step: int | None
    last_step: int | None
    payload: str
    arrays: bytes


def encode_event(event: object) -> EncodedEvent:
    """Encode any dataclass event; the step columns let the store seek without decoding."""
    buffer = bytearray()
    payload = json.dumps(_encode(event, buffer), separators=(",", ":"))
    step, last_step = event_steps(event)
    kind = event.kind if isinstance(event, RecordedEvent) else type(event).__name__
    return EncodedEvent(kind, step, last_step, payload, pack_arrays(bytes(buffer)))


def pack_arrays(raw: bytes) -> bytes:
    """zlib when it saves a tenth or more (step series shrink ~60%, probabilities ~20%)."""
    if not raw:
        return b""
    packed = zlib.compress(raw, 1)
    return ZLIB + packed if len(packed) < 0.9 * len(raw) else RAW + raw


def unpack_arrays(blob: bytes | None) -> bytes:
    """The raw array bytes of a stored blob, refusing a blob that would inflate past the cap."""
    if not blob:
        return b""
    tag, body = blob[:1], blob[1:]
    if tag == RAW:
        return bytes(body)
    if tag != ZLIB:
        raise RunFileError("a recorded event's array data is in an unknown packing")
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(body, MAX_UNPACKED_BYTES)
    except zlib.error as error:
        raise RunFileError(f"a recorded event's array data is damaged ({error})") from None
    if inflater.unconsumed_tail or not inflater.eof:
        raise RunFileError("a recorded event's array data is damaged or impossibly large")
    return raw


def event_steps(event: object) -> tuple[int | None, int | None]:
    """(first, last) optimizer step an event is about; None for events outside the step axis."""
    if isinstance(event, ev.StepMetrics):
        if len(event.steps) == 0:
            return None, None
        first = event.first_steps if isinstance(event, DecimatedSteps) else event.steps
        return int(first[0]), int(event.steps[-1])
    fields = event.fields if isinstance(event, RecordedEvent) else {}
    for name in ("step", "to_step"):
        value = fields.get(name, getattr(event, name, None))
        if isinstance(value, int | np.integer) and not isinstance(value, bool):
            return int(value), int(value)
    return None, None


def decode_event(payload: str | bytes, arrays: bytes | None) -> object:
    """Rebuild an event from its row (``arrays`` as stored, packed); a malformed row raises
    ``RunFileError`` and nothing in it is ever executed."""
    try:
        tree = json.loads(payload)
    except (ValueError, TypeError) as error:
        raise RunFileError(f"a recorded event is not valid JSON ({error})") from None
    if not isinstance(tree, dict) or CLASS_TAG not in tree:
        raise RunFileError("a recorded event has no event type")
    raw = unpack_arrays(arrays)
    try:
        return _decode(tree, memoryview(raw))
    except (ValueError, TypeError, KeyError, RecursionError) as error:
        raise RunFileError(f"a recorded event is malformed ({error})") from None


# ----- encoding ------------------------------------------------------------------------------
def _encode(value: Any, buffer: bytearray) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, np.ndarray):
        return {ARRAY_TAG: _append_array(value, buffer)}
    if isinstance(value, RecordedEvent):
        fields = {name: _encode(item, buffer) for name, item in value.fields.items()}
        return {CLASS_TAG: value.kind, FIELDS_TAG: fields}
    if isinstance(value, np.generic):
        return _number(value.item()) if not isinstance(value, np.str_) else str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {
            field.name: _encode(getattr(value, field.name), buffer)
            for field in dataclasses.fields(value)
        }
        return {CLASS_TAG: type(value).__name__, FIELDS_TAG: fields}
    if isinstance(value, tuple):
        return {TUPLE_TAG: [_encode(item, buffer) for item in value]}
    if isinstance(value, list):
        return [_encode(item, buffer) for item in value]
    if isinstance(value, Mapping):  # a dict, or the typed Settings (read back as a dict)
        return {DICT_TAG: [[_encode(k, buffer), _encode(v, buffer)] for k, v in value.items()]}
    return str(value)  # an unexpected type is kept as its text rather than lost or pickled


def _number(value: int | float | bool) -> int | float | bool:
    """Plain Python numbers; JSON's NaN/Infinity extension keeps a diverged loss as it was."""
    if isinstance(value, float) and not math.isfinite(value):
        return float(value)
    return value


def _append_array(array: np.ndarray, buffer: bytearray) -> list:
    if array.dtype.kind not in ALLOWED_DTYPE_KINDS:
        raise RunFileError(f"an event array of type {array.dtype} cannot be stored")
    buffer.extend(b"\0" * (-len(buffer) % _ALIGN))
    offset = len(buffer)
    buffer.extend(np.ascontiguousarray(array).tobytes())
    return [offset, array.dtype.str, list(array.shape)]


# ----- decoding ------------------------------------------------------------------------------
def _decode(value: Any, blob: memoryview) -> Any:
    if isinstance(value, list):
        return [_decode(item, blob) for item in value]
    if not isinstance(value, dict):
        return value
    if ARRAY_TAG in value:
        return _read_array(value[ARRAY_TAG], blob)
    if TUPLE_TAG in value:
        return tuple(_decode(item, blob) for item in _as_list(value[TUPLE_TAG]))
    if DICT_TAG in value:
        return {_hashable(_decode(k, blob)): _decode(v, blob) for k, v in _pairs(value[DICT_TAG])}
    if CLASS_TAG in value:
        fields = value.get(FIELDS_TAG)
        if not isinstance(fields, dict):
            raise RunFileError("a recorded event has no fields")
        decoded = {str(name): _decode(item, blob) for name, item in fields.items()}
        return _build(str(value[CLASS_TAG]), decoded)
    raise RunFileError("a recorded event holds a value of unknown form")


def _as_list(value: Any) -> list:
    if not isinstance(value, list):
        raise RunFileError("a recorded event holds a malformed list")
    return value


def _pairs(value: Any) -> list:
    pairs = _as_list(value)
    if not all(isinstance(pair, list) and len(pair) == 2 for pair in pairs):
        raise RunFileError("a recorded event holds a malformed mapping")
    return pairs


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


def _read_array(spec: Any, blob: memoryview) -> np.ndarray:
    """Rebuild one array after checking its type, shape and bounds against the blob."""
    try:
        offset, dtype_text, shape = spec
        dtype = np.dtype(str(dtype_text))
        shape = tuple(int(size) for size in shape)
    except (TypeError, ValueError) as error:
        raise RunFileError(f"a recorded array has a malformed header ({error})") from None
    if dtype.kind not in ALLOWED_DTYPE_KINDS or dtype.hasobject or dtype.fields:
        raise RunFileError(f"a recorded array has a forbidden type ({dtype_text})")
    count = math.prod(shape)
    size = count * dtype.itemsize
    if not isinstance(offset, int) or offset < 0 or min(shape, default=0) < 0:
        raise RunFileError("a recorded array has a negative offset or size")
    if offset + size > len(blob):
        raise RunFileError("a recorded array runs past the end of its data (truncated)")
    flat = np.frombuffer(blob, dtype=dtype, count=count, offset=offset) if count else None
    return (flat.copy() if flat is not None else np.empty(0, dtype=dtype)).reshape(shape)


def event_class(name: str) -> type | None:
    """A dataclass of ``engine.events`` (or one the store itself writes, such as
    ``DecimatedSteps``) by name, or None: the only classes a file may name."""
    for stored in STORED_EVENTS:
        if stored.__name__ == name:
            return stored
    candidate = getattr(ev, name, None)
    if (
        isinstance(candidate, type)
        and dataclasses.is_dataclass(candidate)
        and candidate.__module__ == ev.__name__
    ):
        return candidate
    return None


def _build(name: str, fields: dict) -> object:
    """The real event class when its fields still fit, else a ``RecordedEvent`` that keeps them."""
    cls = event_class(name)
    if cls is not None:
        try:
            return cls(**fields)
        except TypeError:
            pass
    return RecordedEvent(kind=name, fields=fields)
