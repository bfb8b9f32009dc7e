"""A small benchmark harness: npae against PyTorch, interleaved, in one run.

A *workload* is a named pair of callables, each running ONE training step (forward, backward,
optimiser update) on a fixed batch: one in npae and, optionally, the same network in PyTorch.
The harness

1. warms every callable up (first calls allocate buffers, fill caches, JIT nothing),
2. runs them in rounds, interleaved (npae, torch, npae, torch, ...), so that a change of load
   on the machine hits both frameworks alike,
   with an untimed pause after each block, so that one framework's idle worker threads
   (which spin for a while after the last call) do not steal the cores from the other,
3. reports, per workload, the median over rounds of samples/s for each framework, the ratio of
   those medians (npae / torch) and the median of the per-round ratios (the more robust figure
   on a shared machine).

PyTorch is optional: when it cannot be imported the torch column is skipped with a message.
Its thread count is set to the number of threads NumPy's BLAS uses, so the comparison is fair.

A run first prints what it runs on (:func:`describe`: CPU, NumPy's BLAS kernel and threads, PyTorch's
threads, the OpenBLAS and thread variables); with ``--json`` it also records that
(:func:`environment`; threadpoolctl is optional, ``blas`` is None without it), the load average
before and after, the date and the command line that repeats it (:func:`reproduce_command`).

Most benchmark scripts only define their two step builders and hand them to
:func:`main_for`, which parses the standard options, cuts the MNIST batches, runs (or
profiles) the workload and prints the final losses and the ratio against the target::

    def npae_step_fn(batches, seed): ...           # -> (step, state), state["loss"] the last loss
    def torch_step_fn(torch, batches, seed): ...   # the same network in PyTorch

    main_for(__doc__, "dense AE 784-256-32-256-784", "784-256-32-256-784 ...", npae_step_fn,
             torch_step_fn, target=0.8)

The pieces, for a script that needs something else::

    from harness import Workload, add_arguments, run, print_report, torch_or_none

    parser = argparse.ArgumentParser(...)
    add_arguments(parser)              # --quick, --rounds, --steps, --warmup, --no-torch, --json
    args = parser.parse_args()
    torch = torch_or_none(args)        # None when missing or --no-torch
    results = run([Workload("dense AE", npae_step, torch_step, samples=128)], args)
    print_report(results)

Nothing here is timed in the test suite: benchmarks are run by hand (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Step = Callable[[], Any]
#: ``(batches, seed) -> (step, state)``: a training step on the next batch and a dict whose
#: ``"loss"`` is the last step's loss.
NpaeStepFn = Callable[[list, int], tuple[Step, dict]]
#: ``(torch, batches, seed) -> (step, state)``: the same in PyTorch.
TorchStepFn = Callable[[Any, list, int], tuple[Step, dict]]

#: Environment variables that fix the number of BLAS threads NumPy uses, in priority order.
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")
#: The variables a run records (None when unset) and prefixes to its command: OpenBLAS's kernel
#: choice and cache size (some machines set them for old OpenBLAS builds), then the thread counts.
RECORDED_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")


@dataclass
class Workload:
    """One benchmark: ``npae()`` and ``torch()`` each run one step on ``samples`` examples."""

    name: str
    npae: Step
    torch: Step | None = None
    samples: int = 1


@dataclass
class Result:
    """Per-round throughputs (samples/s) of one workload and their summaries."""

    name: str
    npae: list[float] = field(default_factory=list)
    torch: list[float] = field(default_factory=list)

    @property
    def npae_median(self) -> float:
        return statistics.median(self.npae)

    @property
    def torch_median(self) -> float | None:
        return statistics.median(self.torch) if self.torch else None

    @property
    def ratio(self) -> float | None:
        """median(npae samples/s) / median(torch samples/s)."""
        t = self.torch_median
        return None if not t else self.npae_median / t

    @property
    def round_ratio(self) -> float | None:
        """Median over rounds of npae/torch measured in the same round."""
        if not self.torch:
            return None
        return statistics.median(a / b for a, b in zip(self.npae, self.torch, strict=True))

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "npae_samples_per_s": self.npae, "torch_samples_per_s": self.torch,
                "npae_median": self.npae_median, "torch_median": self.torch_median,
                "ratio_of_medians": self.ratio, "median_round_ratio": self.round_ratio}


def numpy_threads() -> int:
    """How many threads NumPy's BLAS uses: the first thread variable set, else the usable cores."""
    for var in _THREAD_VARS:
        value = os.environ.get(var, "")
        if value.strip().isdigit() and int(value) > 0:
            return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def load_average() -> float | None:
    """The 1-minute load average (None where the OS has none): how busy the machine was."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def cpu_model() -> str:
    """The processor's name: /proc/cpuinfo's "model name", else ``platform.processor()``, else "unknown"."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_info() -> dict[str, Any] | None:
    """NumPy's BLAS as threadpoolctl sees it: library, version, kernel ("architecture") and threads.

    None when threadpoolctl is not installed (it is optional) or finds no BLAS.
    """
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    blas = [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]
    blas.sort(key=lambda lib: "numpy" not in lib.get("filepath", ""))  # NumPy's own first
    if not blas:
        return None
    lib = blas[0]
    return {"library": lib.get("internal_api"), "version": lib.get("version"),
            "architecture": lib.get("architecture"), "threads": lib.get("num_threads")}


def environment() -> dict[str, Any]:
    """What a benchmark ran on: CPU, cores, NumPy and its BLAS, PyTorch's threads, the recorded variables.

    PyTorch is looked up only if the run imported it (``torch_threads`` None otherwise).
    """
    torch = sys.modules.get("torch")
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "numpy": np.__version__, "blas": blas_info(),
            "torch": getattr(torch, "__version__", None),
            "torch_threads": torch.get_num_threads() if torch is not None else None,
            "env": {var: os.environ.get(var) for var in RECORDED_VARS}}


def reproduce_command(script: str, argv: list[str], env: dict[str, str | None]) -> str:
    """The command line that repeats a run: ``VAR=value python benchmarks/<script> <args>``.

    ``argv`` are the run's arguments: ``--json PATH`` is dropped and the MNIST folder written
    ``<MNIST>`` (``--data-dir <MNIST>`` is added when it came from ``$NPAE_DATA_DIR``); the
    variables of ``env`` that were set come first.
    """
    args, i, data = [], 0, False
    while i < len(argv):
        a = argv[i]
        name = a.split("=", 1)[0]
        takes_value = "=" not in a
        if name == "--json":
            i += 1 + takes_value
            continue
        if name == "--data-dir":
            args += ["--data-dir", "<MNIST>"]
            data, i = True, i + 1 + takes_value
            continue
        args.append(a)
        i += 1
    if not data:
        args = ["--data-dir", "<MNIST>", *args]
    prefix = [f"{var}={value}" for var, value in env.items() if value is not None]
    return " ".join([*prefix, "python", f"benchmarks/{script}", *args])


def describe(where: dict[str, Any]) -> str:
    """The lines a run prints first: CPU, BLAS kernel and threads, PyTorch's threads, the variables."""
    blas = where["blas"]
    blas_line = ("BLAS: unknown (threadpoolctl not installed)" if blas is None else
                 f"BLAS: {blas['library']} {blas['version']}, kernel {blas['architecture']}, "
                 f"{blas['threads']} thread(s)")
    env = ", ".join(f"{var}={value}" for var, value in where["env"].items())
    return (f"CPU: {where['cpu']}, {where['cores']} cores; NumPy {where['numpy']}\n{blas_line}\n"
            f"PyTorch threads: {where['torch_threads']}\nenvironment: {env}")


def add_arguments(parser: argparse.ArgumentParser, rounds: int = 11, steps: int = 50,
                  warmup: int = 10) -> argparse.ArgumentParser:
    """Add the harness's options to a benchmark script's parser (with the script's own defaults)."""
    g = parser.add_argument_group("benchmark harness")
    g.add_argument("--quick", action="store_true",
                   help="a fast smoke run (3 rounds of 5 steps, 2 warm-up steps)")
    g.add_argument("--rounds", type=int, default=rounds, help=f"interleaved rounds (default {rounds})")
    g.add_argument("--steps", type=int, default=steps,
                   help=f"training steps per round and framework (default {steps})")
    g.add_argument("--warmup", type=int, default=warmup,
                   help=f"untimed steps before the rounds (default {warmup})")
    g.add_argument("--pause", type=float, default=0.2,
                   help="untimed seconds after each timed block, so the worker threads of one framework "
                        "stop spinning before the other runs (default 0.2)")
    g.add_argument("--no-torch", action="store_true", help="do not run the PyTorch reference")
    g.add_argument("--json", metavar="PATH", help="also write the per-round figures to this JSON file")
    return parser


def _settings(args: argparse.Namespace | None) -> tuple[int, int, int]:
    """(rounds, steps, warmup) from parsed arguments (defaults when None)."""
    if args is None:
        return 11, 50, 10
    if getattr(args, "quick", False):
        return 3, 5, 2
    rounds, steps, warmup = args.rounds, args.steps, args.warmup
    if rounds < 1 or steps < 1 or warmup < 0:
        raise ValueError(f"need rounds >= 1, steps >= 1, warmup >= 0; got {rounds}, {steps}, {warmup}")
    return rounds, steps, warmup


def torch_or_none(args: argparse.Namespace | None = None):
    """Import PyTorch with as many threads as NumPy uses; None (with a message) if unavailable."""
    if args is not None and getattr(args, "no_torch", False):
        print("PyTorch reference: skipped (--no-torch)")
        return None
    try:
        import torch
    except ImportError as exc:
        print(f"PyTorch reference: skipped (cannot import torch: {exc})")
        return None
    n = numpy_threads()
    torch.set_num_threads(n)
    print(f"PyTorch {torch.__version__}: {torch.get_num_threads()} thread(s), matching NumPy's {n}")
    return torch


def _time(step: Step, steps: int, pause: float) -> float:
    """Seconds for ``steps`` calls of ``step``, then an untimed ``pause`` (see ``run``)."""
    start = time.perf_counter()
    for _ in range(steps):
        step()
    elapsed = time.perf_counter() - start
    time.sleep(pause)
    return elapsed


def run(workloads: list[Workload], args: argparse.Namespace | None = None,
        verbose: bool = True, command: str | None = None) -> list[Result]:
    """Warm up, then time every workload in interleaved rounds; return one Result per workload.

    Every timed block is followed by an untimed pause (``--pause``, default 0.2 s). Without
    it the interleaving is unfair: after its last call a BLAS or OpenMP worker thread keeps
    spinning for a while (OpenBLAS for about 0.1 s) and steals the cores from whichever
    framework runs next. Measured here: PyTorch timed right after npae ran at 28,000
    samples/s, after a 0.15 s pause at 61,000, the same as alone.

    With ``--json`` the file also records :func:`environment` and ``command`` (the command line
    that repeats the run, :func:`reproduce_command`).
    """
    rounds, steps, warmup = _settings(args)
    pause = 0.2 if args is None else getattr(args, "pause", 0.2)
    results = [Result(w.name) for w in workloads]
    where = environment()
    if verbose:
        print(describe(where), file=sys.stderr)
        if command:
            print(f"to repeat this run: {command}", file=sys.stderr)
    load_before = load_average()
    for w in workloads:
        for step in (w.npae, w.torch):
            if step is not None:
                for _ in range(warmup):
                    step()
                time.sleep(pause)
    for r in range(rounds):
        for w, res in zip(workloads, results, strict=True):
            res.npae.append(w.samples * steps / _time(w.npae, steps, pause))
            if w.torch is not None:
                res.torch.append(w.samples * steps / _time(w.torch, steps, pause))
        if verbose:
            line = "  ".join(f"{res.name}: npae {res.npae[-1]:,.0f}"
                             + (f" / torch {res.torch[-1]:,.0f}" if res.torch else "")
                             for res in results)
            print(f"round {r + 1}/{rounds}  {line}  samples/s", file=sys.stderr)
    if args is not None and getattr(args, "json", None):
        with open(args.json, "w") as f:
            json.dump({"measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), **where,
                       "command": command,
                       "rounds": rounds, "steps": steps, "warmup": warmup, "pause": pause,
                       "numpy_threads": numpy_threads(),
                       "load_average": [load_before, load_average()],
                       "results": [res.as_dict() for res in results]}, f, indent=2)
    if verbose:
        print(f"load average (1 min) before / after: {load_before} / {load_average()} "
              f"on {os.cpu_count()} cores", file=sys.stderr)
    return results


def print_report(results: list[Result]) -> None:
    """One line per workload: medians of samples/s and the npae/torch ratios."""
    print(f"{'workload':<28} {'npae samples/s':>15} {'torch samples/s':>16} {'ratio':>7} {'round ratio':>12}")
    for res in results:
        t = "-" if res.torch_median is None else f"{res.torch_median:,.0f}"
        ratio = "-" if res.ratio is None else f"{res.ratio:.2f}x"
        rr = "-" if res.round_ratio is None else f"{res.round_ratio:.2f}x"
        print(f"{res.name:<28} {res.npae_median:>15,.0f} {t:>16} {ratio:>7} {rr:>12}")
    print("(medians over rounds; ratio = npae / torch; round ratio = median of the per-round ratios)")


def npae_adam_step(model, batches: list[np.ndarray], seed: int, lr: float = 1e-3) -> tuple[Step, dict]:
    """One npae training step of ``model``: its whole loss and gradient, then ``Adam(lr)``.

    Returns ``(step, state)``: each call trains on the next batch (cycled) with a generator
    seeded by ``seed`` (noise, sampling) and leaves the loss in ``state["loss"]``;
    ``state["model"]`` and ``state["opt"]`` are there for profiling.
    """
    from npae.optim import Adam

    opt = Adam(lr=lr)
    params = model.params  # the live arrays, updated in place by the optimiser
    rng = np.random.default_rng(seed)
    state: dict[str, Any] = {"i": 0, "loss": 0.0, "model": model, "opt": opt}

    def step() -> None:
        xb = batches[state["i"] % len(batches)]
        state["i"] += 1
        loss, _, grads = model.loss_and_grads(xb, rng)
        opt.step(params, grads)
        state["loss"] = loss

    return step, state


def torch_adam_step(torch, net, batches: list[np.ndarray], lr: float = 1e-3, loss_fn=None,
                    corrupt=None) -> tuple[Step, dict]:
    """One PyTorch training step of the autoencoder ``net``: ``loss_fn(net(corrupt(x)), x)``, Adam(lr).

    ``loss_fn`` defaults to ``torch.nn.MSELoss()`` and ``corrupt`` to none (a denoising
    autoencoder passes its noise). Returns ``(step, state)`` like the npae side: each call trains
    on the next batch (cycled) and leaves the loss tensor in ``state["loss"]``.
    """
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    loss_fn = torch.nn.MSELoss() if loss_fn is None else loss_fn
    tbatches = [torch.from_numpy(b) for b in batches]
    state: dict[str, Any] = {"i": 0, "loss": 0.0}

    def step() -> None:
        xb = tbatches[state["i"] % len(tbatches)]
        state["i"] += 1
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(xb if corrupt is None else corrupt(xb)), xb)
        loss.backward()
        opt.step()
        state["loss"] = loss.detach()

    return step, state


def cprofile_steps(step: Step, state: dict, batches: list, steps: int = 200) -> None:
    """Profile ``steps`` calls of ``step`` (after 10 untimed ones) with cProfile: the top 20 by own time."""
    for _ in range(10):
        step()
    prof = cProfile.Profile()
    prof.runcall(lambda: [step() for _ in range(steps)])
    pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(20)


def main_for(doc: str, workload: str, network: str, npae_step_fn: NpaeStepFn, torch_step_fn: TorchStepFn,
             *, target: float, loss_name: str = "final training loss", loss_format: str = ".5f",
             batch_shape: tuple[int, ...] | None = None,
             profile: Callable[[Step, dict, list], None] = cprofile_steps,
             profile_help: str = "profile 200 npae steps with cProfile instead of benchmarking",
             defaults: tuple[int, int, int] = (11, 50, 10), argv: list[str] | None = None) -> None:
    """The ``main()`` of a benchmark script: one workload, npae against PyTorch, on MNIST batches.

    Parses ``--data-dir`` (default ``$NPAE_DATA_DIR``), ``--batch-size``, ``--n-batches``,
    ``--seed``, ``--profile`` and the harness's options (:func:`add_arguments`); reads MNIST
    with :func:`npae.scripts.load_mnist_or_exit` (a usage error when it is missing); cuts the first
    ``n_batches * batch_size`` training images into batches (rows of 784, or ``batch_shape``
    per image, e.g. ``(1, 28, 28)``), prints the data and ``network`` lines, then either
    ``profile(step, state, batches)`` or builds both steps, runs them (:func:`run`), prints
    the report, ``<loss_name>: npae <loss>, torch <loss>`` and the ratio npae / PyTorch
    against ``target``. ``defaults`` are the script's ``(rounds, steps, warmup)``.
    """
    from npae.scripts import load_mnist_or_exit

    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("NPAE_DATA_DIR"),
                        help="folder with the MNIST IDX files (default: $NPAE_DATA_DIR)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--n-batches", type=int, default=16, help="distinct batches cycled (default 16)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true", help=profile_help)
    add_arguments(parser, *defaults)
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    X, _, _, _, _ = load_mnist_or_exit(parser, args)  # prints "data: <which images>"
    n = args.batch_size * args.n_batches
    if len(X) < n:
        parser.error(f"need {n} training images for {args.n_batches} batches of {args.batch_size}, "
                     f"have {len(X)}")
    shape = (-1, *batch_shape) if batch_shape is not None else (-1, X.shape[1])
    batches = [np.ascontiguousarray(X[i:i + args.batch_size].reshape(shape))  # (B, 784) or (B, *batch_shape)
               for i in range(0, n, args.batch_size)]
    print(f"batches: {args.n_batches} of {args.batch_size} images, cycled")
    print(f"network: {network}; NumPy {np.__version__}")

    npae_step, npae_state = npae_step_fn(batches, args.seed)
    if args.profile:
        profile(npae_step, npae_state, batches)
        return

    torch = torch_or_none(args)
    torch_step = torch_state = None
    if torch is not None:
        torch_step, torch_state = torch_step_fn(torch, batches, args.seed)
    script = os.path.basename(sys.modules[npae_step_fn.__module__].__file__)  # the benchmark script's file
    command = reproduce_command(script, argv, {var: os.environ.get(var) for var in RECORDED_VARS})
    results = run([Workload(workload, npae_step, torch_step, args.batch_size)], args, command=command)
    print_report(results)
    final = f"{loss_name}: npae {npae_state['loss']:{loss_format}}"
    if torch_state is not None:
        final += f", torch {float(torch_state['loss']):{loss_format}}"
    print(final)
    ratio = results[0].ratio
    if ratio is not None:
        verdict = "met" if ratio >= target else "NOT met"
        print(f"npae / PyTorch = {ratio:.2f} (target >= {target:.2f}: {verdict})")
