import pytest
from hypothesis import given, strategies as st

from algodiscover import Shape, parse_shape
from algodiscover.errors import AlgoDiscoverError, ShapeError


@pytest.mark.parametrize("text", ["2x2x3", "2,2,3", "2 2 3", "2X2X3", " 2 x 2 x 3 ", "2×2×3"])
def test_parse_variants(text):
    assert parse_shape(text) == Shape(2, 2, 3)


@pytest.mark.parametrize("text", ["2x2", "0x2x2", "axbxc", "-2x2x2", "2x2x2x2", "", "2.5x2x2", "2x-1x3"])
def test_malformed(text):
    with pytest.raises(ShapeError) as e:
        parse_shape(text)
    assert isinstance(e.value, ValueError) and isinstance(e.value, AlgoDiscoverError)
    assert "\n" not in str(e.value)


def test_sequence_and_properties():
    s = parse_shape((2, 3, 4))
    assert (s.a_size, s.b_size, s.c_size, s.naive_rank) == (6, 12, 8, 24)
    assert s.sorted() == Shape(2, 3, 4) and parse_shape("4x2x3").sorted() == Shape(2, 3, 4)
    assert str(s) == "2x3x4"
    with pytest.raises(ShapeError):
        parse_shape((2, True, 2))
    with pytest.raises(ShapeError):
        parse_shape((2, 2.0, 2))


@given(st.tuples(*[st.integers(1, 12)] * 3))
def test_roundtrip(dims):
    assert parse_shape("x".join(map(str, dims))) == Shape(*dims)
