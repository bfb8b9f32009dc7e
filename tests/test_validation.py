"""The argument checks every public entry point relies on: right values pass through unchanged,
wrong ones raise ValueError/TypeError naming the argument, the expectation and what was given."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples

from npae._validation import (
    check_array,
    check_choice,
    check_dtype,
    check_float,
    check_int,
    check_path,
    check_random_state,
    check_same_shape,
)


# ---------------------------------------------------------------- check_random_state
def test_random_state():
    g = np.random.default_rng(0)
    assert check_random_state(g) is g  # a Generator is used as is (its stream advances)
    a, b = check_random_state(5), check_random_state(5)
    assert a.random() == b.random()  # an int seeds a fresh generator
    assert isinstance(check_random_state(None), np.random.Generator)
    assert check_random_state(np.int64(3)).random() == np.random.default_rng(3).random()
    with pytest.raises(ValueError, match="random_state must be a non-negative int, got -1"):
        check_random_state(-1)
    with pytest.raises(TypeError, match="seed must be None, an int or a np.random.Generator, got float"):
        check_random_state(1.0, "seed")
    with pytest.raises(TypeError, match="random_state"):
        check_random_state(True)
    with pytest.raises(TypeError, match="RandomState"):
        check_random_state(np.random.RandomState(0))  # the legacy global-state API is refused


# ---------------------------------------------------------------- check_dtype
def test_dtype():
    assert check_dtype(np.float32) == np.float32
    assert check_dtype("float64") == np.float64
    with pytest.raises(TypeError, match="dtype must be float32 or float64, got int32"):
        check_dtype(np.int32)
    with pytest.raises(TypeError, match="dtype must be float32 or float64, got float16"):
        check_dtype(np.float16)
    with pytest.raises(TypeError, match="my_dtype"):
        check_dtype("not-a-dtype", "my_dtype")


# ---------------------------------------------------------------- scalars
@examples(20)
@given(v=st.integers(-100, 100), lo=st.integers(-50, 50))
def test_int_bounds(v, lo):
    if v >= lo:
        assert check_int(v, "n", lo) == v
    else:
        with pytest.raises(ValueError, match=f"n must be >= {lo}, got {v}"):
            check_int(v, "n", lo)


def test_int_types():
    assert check_int(np.int32(4), "n") == 4 and type(check_int(np.int32(4), "n")) is int
    for bad in (True, 2.0, "3", None):
        with pytest.raises(TypeError, match="n must be an int"):
            check_int(bad, "n")


def test_float():
    assert check_float(1, "lr") == 1.0
    assert check_float(np.float32(0.5), "lr", 0.0, 1.0) == 0.5
    with pytest.raises(ValueError, match=r"lr must be in \(0, inf\], got 0"):
        check_float(0.0, "lr", 0.0, low_inclusive=False)
    with pytest.raises(ValueError, match=r"rho must be in \(0, 1\), got 1"):
        check_float(1.0, "rho", 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    assert check_float(1.0, "rho", 0.0, 1.0) == 1.0  # closed interval by default
    with pytest.raises(ValueError, match="beta must be finite"):
        check_float(float("nan"), "beta")
    with pytest.raises(ValueError, match="beta must be finite"):
        check_float(float("inf"), "beta")
    for bad in (True, "0.1", None, [0.1]):
        with pytest.raises(TypeError, match="beta must be a real number"):
            check_float(bad, "beta")


def test_choice():
    assert check_choice("kl", "sparsity", ("kl", "l1")) == "kl"
    with pytest.raises(ValueError, match=r"sparsity must be one of \['kl', 'l1'\], got 'KL'"):
        check_choice("KL", "sparsity", ("kl", "l1"))
    with pytest.raises(ValueError, match="sparsity"):
        check_choice(None, "sparsity", ("kl", "l1"))


# ---------------------------------------------------------------- arrays
def test_path(tmp_path):
    assert check_path("a/b", "data_dir") == Path("a/b")
    assert check_path(tmp_path, "data_dir") == tmp_path
    assert check_path(None, "data_dir", optional=True) is None
    with pytest.raises(TypeError, match=r"data_dir must be a str or an os.PathLike, got NoneType \(None\)"):
        check_path(None, "data_dir")
    with pytest.raises(TypeError, match="data_dir must be None, a str or an os.PathLike, got int"):
        check_path(3, "data_dir", optional=True)


def test_array_passes_good_input_without_copying():
    x = np.ones((3, 2), dtype=np.float32)
    assert check_array(x, "X") is x
    assert check_array(x, "X", dtype=np.float32) is x
    y = check_array([[1, 2], [3, 4]], "X", ndim=2, dtype=np.float64)
    assert y.dtype == np.float64 and y.shape == (2, 2)
    assert check_array(np.zeros(3, dtype=np.int64), "X").dtype == np.int64  # ints are numbers


def test_array_errors():
    with pytest.raises(ValueError, match=r"X must have 2 dimensions, got shape \(3,\)"):
        check_array(np.ones(3), "X", ndim=2)
    with pytest.raises(ValueError, match="X must have 2 or 4 dimensions"):
        check_array(np.ones((1, 1, 1)), "X", ndim=(2, 4))
    with pytest.raises(ValueError, match=r"X must have at least 2 sample\(s\), got shape \(1, 3\)"):
        check_array(np.ones((1, 3)), "X", min_samples=2)
    with pytest.raises(ValueError, match=r"X must be finite, got 2 NaN/Inf value\(s\)"):
        check_array(np.array([1.0, np.nan, np.inf]), "X")
    assert check_array(np.array([np.nan]), "X", finite=False).shape == (1,)
    with pytest.raises(ValueError, match=r"X must lie in \[0, 1\], got values in \[-0.5, 2\]"):
        check_array(np.array([-0.5, 0.5, 2.0]), "X", value_range=(0.0, 1.0))
    with pytest.raises(TypeError, match="X must hold real numbers, got an array of dtype <U1"):
        check_array(np.array(["a"]), "X")
    with pytest.raises(TypeError, match="X must hold real numbers"):
        check_array(np.array([1 + 2j]), "X")
    with pytest.raises(TypeError, match="X must hold real numbers"):
        check_array([object()], "X")
    with pytest.raises((TypeError, ValueError), match="X"):
        check_array([[1, 2], [3]], "X")  # ragged


def test_same_shape():
    check_same_shape(np.ones((2, 3)), np.zeros((2, 3)), "a", "b")
    msg = r"pred and target must have the same shape, got \(2, 3\) and \(3, 2\)"
    with pytest.raises(ValueError, match=msg):
        check_same_shape(np.ones((2, 3)), np.ones((3, 2)), "pred", "target")


def test_non_finite_values_raise_their_own_value_error_subclass():
    from npae._validation import NonFiniteError, check_array, check_float

    with pytest.raises(NonFiniteError, match="x must be finite"):
        check_array(np.array([1.0, np.nan]), "x")
    with pytest.raises(NonFiniteError, match="lr must be finite"):
        check_float(float("inf"), "lr")
    assert issubclass(NonFiniteError, ValueError)  # users catching ValueError still catch it
    with pytest.raises(ValueError) as info:  # other mistakes are not NonFiniteError
        check_array(np.ones((2, 3)), "x", ndim=1)
    assert not isinstance(info.value, NonFiniteError)
