"""AlphaTensor factorisation archives (``.npz``; Fawzi et al., Nature 2022).

One entry per shape, keyed ``"m,k,n"``; each value holds three factors ``(u, v, w)`` of shapes
``(m*k, R)``, ``(k*n, R)``, ``(n*m, R)``: A and B flattened row-major, and ``w`` over **C^T**
(entry ``l*m + i`` of ``w`` belongs to ``C[i, l]``), since they decompose ``sum a_ij b_jl c_li``.
Square shapes are stored as one stacked ``(3, mk, R)`` array, the others as an object array of
three arrays (a pickle inside the ``.npy``).  Halves and eighths are stored as floats.

Reading never runs arbitrary pickles: object arrays are unpickled with an unpickler that only
rebuilds numpy arrays.  Floats are converted exactly (0.5 -> 1/2); a float that stands for an
irrational number is kept as the exact binary fraction it is, so such a scheme fails verification
(``invalid``) instead of being rounded into something it is not.
"""

from __future__ import annotations

import io
import pickle
import zipfile
import zlib
from fractions import Fraction

import numpy as np

from ..core.scheme import Scheme
from ..errors import FormatError
from ._common import build, c_transposed_rows, shape_from_sizes

SUFFIXES = ("npz",)
HOLDS_MANY = True

_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"): ("numpy", "ndarray"),
    ("numpy", "dtype"): ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"): ("numpy._core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"): ("numpy._core.multiarray", "scalar"),
}


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """Rebuilds numpy arrays and nothing else."""

    def find_class(self, module, name):
        target = _ALLOWED_GLOBALS.get((module, name))
        if target is None:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a scheme archive")
        try:
            return super().find_class(*target)
        except (ImportError, AttributeError):  # numpy < 2 has no numpy._core
            return super().find_class(module.replace("numpy._core", "numpy.core"), name)


def _read_npy(raw: bytes, where: str) -> np.ndarray:
    f = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        if not dtype.hasobject:
            f.seek(0)
            return np.lib.format.read_array(f, allow_pickle=False)
        arr = _ArraysOnlyUnpickler(f).load()
    except Exception as e:  # untrusted bytes: any failure to decode them is malformed input
        reason = " ".join(str(e).split())[:200] if str(e).isprintable() else type(e).__name__
        raise FormatError(f"{where}: not a readable numpy array ({reason})") from None
    if not isinstance(arr, np.ndarray):
        raise FormatError(f"{where}: expected a numpy array, got {type(arr).__name__}")
    return arr


def _exact(arr, where: str):
    """An exact 2-D array (int64 or object of int/Fraction) from an integer or float factor."""
    if not isinstance(arr, np.ndarray) or arr.ndim != 2:
        raise FormatError(f"{where}: each factor must be a 2-D array")
    kind = arr.dtype.kind
    if kind in "iu":
        return arr.astype(np.int64)
    if kind == "b":
        raise FormatError(f"{where}: holds booleans, expected numbers")
    if kind != "f":
        raise FormatError(f"{where}: unsupported element type {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise FormatError(f"{where}: contains NaN or infinity")
    rounded = np.rint(arr)
    if np.array_equal(rounded, arr) and np.all(np.abs(arr) < 2**53):
        return rounded.astype(np.int64)
    out = rounded.astype(np.int64).astype(object)
    for idx in zip(*np.nonzero(rounded != arr)):
        out[idx] = Fraction(float(arr[idx]))  # exact binary value of the stored float
    return out


def _shape_from_key(key: str):
    parts = key.split(",")
    if len(parts) == 3 and all(p.strip().isdigit() and int(p) > 0 for p in parts):
        return tuple(int(p) for p in parts)
    return None


def _entry(key: str, value, source: str) -> Scheme:
    where = f"{source} [{key if key.isprintable() else ascii(key)}]"
    if isinstance(value, np.ndarray) and value.dtype != object and value.ndim == 3 and value.shape[0] == 3:
        factors = [value[0], value[1], value[2]]
    elif isinstance(value, (np.ndarray, list, tuple)) and len(value) == 3:
        factors = list(value)
    else:
        raise FormatError(f"{where}: expected three factors (u, v, w)")
    u, v, w = (_exact(np.asarray(f) if not isinstance(f, np.ndarray) else f, f"{where} factor {name}")
               for f, name in zip(factors, "uvw"))
    r = u.shape[1]
    if v.shape[1] != r or w.shape[1] != r:
        raise FormatError(f"{where}: factors have {u.shape[1]}, {v.shape[1]}, {w.shape[1]} columns; "
                          f"all three need one column per product")
    shape = _shape_from_key(key) or shape_from_sizes(u.shape[0], v.shape[0], w.shape[0], where)
    m, k, n = shape
    if (u.shape[0], v.shape[0], w.shape[0]) != (m * k, k * n, n * m):
        raise FormatError(f"{where}: factor sizes {u.shape[0]}, {v.shape[0]}, {w.shape[0]} do not fit "
                          f"<{m},{k},{n}> (expected {m * k}, {k * n}, {n * m} rows)")
    W_c = w[c_transposed_rows(shape), :]
    return build(shape, u.T, v.T, W_c, source=where, provenance={"source": "alphatensor", "key": key})


def parse_many(data, *, source: str = "<data>") -> list[tuple[str, Scheme]]:
    """Every entry of an AlphaTensor ``.npz`` (bytes) as (key, Scheme), in archive order."""
    if isinstance(data, str):
        raise FormatError(f"{source}: an .npz archive is binary, not text")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError, OSError, RuntimeError):
        raise FormatError(f"{source}: not an .npz (zip) archive, or a damaged one") from None
    items = []
    with zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]
        if not names:
            raise FormatError(f"{source}: the archive is empty")
        for name in names:
            key = name[:-4] if name.endswith(".npy") else name
            shown = key if key.isprintable() else ascii(key)
            try:
                raw = zf.read(name)
            except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError, OSError, RuntimeError,
                    zlib.error) as e:
                reason = " ".join(str(e).split()) if str(e).isprintable() else type(e).__name__
                raise FormatError(f"{source} [{shown}]: cannot read archive member ({reason})") from None
            items.append((key, _entry(key, _read_npy(raw, f"{source} [{shown}]"), source)))
    return items


def parse(data, *, source: str = "<data>") -> Scheme:
    items = parse_many(data, source=source)
    if len(items) != 1:
        raise FormatError(f"{source}: holds {len(items)} schemes, expected one")
    return items[0][1]


def _float_factor(M: np.ndarray, where: str) -> np.ndarray:
    """int64 when integral, else float64 -- refused unless every value is exactly a float."""
    if M.dtype != object:
        return M.astype(np.int64)
    vals = [Fraction(x) for x in M.flat]
    if all(f.denominator == 1 for f in vals):
        return np.array([int(f) for f in vals], dtype=np.int64).reshape(M.shape)
    out = np.array([float(f) for f in vals], dtype=np.float64).reshape(M.shape)
    bad = [f for f, x in zip(vals, out.flat) if Fraction(float(x)) != f]
    if bad:
        raise FormatError(f"{where}: coefficient {bad[0]} cannot be stored exactly as a float in an .npz; "
                          f"use the JSON format")
    return out


def factors(scheme: Scheme) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(u, v, w) in AlphaTensor's layout (w over C^T)."""
    s = scheme.shape
    where = f"scheme {s}"
    u = _float_factor(scheme.W_a, where).T
    v = _float_factor(scheme.W_b, where).T
    # our row i*n + l goes to their row l*m + i
    inv = np.argsort(c_transposed_rows(s))
    w = _float_factor(scheme.W_c, where)[inv, :]
    if any(x.dtype == np.float64 for x in (u, v, w)):
        u, v, w = (x.astype(np.float64) for x in (u, v, w))
    return u, v, w


def dump_many(items) -> bytes:
    """An ``.npz`` archive with one entry per (key or None, scheme), AlphaTensor's layout."""
    arrays = {}
    for key, scheme in items:
        key = key or ",".join(str(d) for d in scheme.shape)
        if key in arrays:
            raise FormatError(f"two schemes share the archive key {key!r}")
        u, v, w = factors(scheme)
        if u.shape == v.shape == w.shape:
            arrays[key] = np.stack([u, v, w])
        else:
            obj = np.empty(3, dtype=object)
            obj[0], obj[1], obj[2] = u, v, w
            arrays[key] = obj
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def dump(scheme: Scheme) -> bytes:
    return dump_many([(None, scheme)])
