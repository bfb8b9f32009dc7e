"""Learning-rate schedules against their closed forms."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples

from npae.schedules import CosineLR, StepLR, get_schedule


def test_step_lr_closed_form():
    s = StepLR(step_size=3, gamma=0.5)
    assert [s(e, 0.8, 10) for e in range(7)] == [0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2]


@examples(30)
@given(T=st.integers(1, 50), lr0=st.floats(1e-5, 1.0), lr_min=st.floats(0.0, 1e-5))
def test_cosine_lr_closed_form_endpoints_and_monotone(T, lr0, lr_min):
    s = CosineLR(T_max=T, min_lr=lr_min)
    lrs = [s(e, lr0, 1000) for e in range(T + 3)]
    assert lrs[0] == pytest.approx(lr0, rel=1e-12)
    assert lrs[T] == pytest.approx(lr_min, abs=1e-15) and lrs[T + 2] == lrs[T]  # flat after T_max
    assert all(a >= b - 1e-15 for a, b in zip(lrs[:-1], lrs[1:], strict=True))
    e = T // 2
    assert lrs[e] == pytest.approx(lr_min + 0.5 * (lr0 - lr_min) * (1 + math.cos(math.pi * e / T)), rel=1e-12)


def test_cosine_defaults_to_the_runs_length():
    s = CosineLR()
    assert s(0, 1.0, 4) == 1.0 and s(2, 1.0, 4) == pytest.approx(0.5) and s(4, 1.0, 4) == pytest.approx(0.0)


def test_names_and_bad_arguments():
    assert isinstance(get_schedule("cosine"), CosineLR) and isinstance(get_schedule("step"), StepLR)
    assert get_schedule(None) is None
    with pytest.raises(ValueError, match="schedule must be"):
        get_schedule("warmup")
    with pytest.raises(ValueError, match="step_size must be >= 1"):
        StepLR(0)
    with pytest.raises(TypeError, match="step_size must be an int"):
        StepLR(1.5)
    with pytest.raises(ValueError, match="gamma must be in"):
        StepLR(2, gamma=0.0)
    with pytest.raises(ValueError, match="T_max must be >= 1"):
        CosineLR(T_max=0)
    with pytest.raises(ValueError, match="min_lr must be in"):
        CosineLR(min_lr=-1.0)
