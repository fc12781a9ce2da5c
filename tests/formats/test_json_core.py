import json

import pytest

from algodiscover import Scheme, load, save
from algodiscover.errors import FormatError, VerificationError
from algodiscover.formats import json_format
from tests.conftest import STRASSEN


def _doc(**over):
    d = {"format": "algodiscover.scheme/1", "shape": [2, 2, 2], "rank": 7, **STRASSEN}
    d.update(over)
    return d


def test_roundtrip(tmp_path, strassen, laderman):
    for s in (strassen, laderman):
        p = save(s.with_provenance(engine="test", seed=3), tmp_path / "s.json")
        back = load(p)
        assert back == s and back.verification.ring == "ZT"
        d = json.loads(p.read_text())
        assert d["metrics"]["additions_naive"] == s.additions_naive
        assert d["provenance"]["engine"] == "test" and "version" in d["provenance"]
        assert d["verification"]["ring"] == "ZT"


def test_rationals_written_as_p_over_q(tmp_path):
    s = Scheme((1, 1, 1), [["1/2"]], [[2]], [[1]])
    p = save(s, tmp_path / "q.json")
    assert json.loads(p.read_text())["W_a"] == [["1/2"]]
    assert load(p) == s


def test_invalid_scheme_is_never_saved(tmp_path):
    d = {k: [list(r) for r in v] for k, v in STRASSEN.items()}
    d["W_c"][0][6] = 0
    with pytest.raises(VerificationError):
        save(Scheme((2, 2, 2), **d), tmp_path / "bad.json")
    assert not (tmp_path / "bad.json").exists()


@pytest.mark.parametrize("text, fragment", [
    (json.dumps({k: v for k, v in _doc().items() if k != "W_b"}), "missing required key"),
    (json.dumps(_doc(rank=8)), "declared rank 8"),
    (json.dumps(_doc(W_a=[[1, 0, 0, 1]] * 6 + [[1, 0]])), "ragged"),
    (json.dumps(_doc()).replace("[1, 0, 0, 1, -1, 0, 1]", "[1, 0, 0, 1, -1, 0, NaN]"), "NaN"),
    (json.dumps(_doc()).replace("[1, 0, 0, 1, -1, 0, 1]", "[1, 0, 0, 1, -1, 0, Infinity]"), "Infinity"),
    (json.dumps(_doc()).replace("[1, 0, 0, 1, -1, 0, 1]", "[1, 0, 0, 1, -1, 0, true]"), "boolean"),
    (json.dumps(_doc()).replace("[1, 0, 0, 1, -1, 0, 1]", "[1, 0, 0, 1, -1, 0, 0.5]"), "non-integer float"),
    (json.dumps(_doc()).replace("[1, 0, 0, 1, -1, 0, 1]", '[1, 0, 0, 1, -1, 0, "one"]'), "'p/q'"),
    (json.dumps(_doc()).replace("[1, 0, 0, 1, -1, 0, 1]", '[1, 0, 0, 1, -1, 0, "1/0"]'), "zero denominator"),
    (json.dumps(_doc(shape=[2, 2])), "shape"),
    (json.dumps(_doc(format="other/1")), "format"),
    ("{not json", "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
])
def test_malformed_is_rejected_clearly(text, fragment):
    with pytest.raises(FormatError) as e:
        json_format.parse(text, source="f.json")
    msg = str(e.value)
    assert fragment in msg and "\n" not in msg


def test_integral_floats_are_accepted():
    text = json.dumps(_doc()).replace("[1, 0, 0, 1, -1, 0, 1]", "[1.0, 0, 0, 1, -1, 0, 1]")
    assert json_format.parse(text).verify().ring == "ZT"


def test_missing_file(tmp_path):
    with pytest.raises(FormatError, match="no such file"):
        load(tmp_path / "nope.json")
