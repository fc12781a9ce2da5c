"""Fuzzing every reader: random bytes and mutated valid files never raise anything but an
``AlgoDiscoverError`` (one line), and never come back "valid" unless the Brent equations hold.

The Brent check here is written independently of the code under test: the matmul tensor typed from its
definition and one exact einsum over Fractions.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from algodiscover import Scheme
from algodiscover.core.verify import verify
from algodiscover.errors import AlgoDiscoverError
from algodiscover.formats import FORMATS, load_all
from tests.conftest import REPO, STRASSEN

FUZZ = settings(max_examples=25, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


# ---------------------------------------------------------------- the independent check
def _tensor(m: int, k: int, n: int) -> np.ndarray:
    """T[x, y, z] = 1 iff x = (i, j), y = (j, l), z = (i, l), all row-major."""
    T = np.zeros((m * k, k * n, m * n), dtype=object)
    T[...] = Fraction(0)
    for i in range(m):
        for j in range(k):
            for l in range(n):
                T[i * k + j, j * n + l, i * n + l] = Fraction(1)
    return T


def independent_ring(s: Scheme) -> str:
    """ZT / Z / Q when sum_t W_a[t,x] W_b[t,y] W_c[z,t] == T exactly, Z2 when only modulo 2 (every
    coefficient with an odd denominator, every residual even), Z3 when only modulo 3 (checked after Z2, as
    ``verify`` does), else invalid."""
    m, k, n = (int(x) for x in s.shape)
    Wa, Wb, Wc = (np.vectorize(Fraction, otypes=[object])(np.array(W.tolist(), dtype=object))
                  for W in (s.W_a, s.W_b, s.W_c))
    R = np.einsum("tx,ty,zt->xyz", Wa, Wb, Wc) - _tensor(m, k, n)
    coeffs = [Fraction(c) for W in (Wa, Wb, Wc) for c in W.flat]
    if all(r == 0 for r in R.flat):
        if all(c.denominator == 1 for c in coeffs):
            return "ZT" if all(abs(c) <= 1 for c in coeffs) else "Z"
        return "Q"
    if all(c.denominator % 2 == 1 for c in coeffs) and all(Fraction(r).numerator % 2 == 0 for r in R.flat):
        return "Z2"
    if all(c.denominator % 3 != 0 for c in coeffs) and all(Fraction(r).numerator % 3 == 0 for r in R.flat):
        return "Z3"
    return "invalid"


def _check_items(items) -> None:
    for _, s in items:
        assert isinstance(s, Scheme)
        v = verify(s)
        assert v.ring == independent_ring(s), (v.ring, s.shape, s.rank)


def _parse(fmt, payload):
    try:
        items = FORMATS[fmt].parse_many(payload, source="fuzz")
    except AlgoDiscoverError as e:
        assert "\n" not in str(e).strip(), str(e)
        return None
    _check_items(items)
    return items


# ---------------------------------------------------------------- valid files to start from
def _rational() -> Scheme:
    d = {k: [list(r) for r in v] for k, v in STRASSEN.items()}
    d["W_a"][1] = [0, 0, 2, 2]
    d["W_c"][2][1] = Fraction(1, 2)
    d["W_c"][3][1] = Fraction(-1, 2)
    return Scheme((2, 2, 2), **d)


SCHEMES = {"strassen": Scheme((2, 2, 2), **STRASSEN), "standard-232": Scheme.standard((2, 3, 2)),
           "rational": _rational()}
SOURCES = [(fmt, name) for fmt in sorted(FORMATS) for name in SCHEMES
           if not (name == "rational" and fmt in ("npz", "sms", "bb", "m"))]  # formats without fractions skip Q


def _dump(fmt: str, name: str):
    try:
        return FORMATS[fmt].dump(SCHEMES[name])
    except AlgoDiscoverError:
        pytest.fail(f"{fmt} cannot write {name}")


def test_the_starting_files_round_trip():
    for fmt, name in SOURCES:
        items = _parse(fmt, _dump(fmt, name))
        assert items is not None and len(items) == 1, (fmt, name)
        assert items[0][1] == SCHEMES[name], (fmt, name)


# ---------------------------------------------------------------- random bytes
@pytest.mark.parametrize("fmt", sorted(FORMATS))
@FUZZ
@given(blob=st.binary(max_size=400))
def test_random_bytes(fmt, blob):
    payload = {"L": blob, "R": blob[::-1], "P": blob[1:]} if fmt == "sms" else blob
    _parse(fmt, payload)


@FUZZ
@given(text=st.lists(st.sampled_from(list("{}[](),:;*+-/#\n 0123456789abcRM\"eE.")
                                     + ["a11", "b22", "c12", "shape", "W_a", "\"format\"", "{{", "}}"]),
                    max_size=150).map("".join),
       suffix=st.sampled_from(["", ".txt", ".json", ".exp", ".m", ".bb"]))
def test_random_text_through_detection(text, suffix):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / f"x{suffix}"
        p.write_text(text)
        try:
            _check_items(load_all(p))
        except AlgoDiscoverError as e:
            assert "\n" not in str(e).strip()


# ---------------------------------------------------------------- mutated valid files
_NUMBER = re.compile(r"-?\d+(?:/\d+)?")
_VALUES = ["0", "1", "-1", "2", "-2", "3", "1/2", "-1/3", "7", "99", "", "1.5", "--1", "1/0"]
_JUNK = ["{", "}", "]", "[", ",", "#", "\n", "*", "(", ")", "a9", "b0", "c33", "NaN", "true", "\x00", "\"", "1e400",
         " R\n", "0 0 0\n"]

_MUTATION = st.one_of(
    st.tuples(st.just("number"), st.integers(0, 10**6), st.sampled_from(_VALUES)),  # change one number
    st.tuples(st.just("insert"), st.floats(0, 1), st.sampled_from(_JUNK)),           # insert junk
    st.tuples(st.just("delete"), st.floats(0, 1), st.integers(1, 8)),                # delete a few characters
    st.tuples(st.just("truncate"), st.floats(0, 1), st.just(None)),                  # cut the file short
)


def _mutate_text(text: str, ops) -> str:
    for op, where, what in ops:
        if op == "number":
            spots = list(_NUMBER.finditer(text))
            if spots:
                m = spots[where % len(spots)]
                text = text[:m.start()] + what + text[m.end():]
        elif op == "insert":
            i = int(where * len(text))
            text = text[:i] + what + text[i:]
        elif op == "delete":
            i = int(where * len(text))
            text = text[:i] + text[i + what:]
        else:
            text = text[:int(where * len(text))]
    return text


def _npz_with(arrays: dict) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # object arrays (ragged factors) are pickled, as in AlphaTensor's own files
    return buf.getvalue()


def _mutate(fmt: str, data, ops, part: str):
    if fmt == "sms":
        return {**data, part: _mutate_text(data[part], ops)}
    if fmt == "npz":  # change the factor arrays (a byte-level change mostly breaks the zip's checksum)
        with np.load(io.BytesIO(data), allow_pickle=True) as z:  # our own file: (u, v, w) per key
            arrays = {k: z[k] for k in z.files}
        key = sorted(arrays)[0]
        factors = [np.array(f, dtype=np.float64) for f in arrays[key]]
        for op, where, what in ops:
            f = factors[where % 3] if isinstance(where, int) else factors[int(where * 2.99)]
            flat = f.reshape(-1)
            if op == "number":
                try:
                    flat[where % flat.size] = float(Fraction(what))
                except (ValueError, ZeroDivisionError):
                    flat[where % flat.size] = np.nan if what == "" else 0.5
            elif op == "truncate":
                i = int(where * 2.99)
                factors[i] = factors[i][:, : max(1, int(where * factors[i].shape[1]))]
        out = np.empty(3, dtype=object)  # (u, v, w) as AlphaTensor stores ragged factors
        for i, f in enumerate(factors):
            out[i] = f
        arrays[key] = out
        return _npz_with(arrays)
    return _mutate_text(data, ops)


@pytest.mark.parametrize("fmt,name", SOURCES)
@FUZZ
@given(ops=st.lists(_MUTATION, min_size=1, max_size=3), part=st.sampled_from("LRP"))
def test_mutated_files(fmt, name, ops, part):
    _parse(fmt, _mutate(fmt, _dump(fmt, name), ops, part))


@pytest.mark.parametrize("fmt,name", [s for s in SOURCES if s[0] in ("json", "exp", "bb")])
@settings(max_examples=60, deadline=None, derandomize=True)
@given(where=st.integers(0, 10**6), value=st.sampled_from(["0", "1", "-1", "2", "1/2"]))
def test_one_changed_coefficient_is_never_valid_by_mistake(fmt, name, where, value):
    """The sharpest mutation: one number changed.  Whatever the reader makes of it, its verdict agrees with
    the independent Brent check (so a changed coefficient can only be "valid" if the equations still hold)."""
    _parse(fmt, _mutate_text(_dump(fmt, name), [("number", where, value)]))


# ---------------------------------------------------------------- the CLI on damaged files
def test_cli_verify_on_damaged_files_never_shows_a_traceback(tmp_path):
    rng = np.random.default_rng(3)
    files = []
    for i, (fmt, name) in enumerate([("json", "strassen"), ("exp", "standard-232"), ("bb", "strassen"),
                                     ("m", "strassen"), ("perminov", "rational"), ("json", "rational")]):
        text = _dump(fmt, name)
        ops = [("number", int(rng.integers(10**6)), str(rng.choice(_VALUES))),
               ("insert", float(rng.random()), str(rng.choice(_JUNK)))][: 1 + i % 2]
        suffix = {"perminov": "json"}.get(fmt, fmt)
        p = tmp_path / f"d{i}.{suffix}"
        p.write_text(_mutate_text(text, ops))
        files.append((p, fmt))
    (tmp_path / "bytes.npz").write_bytes(bytes(rng.integers(0, 256, 300, dtype=np.uint8)))
    files.append((tmp_path / "bytes.npz", "npz"))
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("ALGODISCOVER_DEBUG", None)
    # one interpreter runs the CLI on every file (a fresh process each would cost seconds apiece)
    code = ("import sys, contextlib, io\nfrom algodiscover.cli import main\n"
            "for f in sys.argv[1:]:\n"
            "    err = io.StringIO()\n"
            "    with contextlib.redirect_stderr(err):\n"
            "        rc = main(['verify', f, '--json'])\n"
            "    print(repr((f, rc, err.getvalue())))\n")
    r = subprocess.run([sys.executable, "-c", code, *[str(p) for p, _ in files]], env=env, capture_output=True,
                       text=True, timeout=240)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    results = [eval(line) for line in r.stdout.splitlines() if line.startswith("(")]  # noqa: S307 - our own repr
    assert len(results) == len(files)
    for (path, rc, err), (p, fmt) in zip(results, files):
        assert rc in (0, 1, 2), (path, rc, err)
        assert "Traceback" not in err
        if rc == 2:
            assert len([ln for ln in err.splitlines() if ln.strip()]) == 1, err
        if rc == 0:  # "valid": the independent check must agree on what the file holds
            for _, s in load_all(p, fmt):
                assert independent_ring(s) in ("ZT", "Z", "Q")
    # and one real subprocess per exit path, as a user runs it
    r = subprocess.run([sys.executable, "-m", "algodiscover", "verify", str(files[-1][0])], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_independent_check_is_not_vacuous():
    """The oracle itself: Strassen valid, the rational variant Q, a sign flip Z2, a dropped term invalid."""
    assert independent_ring(SCHEMES["strassen"]) == "ZT"
    assert independent_ring(SCHEMES["rational"]) == "Q"
    d = {k: [list(r) for r in v] for k, v in STRASSEN.items()}
    d["W_c"][0][4] = 1
    assert independent_ring(Scheme((2, 2, 2), **d)) == "Z2"
    d["W_c"][0][6] = 0
    assert independent_ring(Scheme((2, 2, 2), **d)) == "invalid"
