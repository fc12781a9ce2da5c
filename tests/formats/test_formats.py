"""The community formats: hand-typed fixtures for every reader, round trips, sniffing, CRLF, bad input.

Fixtures are built here, never copied from public files.  Expected schemes come from the
literature fixtures in conftest (Strassen 1969, Winograd 1971, Laderman 1976) and from the
schoolbook algorithm; the C^T conventions are typed by hand from each format's definition.
"""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from algodiscover import Scheme
from algodiscover.core.canonical import canonical_key
from algodiscover.errors import FormatError, VerificationError
from algodiscover.formats import (FORMATS, alphatensor, benson_ballard, detect_format, exp_format, load, load_all,
                                  maple, perminov, plinopt, save, save_all)
from tests.conftest import LADERMAN, STRASSEN, WINOGRAD, run_cli, run_cli_here


def strassen_224() -> Scheme:
    """<2,2,4>:14 -- two Strassens side by side, C = [A B1 | A B2]; its C-part is not square."""
    s = Scheme((2, 2, 2), **STRASSEN)
    Wa, Wb, Wc = [], [], [[0] * 14 for _ in range(8)]
    for h in range(2):
        for t in range(7):
            Wa.append(s.W_a[t].tolist())
            row = [0] * 8
            for j in range(2):
                for lp in range(2):
                    row[j * 4 + 2 * h + lp] = int(s.W_b[t, j * 2 + lp])
            Wb.append(row)
            for i in range(2):
                for lp in range(2):
                    Wc[i * 4 + 2 * h + lp][h * 7 + t] = int(s.W_c[i * 2 + lp, t])
    return Scheme((2, 2, 4), Wa, Wb, Wc)


SCHEMES = {
    "strassen": lambda: Scheme((2, 2, 2), **STRASSEN),
    "winograd": lambda: Scheme((2, 2, 2), **WINOGRAD),
    "laderman": lambda: Scheme((3, 3, 3), **LADERMAN),
    "strassen224": strassen_224,
    "standard234": lambda: Scheme.standard((2, 3, 4)),
}

# ---- hand-typed Strassen in each foreign convention ----------------------------------------------
# .exp: c_li stands for C[i,l]; c11=m1+m4-m5+m7, c12=m3+m5, c21=m2+m4, c22=m1-m2+m3+m6
STRASSEN_EXP = """\
(a11+a22)*(b11+b22)*(c11+c22)
(a21+a22)*(b11)*(c12-c22)
(a11)*(b12-b22)*(c21+c22)
(a22)*(b21-b11)*(c11+c12)
(a11+a12)*(b22)*(c21-c11)
(a21-a11)*(b11+b12)*(c22)
(a12-a22)*(b21+b22)*(c11)
"""
# the same products with every tolerated spelling: spaces, bare variables, juxtaposition, rational and
# integer coefficients, a scalar multiple of a factor, a division of the whole product, a leading -( )
STRASSEN_EXP_TOLERANT = """\
(a11 + a22) (b11 + b22) (c11 + c22)
( a21+a22 )*b11*(c12 - c22)
a11 * (b12 - b22) * (c21 + c22)
-(a22)*(b11-b21)*(c11+c12)
(2*(a11 + a12))*(1/2*b22)*(-c11 + c21)
(a21 - a11)(2b11 + 2b12)c22/2
-(3*a12 - 3*a22)*(b21 + b22)*(-c11)/3
"""
# Maple/Mathematica: {A (2x2), B (2x2), C^T (2x2)} per product
STRASSEN_M = """{{{{1, 0}, {0, 1}}, {{1, 0}, {0, 1}}, {{1, 0}, {0, 1}}},
 {{{0, 0}, {1, 1}}, {{1, 0}, {0, 0}}, {{0, 1}, {0, -1}}},
 {{{1, 0}, {0, 0}}, {{0, 1}, {0, -1}}, {{0, 0}, {1, 1}}},
 {{{0, 0}, {0, 1}}, {{-1, 0}, {1, 0}}, {{1, 1}, {0, 0}}},
 {{{1, 1}, {0, 0}}, {{0, 0}, {0, 1}}, {{-1, 0}, {1, 0}}},
 {{{-1, 0}, {1, 0}}, {{1, 1}, {0, 0}}, {{0, 0}, {0, 1}}},
 {{{0, 1}, {0, -1}}, {{0, 0}, {1, 1}}, {{1, 0}, {0, 0}}}}
"""
# one row per product over C^T: entry l*m + i belongs to C[i, l]
STRASSEN_W_CT = [[1, 0, 0, 1], [0, 1, 0, -1], [0, 0, 1, 1], [1, 1, 0, 0], [-1, 0, 1, 0], [0, 0, 0, 1], [1, 0, 0, 0]]


def _perminov_doc(**over):
    d = {"n": [2, 2, 2], "m": 7, "z2": False, "u": STRASSEN["W_a"], "v": STRASSEN["W_b"], "w": STRASSEN_W_CT}
    d.update(over)
    return d


def _bb_text(W_a, W_b, W_c, comment="# a comment line\n# (0, 0, 0) permutation\n"):
    cols = lambda M: "\n".join(" ".join(str(x) for x in row) for row in M)  # noqa: E731
    return comment + cols(np.array(W_a).T.tolist()) + "\n#\n" + cols(np.array(W_b).T.tolist()) + "\n#\n" + cols(W_c) + "\n"


def _sms_text(M, comment="# hand-made"):
    lines = [comment, f"{len(M)} {len(M[0])} R"]
    lines += [f"{i + 1} {j + 1} {x}" for i, row in enumerate(M) for j, x in enumerate(row) if x != 0]
    return "\n".join(lines + ["0 0 0"]) + "\n"


def _npz_bytes(entries: dict) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **entries)
    return buf.getvalue()


def _alphatensor_standard(m, k, n):
    """Schoolbook <m,k,n> in AlphaTensor's layout, built from its definition (w over C^T)."""
    r = m * k * n
    u, v, w = np.zeros((m * k, r), int), np.zeros((k * n, r), int), np.zeros((n * m, r), int)
    t = 0
    for i in range(m):
        for j in range(k):
            for l in range(n):
                u[i * k + j, t] = v[j * n + l, t] = w[l * m + i, t] = 1
                t += 1
    obj = np.empty(3, dtype=object)
    obj[0], obj[1], obj[2] = u, v, w
    return obj


# ---- every reader reads a hand-typed Strassen -----------------------------------------------------
def test_hand_typed_strassen_in_every_format(strassen):
    assert exp_format.parse(STRASSEN_EXP) == strassen
    assert maple.parse(STRASSEN_M) == strassen
    assert perminov.parse(json.dumps(_perminov_doc())) == strassen
    assert benson_ballard.parse(_bb_text(**STRASSEN)) == strassen
    assert plinopt.parse_triple(_sms_text(STRASSEN["W_a"]), _sms_text(STRASSEN["W_b"]),
                                _sms_text(STRASSEN["W_c"])) == strassen
    stacked = np.stack([np.array(STRASSEN["W_a"]).T, np.array(STRASSEN["W_b"]).T, np.array(STRASSEN_W_CT).T])
    [(key, s)] = alphatensor.parse_many(_npz_bytes({"2,2,2": stacked}))
    assert key == "2,2,2" and s == strassen
    for s in (exp_format.parse(STRASSEN_EXP), perminov.parse(json.dumps(_perminov_doc()))):
        assert s.verify().ring == "ZT"


def test_alphatensor_object_layout_and_non_square_c():
    items = alphatensor.parse_many(_npz_bytes({"2,3,4": _alphatensor_standard(2, 3, 4),
                                               "3,2,2": _alphatensor_standard(3, 2, 2)}))
    assert [k for k, _ in items] == ["2,3,4", "3,2,2"]
    # the same products as the schoolbook algorithm, in another order
    assert canonical_key(items[0][1]) == canonical_key(Scheme.standard((2, 3, 4)))
    assert canonical_key(items[1][1]) == canonical_key(Scheme.standard((3, 2, 2)))
    for _, s in items:
        assert s.verify().ring == "ZT"


def test_alphatensor_halves_are_exact_and_floats_for_irrationals_are_invalid(strassen):
    # scale product 1 by 1/2 in u and by 2 in w: still Strassen, stored with float halves
    u = np.array(STRASSEN["W_a"], float).T
    w = np.array(STRASSEN_W_CT, float).T
    u[:, 0] *= 0.5
    w[:, 0] *= 2
    [(_, s)] = alphatensor.parse_many(_npz_bytes({"2,2,2": np.stack([u, np.array(STRASSEN["W_b"], float).T, w])}))
    assert s.verify().ring == "Q" and s.W_a.dtype == object and canonical_key(s) == canonical_key(strassen)
    # sqrt(2) * sqrt(2) is not 2 in floating point, let alone exactly
    u[:, 0] = np.array(STRASSEN["W_a"][0]) * np.sqrt(2)
    w[:, 0] = np.array(STRASSEN_W_CT[0]) * np.sqrt(2)
    [(_, s)] = alphatensor.parse_many(_npz_bytes({"2,2,2": np.stack([u, np.array(STRASSEN["W_b"], float).T, w])}))
    # the float stand-ins are exact dyadic rationals; this pair happens to satisfy the equations mod 3
    # (s^2 - 1 has a numerator divisible by 3), so the ring is Z3: valid only modulo 3, never over Z or Q
    assert s.verify().ring == "Z3" and not s.verify().ok


def test_c_transposition_matters(strassen):
    """Reading a C^T-indexed factor as if it indexed C must break Strassen (so the tests can catch mix-ups)."""
    w_as_c = [[row[0], row[2], row[1], row[3]] for row in STRASSEN_W_CT]  # transpose each 2x2 C-part
    assert perminov.parse(json.dumps(_perminov_doc(w=w_as_c))).verify().ring == "invalid"
    swapped = STRASSEN_EXP.replace("c12", "cXX").replace("c21", "c12").replace("cXX", "c21")
    assert exp_format.parse(swapped).verify().ring == "invalid"


# ---- round trips through every writer and reader -----------------------------------------------------
def _dump_parse(fmt, scheme):
    mod = FORMATS[fmt]
    data = mod.dump(scheme)
    items = mod.parse_many(data, source=f"<{fmt}>")
    assert len(items) == 1
    return items[0]


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_round_trip(fmt, name):
    scheme = SCHEMES[name]()
    key, back = _dump_parse(fmt, scheme)
    assert back == scheme
    assert key == (",".join(map(str, scheme.shape)) if fmt == "npz" else None)
    assert back.verify().ring == scheme.verify().ring


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_round_trip_rationals(fmt):
    s = Scheme((1, 1, 1), [["1/2"]], [[2]], [[1]]) if fmt != "npz" else Scheme((1, 1, 1), [["1/8"]], [[8]], [[1]])
    assert s.verify().ring == "Q"
    assert _dump_parse(fmt, s)[1] == s


def test_npz_refuses_thirds():
    with pytest.raises(FormatError, match="exactly as a float"):
        alphatensor.dump(Scheme((1, 1, 1), [["1/3"]], [[3]], [[1]]))


@pytest.mark.parametrize("fmt", ["exp", "m", "perminov", "json", "bb"])
def test_crlf_line_endings(fmt, laderman):
    data = FORMATS[fmt].dump(laderman).replace("\n", "\r\n").encode()
    assert FORMATS[fmt].parse_many(data)[0][1] == laderman


def test_sms_crlf(strassen):
    parts = {k: v.replace("\n", "\r\n").encode() for k, v in plinopt.dump(strassen).items()}
    assert plinopt.parse_many(parts)[0][1] == strassen


def test_exp_tolerates_the_usual_spellings(strassen):
    s = exp_format.parse(STRASSEN_EXP_TOLERANT.replace("\n", "\r\n"))
    assert s.verify().ok
    assert canonical_key(s) == canonical_key(strassen)  # the same products up to scalings inside each


def test_exp_letter_wise_fallback_for_ungrouped_lines(strassen):
    """Public files contain lines such as ``(A) -b13 (C))``; each same-letter run is one factor there."""
    text = STRASSEN_EXP.replace("(a11+a12)*(b22)*(c21-c11)", "(a11 + a12) -b22 (-c21 + c11))")
    s = exp_format.parse(text)
    assert canonical_key(s) == canonical_key(strassen) and s.provenance["lines_read_letter_wise"] == [5]
    for bad in ("(a11+b12)*b11*c11", "(a11) b11 (c11) a12", "(a11) b11 (c11) /3 x", "(a11 (b11) c11"):
        with pytest.raises(FormatError):
            exp_format.parse(bad)


def test_exp_wide_indices_round_trip():
    s = Scheme.standard((1, 10, 1))
    text = exp_format.dump(s)
    assert "a1_10" in text and exp_format.parse(text) == s


# ---- the dispatcher: suffixes, keys, content, save/load -------------------------------------------------
@pytest.mark.parametrize("fmt, name", [("json", "s.json"), ("perminov", "p.json"), ("npz", "s.npz"),
                                       ("exp", "s.exp"), ("m", "s.m"), ("bb", "s.bb"), ("sms", "s.sms")])
def test_save_load_by_suffix(tmp_path, fmt, name, laderman):
    save(laderman, tmp_path / name, fmt if fmt == "perminov" else None)
    assert load(tmp_path / name) == laderman


def test_sms_triple_names(tmp_path, strassen):
    written = save(strassen, tmp_path / "X_L.sms")
    assert written == tmp_path / "X_L.sms"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["X_L.sms", "X_P.sms", "X_R.sms"]
    for name in ("X_L.sms", "X_P.sms", "X.sms", "X"):
        assert load(tmp_path / name) == strassen
    (tmp_path / "X_P.sms").unlink()
    with pytest.raises(FormatError, match="X_P.sms"):
        load(tmp_path / "X.sms")


@pytest.mark.parametrize("fmt, name", [("exp", "k.txt"), ("exp", "k"), ("bb", "grey222-7-36"), ("bb", "f.txt"),
                                       ("m", "f.txt"), ("perminov", "f.txt"), ("json", "f"), ("npz", "f.dat")])
def test_content_sniffing(tmp_path, fmt, name, winograd):
    data = FORMATS[fmt].dump(winograd)
    p = tmp_path / name
    (p.write_bytes if isinstance(data, bytes) else p.write_text)(data)
    assert detect_format(p.read_bytes()) == fmt
    assert load(p) == winograd


def test_json_flavours_told_apart_by_keys(tmp_path, strassen):
    (tmp_path / "theirs.json").write_text(json.dumps(_perminov_doc()))
    save(strassen, tmp_path / "ours.json")
    assert load(tmp_path / "theirs.json") == strassen == load(tmp_path / "ours.json")


def test_unknown_content_and_format(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("hello world\n")
    with pytest.raises(FormatError, match="cannot tell the format"):
        load(p)
    with pytest.raises(FormatError, match="unknown format"):
        load(p, "xml")


def test_save_refuses_invalid_and_z2_where_it_cannot_say_so(tmp_path):
    d = {k: [list(r) for r in v] for k, v in STRASSEN.items()}
    d["W_c"][0][4] = 1  # -m5 -> +m5: valid modulo 2 only
    z2 = Scheme((2, 2, 2), **d)
    assert z2.verify().ring == "Z2"
    for name in ("z.exp", "z.npz", "z.m", "z.bb", "z.sms"):
        with pytest.raises(VerificationError, match="modulo 2"):
            save(z2, tmp_path / name)
    assert not any(tmp_path.iterdir())
    assert load(save(z2, tmp_path / "z.json")).verify().ring == "Z2"
    p = save(z2, tmp_path / "p.json", "perminov")
    assert json.loads(p.read_text())["z2"] is True and load(p).verify().ring == "Z2"
    d["W_c"][0][4] = 0
    with pytest.raises(VerificationError):
        save(Scheme((2, 2, 2), **d), tmp_path / "bad.exp")


def test_npz_archive_holds_many(tmp_path, strassen, laderman):
    p = tmp_path / "many.npz"
    save_all([(None, strassen), (None, laderman), ("x", Scheme.standard((2, 3, 4)))], p)
    items = load_all(p)
    assert [k for k, _ in items] == ["2,2,2", "3,3,3", "x"]
    assert items[0][1] == strassen and items[1][1] == laderman
    with pytest.raises(FormatError, match="holds one scheme"):
        save_all(items, tmp_path / "many.exp")


# ---- malformed input: one clear line, never a traceback --------------------------------------------------
def _evil_npz() -> bytes:
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "|O", "fortran_order": False, "shape": (3,)})
        zf.writestr("2,2,2.npy", header.getvalue() + pickle.dumps(Evil()))
    return buf.getvalue()


BAD = [
    (exp_format, "(a11+b11)*b11*c11\n", "mixes"),
    (exp_format, "a11*b11\n", "one a-, one b- and one c-factor"),
    (exp_format, "a11*b11*c11 + a12*b21*c11\n", "not one bilinear product"),
    (exp_format, "a111*b11*c11\n", "ambiguous"),
    (exp_format, "(a11*b11*c11\n", "missing ')'"),
    (exp_format, "a11*b11*c11/0\n", "division by zero"),
    (exp_format, "a11*b11*c11 ?\n", "unexpected character"),
    (exp_format, "\n\n", "no product lines"),
    (maple, "{{{{1}}, {{1}}}}", "three matrices"),
    (maple, "{{{{1, 2}, {3}}, {{1}}, {{1}}}}", "ragged"),
    (maple, "{{{{1}}, {{1}}, {{1}}}", "not closed"),
    (maple, "{{{{1 2}}, {{1}}, {{1}}}}", "missing ','"),
    (maple, "{{{{1/0}}, {{1}}, {{1}}}}", "not an exact number"),
    (perminov, json.dumps(_perminov_doc(m=8)), "declared rank 8"),
    (perminov, json.dumps({"n": [2, 2, 2], "m": 7, "u": []}), "missing required key"),
    (perminov, json.dumps(_perminov_doc(u=[[1, 0, 0]] + STRASSEN["W_a"][1:])), "expected 4"),
    (perminov, json.dumps(_perminov_doc(n=[2, 2])), "shape"),
    (perminov, json.dumps(_perminov_doc()).replace("[1, 0, 0, 1]", "[1, 0, 0, NaN]", 1), "NaN"),
    (perminov, json.dumps(_perminov_doc()).replace("[1, 0, 0, 1]", "[1, 0, 0, true]", 1), "boolean"),
    (perminov, json.dumps(_perminov_doc()).replace("[1, 0, 0, 1]", "[1, 0, 0, 0.5]", 1), "non-integer float"),
    (perminov, json.dumps(_perminov_doc()).replace("[1, 0, 0, 1]", '[1, 0, 0, "x/2"]', 1), "'p/q'"),
    (perminov, json.dumps({**_perminov_doc(), "u_fresh": []}), "not supported"),
    (benson_ballard, "1 0\n#\n1 0\n", "three numeric blocks"),
    (benson_ballard, "1 0\n#\n1 0\n#\n1\n", "columns"),
    (benson_ballard, "1 0 1\n1 1 1\n#\n1 0 1\n#\n1 0 1\n", "do not belong"),
    (benson_ballard, "1 x\n#\n1 0\n#\n1 0\n", "not an integer"),
    (alphatensor, b"not a zip", "not an .npz"),
    (alphatensor, "text", "binary"),
    (alphatensor, _npz_bytes({"2,2,2": np.zeros((3, 4, 7)) + np.nan}), "NaN"),
    (alphatensor, _npz_bytes({"2,2,2": np.zeros((3, 5, 7))}), "do not fit"),
    (alphatensor, _npz_bytes({"2,2,2": np.zeros((2, 4, 7))}), "three factors"),
    (alphatensor, _evil_npz(), "refusing to load"),
]


@pytest.mark.parametrize("module, data, fragment", BAD)
def test_malformed_is_one_clear_line(module, data, fragment):
    with pytest.raises(FormatError) as e:
        module.parse_many(data, source="f")
    msg = str(e.value)
    assert fragment in msg and "\n" not in msg


@pytest.mark.parametrize("L, R, P, fragment", [
    ("2 1 R\n1 1 1\n", "1 1 R\n1 1 1\n0 0 0\n", "1 2 R\n1 1 1\n0 0 0\n", "closing '0 0 0'"),
    ("1 1 R\n2 1 1\n0 0 0\n", "1 1 R\n1 1 1\n0 0 0\n", "1 1 R\n1 1 1\n0 0 0\n", "outside"),
    ("x y R\n0 0 0\n", "1 1 R\n0 0 0\n", "1 1 R\n0 0 0\n", "header"),
    ("1 1 R\n1 1 1\n1 1 2\n0 0 0\n", "1 1 R\n1 1 1\n0 0 0\n", "1 1 R\n1 1 1\n0 0 0\n", "twice"),
    ("2 1 R\n1 1 1\n0 0 0\n", "1 1 R\n1 1 1\n0 0 0\n", "1 1 R\n1 1 1\n0 0 0\n", "rank"),
])
def test_sms_malformed(L, R, P, fragment):
    with pytest.raises(FormatError) as e:
        plinopt.parse_triple(L, R, P, source="f")
    assert fragment in str(e.value) and "\n" not in str(e.value)


# our JSON, every malformed case of the core issue, through the CLI: exit 2 and one line
_OURS = {"format": "algodiscover.scheme/1", "shape": [2, 2, 2], "rank": 7, **STRASSEN}
_C0 = "[1, 0, 0, 1, -1, 0, 1]"


@pytest.mark.parametrize("text, fragment", [
    (json.dumps({k: v for k, v in _OURS.items() if k != "W_c"}), "missing required key"),
    (json.dumps({**_OURS, "W_a": STRASSEN["W_a"][:6] + [[1, 0]]}), "ragged"),
    (json.dumps({**_OURS, "rank": 6}), "declared rank 6"),
    (json.dumps(_OURS).replace(_C0, "[1, 0, 0, 1, -1, 0, NaN]"), "NaN"),
    (json.dumps(_OURS).replace(_C0, "[1, 0, 0, 1, -1, 0, Infinity]"), "Infinity"),
    (json.dumps(_OURS).replace(_C0, "[1, 0, 0, 1, -1, 0, false]"), "boolean"),
    (json.dumps(_OURS).replace(_C0, "[1, 0, 0, 1, -1, 0, 0.25]"), "non-integer float"),
    (json.dumps(_OURS).replace(_C0, '[1, 0, 0, 1, -1, 0, "1/x"]'), "'p/q'"),
], ids=["missing-key", "ragged", "rank-mismatch", "nan", "infinity", "boolean", "float", "bad-p/q"])
def test_cli_rejects_malformed_json_in_one_line(tmp_path, text, fragment):
    p = tmp_path / "bad.json"
    p.write_text(text)
    for cmd in (("verify", str(p), "--json"), ("convert", str(p), str(tmp_path / "out.exp"))):
        r = run_cli(*cmd)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert r.returncode == 2 and len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
        assert fragment in lines[0] and r.stdout == ""
    assert not (tmp_path / "out.exp").exists()


# ---- the CLI: convert and verify --json ----------------------------------------------------------------
def test_cli_convert_round_trip_and_refusals(tmp_path, laderman):
    src = save(laderman, tmp_path / "l.json")
    for out, extra in (("l.exp", ()), ("l.m", ()), ("l.npz", ()), ("l_L.sms", ()), ("l", ("--to", "bb")),
                       ("p.json", ("--to", "perminov"))):
        run = run_cli if out == "l.exp" else run_cli_here  # one real subprocess per command, the rest in-process
        r = run("convert", str(src), str(tmp_path / out), *extra)
        assert r.returncode == 0, r.stderr
        back = run("verify", str(tmp_path / out), "--json")
        assert back.returncode == 0, back.stderr
        obj = json.loads(back.stdout)
        assert obj["shape"] == [3, 3, 3] and obj["rank"] == 23 and obj["ring"] == "ZT"
        assert ("key" in obj) == out.endswith(".npz")
    d = json.loads(src.read_text())
    d["W_c"][0][13] = -1  # Laderman's c11 = m6 + m14 + m19: flipping a sign makes it Z2 only
    (tmp_path / "z2.json").write_text(json.dumps(d))
    r = run_cli("convert", str(tmp_path / "z2.json"), str(tmp_path / "z2.exp"))
    assert r.returncode == 1 and "modulo 2" in r.stderr and not (tmp_path / "z2.exp").exists()
    assert run_cli_here("convert", str(tmp_path / "z2.json"), str(tmp_path / "z2b.json")).returncode == 0
    d["W_c"][0][13] = 0
    (tmp_path / "bad.json").write_text(json.dumps(d))
    r = run_cli_here("convert", str(tmp_path / "bad.json"), str(tmp_path / "bad.json2"), "--to", "json")
    assert r.returncode == 1 and "invalid" in r.stderr and not (tmp_path / "bad.json2").exists()


def test_cli_verify_json_keys_for_archives(tmp_path, strassen):
    p = tmp_path / "a.npz"
    save_all([(None, strassen), ("weird key", Scheme.standard((2, 3, 4)))], p)
    r = run_cli("verify", str(p), "--json")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert lines == [{"shape": [2, 2, 2], "rank": 7, "ring": "ZT", "key": "2,2,2"},
                     {"shape": [2, 3, 4], "rank": 24, "ring": "ZT", "key": "weird key"}]
    r = run_cli("convert", str(p), str(tmp_path / "one.exp"), "--key", "2,2,2")
    assert r.returncode == 0 and load(tmp_path / "one.exp") == strassen
    r = run_cli("convert", str(p), str(tmp_path / "two.exp"))
    assert r.returncode == 2 and "holds one scheme" in r.stderr


def test_cli_irrational_stand_ins_are_invalid_not_unreadable(tmp_path):
    """Decimals standing for 1/sqrt(2) are read exactly as the decimals they are, and fail."""
    W_a = [list(r) for r in STRASSEN["W_a"]]
    W_c = [list(r) for r in STRASSEN["W_c"]]
    W_a[0] = ["0.7071067811865476" if x else 0 for x in W_a[0]]
    for row in W_c:
        row[0] = "1.414213562373095" if row[0] else 0
    p = tmp_path / "irrational"
    p.write_text(_bb_text(W_a, STRASSEN["W_b"], W_c))
    r = run_cli("verify", str(p), "--json")
    # these decimals a, c have a*c - 1 with a numerator divisible by 3: valid only modulo 3 (Z3), exit 1
    assert r.returncode == 1 and json.loads(r.stdout)["ring"] == "Z3"
    assert "expected 1" in r.stderr


def test_cli_verify_invalid_entry_on_stderr(tmp_path):
    u = np.array(STRASSEN["W_a"]).T
    v = np.array(STRASSEN["W_b"]).T
    w = np.array(STRASSEN_W_CT).T.copy()
    good = np.stack([u, v, w])
    w[0, 0] = 0
    p = tmp_path / "mixed.npz"
    p.write_bytes(_npz_bytes({"2,2,2": good, "bad": np.stack([u, v, w])}))
    r = run_cli("verify", str(p), "--json")
    assert r.returncode == 1
    rings = [json.loads(x)["ring"] for x in r.stdout.splitlines()]
    assert rings == ["ZT", "invalid"]
    assert "[bad]" in r.stderr and "[2,2,2]" not in r.stderr


# ---- damaged files: a FormatError (one line) or a scheme, never another exception -------------------
_DAMAGE = st.lists(st.tuples(st.floats(0, 1), st.sampled_from(list("0123456789-+/.,{}()[]#abcnR\n\" e:\x00")
                                                               + ["1/0", "NaN", "true", "a99", "1e400"])),
                   min_size=1, max_size=4)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(damage=_DAMAGE, cut=st.floats(0, 1))
def test_damaged_input_never_crashes(fmt, damage, cut):
    scheme = Scheme.standard((2, 3, 2)) if fmt == "npz" else Scheme((2, 2, 2), **STRASSEN)
    data = FORMATS[fmt].dump(scheme)
    part = "LRP"[int(cut * 2.99)] if fmt == "sms" else None
    blob = bytearray((data[part] if part else data).encode() if not isinstance(data, bytes) else data)
    for where, text in damage:
        i = int(where * len(blob))
        blob[i:i + (1 if where < 0.5 else 0)] = text.encode()
    if cut > 0.8:
        blob = blob[: int(len(blob) * (cut - 0.8) * 5)]
    payload = {**data, part: bytes(blob)} if part else bytes(blob)
    try:
        FORMATS[fmt].parse_many(payload, source="f")
    except FormatError as e:
        assert "\n" not in str(e)
