"""Plain-data codec between the candidate's process and the comparer: exact, typed, and never executes anything.

A value is encoded as JSON where arrays are lists and every other container or non-JSON scalar is a one-key object:
  {"t": [..]} tuple   {"s": [..]} set   {"fs": [..]} frozenset   {"d": [[k, v], ..]} dict (any plain keys)
  {"b": "<base64>"} bytes   {"ba": "<base64>"} bytearray   {"c": [re, im]} complex
  {"F": "nan" | "inf" | "-inf"} non-finite float   {"I": "<hex>"} int too long for a decimal JSON number
  {"T": "int"} one of the builtin types in PLAIN_TYPES (tests pass `int` or `str` as arguments)
Finite floats travel as JSON numbers written by repr, which round-trips every float exactly (-0.0 included).
Decoding is json.loads plus a walk that builds only these types: no constructor named by the data is ever called.
"""
import base64
import json
import math

# Ints up to this many bits travel as decimal JSON numbers; longer ones as hex, which has no digit limit.
_DECIMAL_BITS = 4000
MAX_DEPTH = 200


# Builtin types that travel by name (decoding looks the name up in this table, nowhere else).
PLAIN_TYPES = {t.__name__: t for t in (int, float, str, bool, bytes, bytearray, complex, list, tuple, dict, set, frozenset, type, object)}


class NotPlainData(TypeError):
    """The value (or something inside it) is not plain data."""


def _plain_type_name(x):
    t = type(x)
    return "%s.%s" % (getattr(t, "__module__", "?"), getattr(t, "__qualname__", t.__name__))


def _numpy_scalar(x):
    """numpy scalars count as the Python numbers they hold (EvalPlus compares them by value)."""
    t = type(x)
    if getattr(t, "__module__", "") != "numpy":
        return None
    item = getattr(x, "item", None)
    shape = getattr(x, "shape", None)
    if item is None or shape != ():
        return None
    v = item()
    if type(v) in (bool, int, float, complex, str, bytes):
        return v
    return None


def to_plain(x, depth=0):
    """Value -> JSON-ready structure. Raises NotPlainData naming the first offending type."""
    if depth > MAX_DEPTH:
        raise NotPlainData("nested deeper than %d levels" % MAX_DEPTH)
    if x is None or x is True or x is False:
        return x
    t = type(x)
    if t is int or (isinstance(x, int) and not isinstance(x, bool)):
        v = int.__index__(x)
        if v.bit_length() > _DECIMAL_BITS:
            return {"I": hex(v)}
        return v
    if t is float or isinstance(x, float):
        v = float.__float__(x)
        if math.isnan(v):
            return {"F": "nan"}
        if math.isinf(v):
            return {"F": "inf" if v > 0 else "-inf"}
        return v
    if t is str or isinstance(x, str):
        return str.__str__(x)
    d = depth + 1
    if t is list or isinstance(x, list):
        return [to_plain(y, d) for y in list.__iter__(x)]
    if t is tuple or isinstance(x, tuple):
        return {"t": [to_plain(y, d) for y in tuple.__iter__(x)]}
    if t is dict or isinstance(x, dict):
        return {"d": [[to_plain(k, d), to_plain(v, d)] for k, v in dict.items(x)]}
    if t is set or isinstance(x, set):
        return {"s": [to_plain(y, d) for y in set.__iter__(x)]}
    if t is frozenset or isinstance(x, frozenset):
        return {"fs": [to_plain(y, d) for y in frozenset.__iter__(x)]}
    if t is bytes or isinstance(x, bytes):
        return {"b": base64.b64encode(bytes(x)).decode("ascii")}
    if t is bytearray or isinstance(x, bytearray):
        return {"ba": base64.b64encode(bytes(x)).decode("ascii")}
    if t is complex or isinstance(x, complex):
        return {"c": [to_plain(float(x.real), d), to_plain(float(x.imag), d)]}
    if t is type and PLAIN_TYPES.get(getattr(x, "__name__", None)) is x:
        return {"T": x.__name__}
    v = _numpy_scalar(x)
    if v is not None:
        return to_plain(v, depth)
    raise NotPlainData("%s is not plain data" % _plain_type_name(x))


def encode(x):
    """Value -> compact JSON text."""
    return json.dumps(to_plain(x), separators=(",", ":"), allow_nan=False)


class BadEncoding(ValueError):
    """The bytes are not a valid encoding (malformed, unknown tag, unhashable key, too deep)."""


def _float_tag(v):
    if v == "nan":
        return float("nan")
    if v == "inf":
        return float("inf")
    if v == "-inf":
        return float("-inf")
    raise BadEncoding("unknown float tag %r" % (v,))


def from_plain(j, depth=0):
    """JSON structure -> value. Only the types above are ever built."""
    if depth > MAX_DEPTH + 2:
        raise BadEncoding("nested too deep")
    t = type(j)
    if j is None or t is bool or t is int or t is str:
        return j
    if t is float:
        return j
    d = depth + 1
    if t is list:
        return [from_plain(y, d) for y in j]
    if t is not dict or len(j) != 1:
        raise BadEncoding("unexpected %s" % t.__name__)
    ((tag, v),) = j.items()
    try:
        if tag == "t":
            return tuple(from_plain(y, d) for y in _list(v))
        if tag == "s":
            return set(from_plain(y, d) for y in _list(v))
        if tag == "fs":
            return frozenset(from_plain(y, d) for y in _list(v))
        if tag == "d":
            out = {}
            for pair in _list(v):
                if type(pair) is not list or len(pair) != 2:
                    raise BadEncoding("dict item is not a pair")
                out[from_plain(pair[0], d)] = from_plain(pair[1], d)
            return out
        if tag == "b":
            return base64.b64decode(_str(v), validate=True)
        if tag == "ba":
            return bytearray(base64.b64decode(_str(v), validate=True))
        if tag == "c":
            parts = _list(v)
            if len(parts) != 2:
                raise BadEncoding("complex needs two parts")
            re_, im = (from_plain(p, d) for p in parts)
            if type(re_) is not float or type(im) is not float:
                raise BadEncoding("complex parts must be floats")
            return complex(re_, im)
        if tag == "F":
            return _float_tag(v)
        if tag == "T":
            found = PLAIN_TYPES.get(_str(v))
            if found is None:
                raise BadEncoding("unknown type name")
            return found
        if tag == "I":
            s = _str(v)
            if len(s) > 1_000_000:
                raise BadEncoding("int too long")
            return int(s, 16)
    except TypeError as e:  # e.g. an unhashable element of a set or a dict key
        raise BadEncoding(str(e))
    except ValueError as e:
        raise BadEncoding(str(e))
    raise BadEncoding("unknown tag %r" % (tag,))


def _list(v):
    if type(v) is not list:
        raise BadEncoding("expected a list")
    return v


def _str(v):
    if type(v) is not str:
        raise BadEncoding("expected a string")
    return v


def _reject_constant(name):
    raise BadEncoding("bare %s is not allowed" % name)


def decode(text):
    """JSON text -> value; raises BadEncoding for anything that is not a valid encoding."""
    try:
        j = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise BadEncoding("nested too deep")
    except ValueError as e:
        raise BadEncoding(str(e))
    try:
        return from_plain(j)
    except RecursionError:
        raise BadEncoding("nested too deep")
