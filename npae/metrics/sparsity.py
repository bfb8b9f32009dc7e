r"""Sparsity statistics of a code ``h`` (N, J). Definitions: ``docs/08-metrics.md``.

- :func:`mean_activation`: ``rho_hat_j = (1/N) sum_n h_nj`` per unit (what the KL sparsity
  penalty pushes towards ``rho``);
- :func:`fraction_active`: the fraction of entries ``h_nj > threshold`` (how many units an
  example uses, on average, divided by J);
- :func:`saturation_fraction`: the fraction of entries within ``margin`` of either end of a
  bounded activation's range (a saturated sigmoid unit has ``f'`` near 0: the contractive
  penalty produces many of them);
- :func:`dead_units`: units never above ``threshold`` on the data.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_array, check_float


def _codes(h) -> np.ndarray:
    return check_array(h, "h", ndim=2, dtype=np.float64)


def mean_activation(h) -> np.ndarray:
    """Per-unit mean activation ``rho_hat``, shape (J,)."""
    return _codes(h).mean(axis=0)


def fraction_active(h, threshold: float = 0.1) -> float:
    """Fraction of the entries of ``h`` (N, J) strictly above ``threshold``."""
    threshold = check_float(threshold, "threshold")
    return float(np.mean(_codes(h) > threshold))


def saturation_fraction(h, low: float = 0.0, high: float = 1.0, margin: float = 0.05) -> float:
    """Fraction of the entries of ``h`` within ``margin`` of ``low`` or ``high`` (a sigmoid's 0 and 1)."""
    low, high = check_float(low, "low"), check_float(high, "high")
    if not low < high:
        raise ValueError(f"low must be < high, got low={low:g}, high={high:g}")
    margin = check_float(margin, "margin", 0.0, (high - low) / 2)
    h = _codes(h)
    return float(np.mean((h <= low + margin) | (h >= high - margin)))


def dead_units(h, threshold: float = 0.1) -> np.ndarray:
    """Indices of the units never above ``threshold`` on any example, shape (n_dead,)."""
    threshold = check_float(threshold, "threshold")
    return np.flatnonzero(~(_codes(h) > threshold).any(axis=0))


def sparsity_stats(h, threshold: float = 0.1) -> dict[str, float]:
    """Summary: mean activation (over units), its min/max, fraction active, number of dead units."""
    rho_hat = mean_activation(h)
    return {"mean_activation": float(rho_hat.mean()), "min_unit_mean": float(rho_hat.min()),
            "max_unit_mean": float(rho_hat.max()), "fraction_active": fraction_active(h, threshold),
            "dead_units": int(dead_units(h, threshold).size)}


__all__ = ["dead_units", "fraction_active", "mean_activation", "saturation_fraction", "sparsity_stats"]
