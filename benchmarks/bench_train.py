"""Trainer speed on the CPU (or GPU): prints images/s, no assertions.

(a) focuslib's trainer against a minimal hand-written SGD loop on the same model and data;
(b) a FocusNet epoch against a baseline (ce) epoch, with the baseline's logits computed per
    step and cached once (no augmentation on MNIST, so the cache is exact).

    python benchmarks/bench_train.py --dataset mnist --data-root ../shared/data --train-limit 20000
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import torch
import torch.nn.functional as F

from focuslib import datasets
from focuslib.config import RunConfig
from focuslib.models import create_model
from focuslib.train import Runtime, run


def hand_loop(name: str, root, limit: int, batch: int, device: str) -> float:
    """images/s of the simplest correct loop: preloaded tensors, SGD, cross-entropy."""
    data = datasets.load_tensors(name, "train", root=root)
    spec = datasets.get_spec(name)
    x = data.images[:limit].to(device)
    y = data.targets[:limit].long().to(device)
    mean = torch.tensor(spec.mean, device=device).view(1, -1, 1, 1)
    std = torch.tensor(spec.std, device=device).view(1, -1, 1, 1)
    torch.manual_seed(0)
    model = create_model("lenet5", spec.num_classes, in_channels=spec.in_channels).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    t0 = time.perf_counter()
    for i in torch.randperm(len(y)).split(batch):
        xb = (x[i].float() / 255 - mean) / std
        loss = F.cross_entropy(model(xb), y[i])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return len(y) / (time.perf_counter() - t0)


def trainer(cfg: RunConfig, root, device: str, cache: bool = True) -> float:
    """images/s of the training part of focuslib.train's epochs (evaluation excluded)."""
    with tempfile.TemporaryDirectory() as tmp:
        if cfg.teacher is not None or cfg.method == "focusnet":  # train the baseline first, untimed
            run(cfg.replace(method="ce", teacher=None),
                runtime=Runtime(device=device, data_root=root, results_dir=tmp, quiet=True, eval_every=10**6))
        runtime = Runtime(device=device, data_root=root, results_dir=tmp, quiet=True, eval_every=10**6,
                          cache_teacher_logits=cache)
        result = run(cfg, runtime=runtime)
        rows = [json.loads(line) for line in (result.run_dir / "metrics.jsonl").read_text().splitlines()]
        seconds = sum(r["train_seconds"] for r in rows)  # training only, evaluation excluded
    return cfg.train_limit * cfg.epochs / seconds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="mnist")
    p.add_argument("--data-root", default=None)
    p.add_argument("--train-limit", type=int, default=20000)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--device", default="cpu")
    a = p.parse_args()
    base = RunConfig(dataset=a.dataset, model="lenet5", epochs=1, milestones=(), batch_size=a.batch_size,
                     train_limit=a.train_limit, test_limit=1000, profile="custom")
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, device {a.device}, "
          f"{a.dataset} x {a.train_limit}, batch {a.batch_size}")
    hand_loop(a.dataset, a.data_root, 2000, a.batch_size, a.device)  # warm-up
    hand = hand_loop(a.dataset, a.data_root, a.train_limit, a.batch_size, a.device)
    ours = trainer(base, a.data_root, a.device)
    print(f"(a) hand-written loop {hand:9.0f} img/s | focuslib.train {ours:9.0f} img/s | time ratio {hand / ours:.3f}")
    fn = base.replace(method="focusnet")
    fn_live = trainer(fn, a.data_root, a.device, cache=False)
    fn_cached = trainer(fn, a.data_root, a.device, cache=True)
    print(f"(b) ce step {ours:9.0f} img/s | focusnet (baseline run per step) {fn_live:9.0f} img/s, time ratio "
          f"{ours / fn_live:.3f} | focusnet (cached baseline logits) {fn_cached:9.0f} img/s, "
          f"time ratio {ours / fn_cached:.3f}")


if __name__ == "__main__":
    main()
