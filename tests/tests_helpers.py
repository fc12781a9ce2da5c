"""Helpers importable from tests (the conftest fixtures as plain functions, for hypothesis tests)."""

from algodiscover import Scheme
from tests.conftest import LADERMAN, STRASSEN, WINOGRAD


def strassen_scheme() -> Scheme:
    return Scheme((2, 2, 2), **STRASSEN)


def winograd_scheme() -> Scheme:
    return Scheme((2, 2, 2), **WINOGRAD)


def laderman_scheme() -> Scheme:
    return Scheme((3, 3, 3), **LADERMAN)
