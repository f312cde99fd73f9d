"""Seconds per epoch of ResNet-20 ``ce`` on CIFAR-10 (the reduced profile's recipe): prints figures,
no assertions.

Times ``--steps`` training steps of focuslib's trainer (the full in-memory training set, batch
augmentation, after ``--warmup`` untimed steps), extrapolates to one epoch (ceil(50,000 / 128) = 391
steps), adds the batched evaluation of the test set (timed on ``--eval-limit`` images and
extrapolated), and times the same number of steps of a hand-written minimal SGD loop on the same
in-memory tensors (normalisation only, as ``bench_train.py``; the augmentation is timed apart).
It also prints /proc/loadavg: the figures depend on what else runs on the machine.

    PYTHONPATH=. python benchmarks/bench_cifar_resnet20.py --data-root ../shared/data --threads 1

(``PYTHONPATH=.`` so that a worktree imports its own focuslib, not the installed checkout's.)
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from focuslib import datasets
from focuslib.experiments import plan
from focuslib.loader import open_split
from focuslib.methods import create_method
from focuslib.models import create_model
from focuslib.train import Runtime, Step, evaluate, run


class _Enough(Exception):
    """Raised from ``on_step`` to end the timed run."""


def now() -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds): on a shared machine the CPU time is what one
    idle core would take."""
    return time.perf_counter(), time.process_time()


def per_step(start: tuple[float, float], end: tuple[float, float], steps: int) -> tuple[float, float]:
    return (end[0] - start[0]) / steps, (end[1] - start[1]) / steps


def loadavg() -> str:
    path = Path("/proc/loadavg")
    return path.read_text().strip() if path.exists() else "n/a"


def trainer_step_seconds(cfg, root, steps: int, warmup: int) -> tuple[float, float]:
    """Mean (wall, CPU) seconds per step of focuslib.train over ``steps`` steps after ``warmup``."""
    stamps: list[tuple[float, float]] = []

    def on_step(step: Step) -> None:
        stamps.append(now())
        if len(stamps) > warmup + steps:
            raise _Enough

    with tempfile.TemporaryDirectory() as tmp:
        runtime = Runtime(device="cpu", data_root=root, results_dir=tmp, quiet=True, on_step=on_step)
        try:
            run(cfg, runtime=runtime)
        except _Enough:
            pass
    return per_step(stamps[warmup], stamps[-1], steps)


def hand_step_seconds(cfg, images: torch.Tensor, labels: torch.Tensor, steps: int, warmup: int
                      ) -> tuple[float, float]:
    """Mean (wall, CPU) seconds per step of the simplest correct loop: index, normalise, SGD on
    cross-entropy."""
    spec = datasets.get_spec(cfg.dataset)
    mean = torch.tensor(spec.mean).view(1, -1, 1, 1)
    std = torch.tensor(spec.std).view(1, -1, 1, 1)
    torch.manual_seed(cfg.seed)
    model = create_model(cfg.model, spec.num_classes, spec.in_channels, spec.small_input)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    batches = torch.randperm(len(labels)).split(cfg.batch_size)[: warmup + steps]
    for n, i in enumerate(batches):
        if n == warmup:
            t0 = now()
        loss = F.cross_entropy(model((images[i].float() / 255 - mean) / std), labels[i])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return per_step(t0, now(), steps)


def augment_seconds(cfg, images: torch.Tensor, steps: int) -> float:
    """Mean seconds of the trainer's batch augmentation (crop + flip + normalise) per batch."""
    augment = datasets.BatchAugment(cfg.dataset, train=True)
    gen = torch.Generator().manual_seed(0)
    batches = torch.randperm(len(images), generator=gen).split(cfg.batch_size)[:steps]
    t0 = time.perf_counter()
    for i in batches:
        augment(images[i], generator=gen)
    return (time.perf_counter() - t0) / steps


def eval_seconds(cfg, root, limit: int) -> float:
    """Seconds of focuslib's batched evaluation of ``limit`` test images (an untrained network)."""
    spec = datasets.get_spec(cfg.dataset)
    data = open_split(cfg.dataset, "test", root=root, limit=limit, device=torch.device("cpu"), augment=False,
                      dataset_kwargs=dict(cfg.dataset_kwargs), num_workers=0)
    model = create_model(cfg.model, spec.num_classes, spec.in_channels, spec.small_input)
    method = create_method("ce")
    t0 = time.perf_counter()
    evaluate(model, method, data, cfg.batch_size, amp=False, device=torch.device("cpu"))
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-root", default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--eval-limit", type=int, default=2048)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    cfg = next(c.config for c in plan("table2", {"profile": "reduced", "seeds": [0]}) if c.row == "ce")
    spec = datasets.get_spec(cfg.dataset)
    data = datasets.load_tensors(cfg.dataset, "train", root=a.data_root, **cfg.dataset_kwargs)
    test_size = len(datasets.load_tensors(cfg.dataset, "test", root=a.data_root, **cfg.dataset_kwargs).targets)
    n, images, labels = len(data.targets), data.images, data.targets.long()
    steps_per_epoch = math.ceil(n / cfg.batch_size)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, {cfg.label()} ({cfg.profile}), "
          f"{spec.name} variant {data.variant}: {n} train / {test_size} test images, batch {cfg.batch_size}, "
          f"{steps_per_epoch} steps per epoch")
    print(f"loadavg before: {loadavg()}")
    hand = hand_step_seconds(cfg, images, labels, a.steps, a.warmup)
    ours = trainer_step_seconds(cfg, a.data_root, a.steps, a.warmup)
    hand_again = hand_step_seconds(cfg, images, labels, a.steps, a.warmup)
    aug = augment_seconds(cfg, images, a.steps)
    ev = eval_seconds(cfg, a.data_root, a.eval_limit) * test_size / a.eval_limit
    print(f"loadavg after:  {loadavg()}")
    print(f"{a.steps} timed steps after {a.warmup}; seconds per step as wall (CPU of this process); "
          f"per epoch = x {steps_per_epoch}")
    for name, (wall, cpu) in (("focuslib.train", ours), ("hand loop, before", hand), ("hand loop, after", hand_again)):
        print(f"  {name:18s} {wall:.4f} ({cpu:.4f}) s/step -> {wall * steps_per_epoch:7.1f} "
              f"({cpu * steps_per_epoch:7.1f}) s per training epoch")
    print(f"time ratio trainer / hand loop: wall {ours[0] / hand[0]:.3f} (before), {ours[0] / hand_again[0]:.3f} "
          f"(after); CPU {ours[1] / hand[1]:.3f} (before), {ours[1] / hand_again[1]:.3f} (after)")
    print(f"batch augmentation (crop + flip + normalise), wall {aug * 1000:.1f} ms/batch "
          f"({100 * aug / ours[0]:.1f} % of a trainer step)")
    print(f"evaluation of {test_size} test images, wall ~{ev:.1f} s (timed on {a.eval_limit})")
    wall = ours[0] * steps_per_epoch + ev
    print(f"=> wall ~{wall:.0f} s per epoch with evaluation (CPU of training "
          f"alone {ours[1] * steps_per_epoch:.0f} s); 30 epochs ~{wall * 30 / 3600:.1f} h wall")


if __name__ == "__main__":
    main()
