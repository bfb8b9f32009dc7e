"""Draw docs/images/im2col.png: a 4x4 input, its four 3x3 windows and the 9x4 matrix im2col makes.

Run from the repository root: ``python docs/images/make_im2col.py``. Uses npae's own im2col, so
the picture shows what the code does.
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir))
from npae.layers.conv import im2col  # noqa: E402

x = np.arange(1, 17, dtype=float).reshape(4, 4)  # one image, one channel
cols = im2col(x[None, None], (3, 3), (1, 1), (2, 2))  # (C*kH*kW, N*H_out*W_out) = (9, 4)
colors = ["tab:red", "tab:blue", "tab:green", "tab:orange"]

fig, axes = plt.subplots(1, 3, figsize=(11, 4.2), gridspec_kw={"width_ratios": [4, 4, 2.6]})
ax = axes[0]
for (r, c), v in np.ndenumerate(x):
    ax.add_patch(Rectangle((c, 3 - r), 1, 1, fill=False, lw=0.8))
    ax.text(c + 0.5, 3.5 - r, f"{v:.0f}", ha="center", va="center", fontsize=12)
for k, (h, w) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):  # window k starts at row h, column w
    d = 0.06 * (k + 1)
    ax.add_patch(Rectangle((w + d, 1 - h + d), 3 - 2 * d, 3 - 2 * d, fill=False, lw=2.2, ec=colors[k]))
ax.set_title("input x (1 channel, 4x4)\nfour 3x3 windows, stride 1")
ax.set_xlim(-0.2, 4.2)
ax.set_ylim(-0.2, 4.2)

ax = axes[1]
for (r, c), v in np.ndenumerate(cols):
    ax.add_patch(Rectangle((c, 8 - r), 1, 1, fc=colors[c], alpha=0.25, ec="k", lw=0.6))
    ax.text(c + 0.5, 8.5 - r, f"{v:.0f}", ha="center", va="center", fontsize=11)
for r in range(9):
    ax.text(-0.15, 8.5 - r, f"(c=0, i={r // 3}, j={r % 3})", ha="right", va="center", fontsize=8)
ax.set_title("cols = im2col(x): (C*kH*kW, N*H_out*W_out) = (9, 4)\none column per window")
ax.set_xlim(-2.6, 4.2)
ax.set_ylim(-0.2, 9.2)

ax = axes[2]
ax.text(0.5, 0.62, r"$y = W_{(O,\,C k_H k_W)}\;\mathrm{cols} + b$", ha="center", fontsize=13)
ax.text(0.5, 0.47, "one GEMM for all windows\nof the whole batch", ha="center", fontsize=10)
ax.text(0.5, 0.22, "(O, 9) @ (9, 4) = (O, 4)\n-> reshape to (O, N, 2, 2)", ha="center", fontsize=10)
ax.set_xlim(0, 1)
ax.set_ylim(0, 1)
for ax in axes:
    ax.set_aspect("equal" if ax is not axes[2] else "auto")
    ax.axis("off")
fig.tight_layout()
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "im2col.png")
fig.savefig(out, dpi=110)
print(f"wrote {out}")
