"""Watermark removal: a denoising autoencoder trained to erase semi-transparent marks.

Every training batch gets fresh random watermarks from :mod:`npae.watermark` (the text
"npae" or a stroked ring / box / line / cross, at a random place, blended with opacity
``alpha`` and ink ``c``: ``x_tilde = (1 - alpha m) x + alpha m c``), and the autoencoder learns
to map the marked image back to the clean one. This is a denoising autoencoder whose noise is
structured: the model below is an :class:`npae.DenoisingAutoencoder` whose corruption hook
``_corrupt`` draws a watermark instead of Gaussian noise (the gradient is the plain
autoencoder's with ``x_tilde`` at the encoder's input and ``x`` as the target).

Two choices make it work on any MNIST-format images, not only digits:

- **a gated skip path**: the decoder outputs two images, a gate ``g`` and a content ``y``
  (through sigmoids), and the output is ``x_hat = g * x_tilde + (1 - g) * y``. Where the input
  is clean the model learns ``g ~ 1`` and copies it, detail and all; under the mark ``g ~ 0``
  and ``y`` paints what the mark hid. The 64-number code only has to say where the mark is and
  roughly what lies beneath, not every serif or texture of the image: a plain bottleneck
  (``--plain``, ``x_hat = decoder(encoder(x_tilde))``) is enough for digits, but on letters it
  recovers far less of the image than the gated path (docs/13-applications.md gives the
  measured figures). The gate starts open
  (bias 2: ``g = 0.88``), so training begins near "copy the input".
- **ink that shows**: white ink is invisible on a white background (``x = 1`` stays 1), so the
  ink is the opposite of the training images' median pixel (white on dark images, black on light
  ones).

The test images get their own marks (a separate seed, never seen in training); PSNR and
SSIM (``npae.metrics``) against the clean images are reported before and after removal, over
the images their mark changed (a mark that falls on pixels already of the ink's colour changes
nothing, and a PSNR of identical images is infinite). Derivation: ``docs/13-applications.md``.

Run::

    python examples/watermark_removal.py --data-dir /path/to/mnist   # or set NPAE_DATA_DIR

Writes ``watermark_removal.png`` (marked / cleaned / clean) and ``metrics.json`` to ``--out``
(default ``npae-out/watermark_removal``).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from npae import Autoencoder, DenoisingAutoencoder
from npae.layers.activations import sigmoid
from npae.losses import RECONSTRUCTION_LOSSES
from npae.metrics import mean_squared_error, psnr, ssim
from npae.models.autoencoder import mlp
from npae.optim import Adam
from npae.plotting import image_grid, write_metrics
from npae.scripts import argument_type, epochs_for, example_parser, load_mnist_or_exit
from npae.watermark import KINDS, add_watermark


class WatermarkRemover(DenoisingAutoencoder):
    r"""A denoising autoencoder whose corruption is a random watermark, with a gated skip path.

    .. math::
        \tilde x = (1 - \alpha m)\, x + \alpha m\, c, \qquad [a, b] = f_{dec}(f_{enc}(\tilde x)), \qquad
        g = \sigma(a), \quad y = \sigma(b), \qquad \hat x = g \odot \tilde x + (1 - g) \odot y

    Backward, from ``dx_hat = dL/dx_hat`` (the noise is a constant, as in every DAE):

    .. math::
        da = dx\_hat \odot (\tilde x - y) \odot g (1 - g), \qquad
        db = dx\_hat \odot (1 - g) \odot y (1 - y)

    With ``gated=False`` it is the plain DAE: ``x_hat = sigmoid(f_dec(f_enc(x_tilde)))``.
    """

    def __init__(self, sizes=(784, 256, 64), kind: str = "text", opacity: float = 0.5, ink: float = 1.0,
                 gated: bool = True, random_state=None, dtype=np.float32) -> None:
        self.kind, self.opacity, self.ink, self.gated = kind, opacity, ink, gated  # save reads these back
        super().__init__(sizes, activation="relu", output_activation="sigmoid", loss="mse",
                         random_state=random_state, dtype=dtype)
        if gated:  # the decoder ends in 2 * 784 logits [a, b] instead of 784 pixels
            D, rng = self.sizes[0], np.random.default_rng(random_state)
            self.decoder = mlp(self.sizes[::-1][:-1] + (2 * D,), "relu", None, rng, self.dtype)
            self.decoder.layers[-1].params["b"][:D] = 2.0  # the gate starts open: g = sigmoid(2) = 0.88

    def watermark(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """``X`` (N, 784) with one fresh random mark per image, same shape and dtype."""
        images = X.reshape(-1, 28, 28)  # (N, 28, 28)
        marked, _ = add_watermark(images, rng, self.kind, self.opacity, self.ink)  # (N, 28, 28)
        return marked.reshape(X.shape)

    def _corrupt(self, X, rng):
        """The DAE's corruption hook, called on every training batch: the encoder sees the marked image."""
        return self.watermark(X, rng)

    def _gate(self, X_tilde: np.ndarray, out: np.ndarray):
        """``g``, ``y`` and ``x_hat = g * x_tilde + (1 - g) * y`` from the decoder's ``out = [a, b]``."""
        D = X_tilde.shape[1]
        g, y = sigmoid(out[:, :D]), sigmoid(out[:, D:])  # (N, 784) each
        return g, y, g * X_tilde + (1 - g) * y

    def _forward_backward(self, X, rng):
        if not self.gated:
            return super()._forward_backward(X, rng)
        # 1. corrupt, 2. forward: the gate, the content and their blend
        X_tilde = self._corrupt(X, rng)
        out = self.decoder.forward(self.encoder.forward(X_tilde, rng), rng)  # (N, 2 * 784)
        g, y, x_hat = self._gate(X_tilde, out)
        # 3. the loss against the clean X
        rec, dx_hat = RECONSTRUCTION_LOSSES[self.loss](x_hat, X)
        # 4. backward through the blend and the two sigmoids, then the decoder and the encoder
        da = dx_hat * (X_tilde - y) * g * (1 - g)
        db = dx_hat * (1 - g) * y * (1 - y)
        dh = self.decoder.backward(np.concatenate([da, db], axis=1))
        self.encoder.backward(dh, input_grad=False)
        return {"reconstruction": rec}

    def reconstruct(self, X) -> np.ndarray:
        """The cleaned images ``x_hat`` for the marked rows ``X`` (N, 784)."""
        if not self.gated:
            return super().reconstruct(X)
        X = self._check_X(X)
        out = self._batched(self.decoder, self._batched(self.encoder, X))  # (N, 2 * 784)
        return self._gate(X, out)[2]

    def score(self, X) -> float:
        """Mean squared error of the model's output for ``X`` against ``X`` (as ``fit``'s validation)."""
        X = self.check_batch(X)
        return mean_squared_error(X, self.reconstruct(X))

    def __repr__(self) -> str:  # the network and the gate: the DAE's noise settings are not used here
        return Autoencoder.__repr__(self)[:-1] + f", gated={self.gated})"


def main(argv: list[str] | None = None) -> dict:
    parser = example_parser(__doc__, "watermark_removal", steps=2500,
                            formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--kind", choices=KINDS, default="text", help="what the watermarks are")
    parser.add_argument("--opacity", type=argument_type(float, lambda v: 0 < v <= 1, "a number > 0 and <= 1"),
                        default=0.5, help="alpha of the blend (0 would add no watermark)")
    parser.add_argument("--plain", dest="gated", action="store_false",
                        help="no skip path: the output is decoder(encoder(x_tilde))")
    args = parser.parse_args(argv)
    X_train, _, X_test, _, source = load_mnist_or_exit(parser, args)
    epochs = epochs_for(args.steps, len(X_train), 64)  # 20 on 8,000 images
    ink = 0.0 if np.median(X_train) > 0.5 else 1.0  # the opposite of the background, so the mark shows
    print(f"ink {ink:g} ({'black on light' if ink == 0 else 'white on dark'} images)")

    model = WatermarkRemover((784, 256, 64), args.kind, args.opacity, ink, args.gated, random_state=args.seed)
    start = time.perf_counter()
    model.fit(X_train, epochs=epochs, batch_size=64, optimizer=Adam(1e-3))
    print(f"trained {model!r} on {args.kind} watermarks, opacity {args.opacity}, {epochs} epochs, "
          f"{args.steps} updates ({time.perf_counter() - start:.0f}s)")

    # Held-out images with held-out marks (their own generator), scored where the mark changed something.
    marked = model.watermark(X_test, np.random.default_rng(args.seed + 12345))
    changed = np.any(marked != X_test, axis=1)  # (N,)
    cleaned = model.reconstruct(marked[changed])
    clean, marked_images = X_test[changed].reshape(-1, 28, 28), marked[changed].reshape(-1, 28, 28)
    before = {"psnr_db": psnr(marked_images, clean), "ssim": ssim(marked_images, clean)}
    cleaned_images = cleaned.reshape(-1, 28, 28)  # (n_changed, 28, 28)
    after = {"psnr_db": psnr(cleaned_images, clean), "ssim": ssim(cleaned_images, clean)}
    print(f"test set, {changed.sum()} of {len(X_test)} images changed by their mark: "
          f"PSNR {before['psnr_db']:.2f} -> {after['psnr_db']:.2f} dB, "
          f"SSIM {before['ssim']:.3f} -> {after['ssim']:.3f}")

    show = slice(0, 12)
    image_grid({"marked": marked[changed][show], "cleaned": cleaned[show], "clean": X_test[changed][show]},
               os.path.join(args.out, "watermark_removal.png"),
               title=f"Watermark removal: PSNR {before['psnr_db']:.1f} -> {after['psnr_db']:.1f} dB, "
                     f"SSIM {before['ssim']:.2f} -> {after['ssim']:.2f} (held-out images and marks)")
    metrics = {"data": source, "kind": args.kind, "opacity": args.opacity, "ink": ink, "gated": args.gated,
               "steps": args.steps, "epochs": epochs, "n_test": len(X_test), "n_changed": int(changed.sum()),
               "before": before, "after": after}
    write_metrics(args.out, metrics)
    print(f"figure and metrics.json written to {args.out}")
    return metrics


if __name__ == "__main__":
    main()
