"""One-command GPU check: the trainer's speed modes on CIFAR-10 ResNet-18 (small input).

    python benchmarks/gpu_check.py --data-root DATA --out gpu_check.json

For each speed mode (fp32; bf16 autocast + channels-last; the same + ``torch.compile``) it trains
``ce`` and then ``focusnet`` on that ce run as a live baseline (CIFAR-10 is augmented, so the
baseline's forward pass runs every step), through ``focuslib.train.run`` itself: the in-memory
uint8 data on the device, whole-batch augmentation, the real step. Each measurement is a run of
2 epochs over ``--steps`` batches; the second epoch is timed (the first absorbs compilation and
caches). It prints images/s, peak GPU memory and the FocusNet/ce time ratio per mode, and writes
them as JSON (``focuslib.planner.measured_rate`` reads it). Figures, never assertions; targets
(issue 24): >= 30,000 img/s for ce in bf16 on an H100/H200, FocusNet <= 1.4x the ce time.
A mode that fails is recorded with its error and the check goes on. ``--device cpu --dataset
digits --model lenet5`` runs the same code paths in seconds (the slow CPU test does).
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
import traceback
from pathlib import Path

import torch

from focuslib import datasets
from focuslib.config import RunConfig
from focuslib.planner import training_flops
from focuslib.train import Runtime, resolve, run

MODES = {"fp32": dict(amp=False, channels_last=False, compile=False),
         "bf16+channels_last": dict(amp=True, channels_last=True, compile=False),
         "bf16+channels_last+compile": dict(amp=True, channels_last=True, compile=True)}


def measure(cfg: RunConfig, runtime: Runtime, device: torch.device) -> dict:
    """Train ``cfg`` (2 epochs) and time its second epoch: images/s and peak memory."""
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    result = run(cfg, runtime=runtime)
    rows = [json.loads(line) for line in (result.run_dir / "metrics.jsonl").read_text().splitlines()]
    images = result.final["num_train"]
    seconds = rows[-1]["train_seconds"]
    return {"images_per_s": images / seconds, "epoch_seconds": seconds, "images": images,
            "peak_memory_gib": torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else None,
            "train_flops_per_image": training_flops(cfg, 1) / images, "test_top1": result.final["test_top1"]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-root", default=None)
    p.add_argument("--dataset", default="cifar10")
    p.add_argument("--model", default="resnet18")
    p.add_argument("--steps", type=int, default=300, help="training steps per epoch (batches of --batch-size)")
    p.add_argument("--batch-size", type=int, default=512)
    p.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    p.add_argument("--device", default="cuda")
    p.add_argument("--out", default="gpu_check.json")
    a = p.parse_args(argv)
    device = torch.device(a.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        p.error("no CUDA GPU here; run it on a GPU machine (or --device cpu --dataset digits --model lenet5 "
                "--steps 3 to exercise the code paths)")
    datasets.check_available(a.dataset, root=a.data_root)
    limit = a.steps * a.batch_size
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu"
    doc = {"device_name": name, "torch": torch.__version__, "dataset": a.dataset, "model": a.model,
           "batch_size": a.batch_size, "steps": a.steps, "results": []}
    with tempfile.TemporaryDirectory() as results:
        for mode in a.modes:
            runtime = Runtime(device=a.device, data_root=a.data_root, results_dir=f"{results}/{mode}", quiet=True,
                              keep_checkpoint=False, eval_every=2, deterministic=False, **MODES[mode])
            ce = resolve(RunConfig(dataset=a.dataset, model=a.model, method="ce", epochs=2, milestones=(),
                                   batch_size=a.batch_size, train_limit=limit, test_limit=a.batch_size))
            focus = resolve(ce.replace(method="focusnet", method_kwargs={}, teacher=ce))
            for method, cfg in (("ce", ce), ("focusnet", focus)):
                t0 = time.perf_counter()
                try:
                    row = {"method": method, "mode": mode, "ok": True, **measure(cfg, runtime, device)}
                except Exception as err:  # a mode that fails on this card is a finding, not the end of the check
                    row = {"method": method, "mode": mode, "ok": False, "error": f"{type(err).__name__}: {err}",
                           "traceback": traceback.format_exc(limit=5)}
                row["wall_seconds"] = time.perf_counter() - t0
                doc["results"].append(row)
                shown = (f"{row['images_per_s']:>10,.0f} img/s  epoch {row['epoch_seconds']:.2f} s  peak "
                         f"{row['peak_memory_gib'] or 0:.2f} GiB" if row["ok"] else f"FAILED {row['error']}")
                print(f"{name} {mode:<28} {method:<9} {shown}", flush=True)
            ok = {r["method"]: r for r in doc["results"] if r["mode"] == mode and r["ok"]}
            if len(ok) == 2:
                ratio = ok["focusnet"]["epoch_seconds"] / ok["ce"]["epoch_seconds"]
                doc.setdefault("focusnet_over_ce", {})[mode] = ratio
                print(f"{name} {mode:<28} FocusNet/ce time ratio {ratio:.2f} (target <= 1.4)", flush=True)
    Path(a.out).write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
