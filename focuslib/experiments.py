"""What each paper artefact trains: one plan per table/figure, as a list of :class:`Cell`.

A cell ties one entry of the paper's table (its row/method key and column/data set, as
in :mod:`focuslib.paper`) to the :class:`RunConfig` that reproduces it for one seed.
Notebooks call :func:`plan` with their parameters, then :func:`run_plan`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

from . import datasets
from .config import RunConfig, check_profile_name, paper_schedule
from .resolve import resolve
from .store import IntegrityError, ResultsStore, RunLockedError, StoreConflictError, yaml_problem

if TYPE_CHECKING:
    from .train import Runtime

PARAMS = Path(__file__).resolve().parent.parent / "params"
#: The embedded offline data set: a notebook run on it alone defaults to the smoke profile.
EMBEDDED = "digits"
#: The architecture the paper uses per data set (Sec. 4.2): LeNet-5 on MNIST, ResNet-18 elsewhere.
PAPER_MODEL = {"mnist": "lenet5", "digits": "lenet5"}
#: Table 9: epochs of the poorly-trained MobileNetV2 teacher (constant lr; paper Sec. 4.3.2).
POORLY_TRAINED_EPOCHS = {"cifar10": 1, "imagewoof": 30, "cifar100": 5, "cub200": 50, "stanford_dogs": 50,
                         "tinyimagenet": 10, "imagenet_dogs": 10}
#: Fig. 4: the epochs at which the poorly-trained ResNet-18 baselines stop (constant lr).
FIG4_STOPS = (1, 10, 20, 30, 40, 50, 60)
#: Fig. 4, our addition: the baseline at 0 epochs (the seed's initialised network, at chance), on
#: data sets where a 1-epoch baseline is already far from chance, so the paper's near-chance case
#: (1.29 % on CUB-200) can be tested there.
FIG4_OUR_STOPS: dict[str, tuple[int, ...]] = {"mnist": (0,)}
#: Table 10: the ablation rows as switches of the focus-picking loss (``ce`` = the baseline).
ABLATIONS = {
    "lcls": {"use_att": False, "use_ent": False},
    "lcls+rent": {"use_att": False, "use_ent": True},
    "lcls+ratt": {"use_att": True, "use_ent": False},
    "lcls+ratt+rent": {},
}
#: Post-hoc variants of FocusNet's loss: the official code's choices (see the "paper vs official
#: code" page), run on the same baselines as the paper's reading and always reported apart from
#: it (Table 2's ``variants`` parameter), because they were chosen after seeing test accuracy.
FOCUSNET_VARIANTS = {
    "focusnet[d_attached]": {"detach_d": False},
    "focusnet[official_labels]": {"warm_rule": "official", "label_smoothing": 0.1},
    # The official code's three choices together (CIFAR-10 reduced protocol's post-hoc row, issue 23).
    "focusnet[official]": {"warm_rule": "official", "label_smoothing": 0.1, "detach_d": False},
}

#: "Beyond the paper" (our addition, issue 22): the baseline, two-stage FocusNet and the one-stage
#: variants whose baseline branch comes from the run itself (:mod:`focuslib.methods.onestage`).
BEYOND_ROWS = ("ce", "focusnet", "focusnet_ema", "focusnet_prev")

PROBE_EPOCHS = 3

#: The profile whose runs are the paper's protocol (:func:`is_paper_protocol`); a configuration a
#: notebook asks for under it that is not the protocol is stored under :data:`CUSTOM` instead.
PAPER, CUSTOM = "paper", "custom"
#: The paper's training recipe apart from the schedule (Sec. 4.2): SGD with momentum, lr/10 at the
#: milestones, no warm-up, every example of both splits.
PAPER_RECIPE: dict[str, Any] = {"batch_size": 128, "lr": 0.1, "momentum": 0.9, "weight_decay": 1e-4, "lr_gamma": 0.1,
                                "warmup_epochs": 0, "train_limit": None, "test_limit": None}
#: The notebook parameters that are lists, with the type of their elements (:func:`list_param`).
LIST_PARAMS: dict[str, type | tuple[type, ...]] = {"dataset": str, "methods": str, "models": str, "rows": str,
                                                   "seeds": int, "stops": (int, float)}


@dataclass(frozen=True)
class Probe:
    """One stability probe of a run that did not train: :data:`PROBE_EPOCHS` epochs of the same
    run at the constant learning rate ``lr``, reached after ``warmup_epochs`` of linear warm-up."""

    lr: float
    warmup_epochs: int = 0

    def describe(self) -> str:
        warm = f" after a {self.warmup_epochs}-epoch linear warm-up" if self.warmup_epochs else ""
        return f"the constant lr {self.lr:g}{warm}"


#: The probes (:func:`probe_config`): the paper's lr 0.1, which shows whether the collapse
#: recurs; a tenth of it; and 0.1 reached by a one-epoch linear warm-up.
PROBES = (Probe(0.1), Probe(0.01), Probe(0.1, warmup_epochs=1))


@dataclass(frozen=True)
class Cell:
    """One (row, column) of a paper artefact for one seed."""

    row: str  # the paper's method key (focuslib.paper), e.g. "focusnet", "teacher"
    dataset: str
    model: str
    seed: int
    config: RunConfig
    x: float | None = None  # Fig. 4: the baseline's training epochs


#: The :class:`RunConfig` fields a plan's cell sets itself (data set, model, method, seed, baseline, the
#: method's options) or through :func:`profile_schedule` (epochs, milestones); a profile or notebook
#: parameter of the same name as any other field (``batch_size``, ``train_limit``, ``lr``...) sets it
#: for every run of the plan (:func:`run_fields`).
CELL_FIELDS = ("dataset", "model", "method", "seed", "teacher", "method_kwargs", "epochs", "milestones")


def run_fields(P: Mapping[str, Any]) -> dict[str, Any]:
    """The :class:`RunConfig` fields the parameters ``P`` (:func:`resolve_params`' output) set for
    every run of a plan; a field ``P`` leaves at ``None`` keeps :class:`RunConfig`'s default."""
    return {f.name: P[f.name] for f in fields(RunConfig)
            if f.name not in CELL_FIELDS and P.get(f.name) is not None}


def is_paper_protocol(cfg: RunConfig) -> bool:
    """Whether ``cfg`` trains by the paper's protocol for its data set: its schedule (epochs and
    milestones) and :data:`PAPER_RECIPE`."""
    epochs, milestones = paper_schedule(datasets.get_spec(cfg.dataset).schedule)
    expected = {**PAPER_RECIPE, "epochs": epochs, "milestones": milestones}
    return all(getattr(cfg, name) == value for name, value in expected.items())


def profile_schedule(dataset: str, P: Mapping[str, Any]) -> tuple[int, tuple[int, ...]]:
    """Epochs and lr milestones of ``dataset`` under the parameters ``P``: their own when they state
    milestones (then they state epochs too), else the paper's schedule, shortened to ``P["epochs"]``
    in the paper's proportions (:func:`~focuslib.config.paper_schedule`)."""
    epochs, milestones = P.get("epochs"), P.get("milestones")
    if milestones is None:
        return paper_schedule(datasets.get_spec(dataset).schedule, epochs)
    if epochs is None:
        raise ValueError(f"profile {P.get('profile')!r} states milestones {list(milestones)} but no epochs")
    return epochs, tuple(milestones)


def config(dataset: str, model: str, method: str, seed: int, P: Mapping[str, Any], **changes: Any) -> RunConfig:
    """The paper's recipe for ``dataset`` under the parameters ``P`` (:func:`run_fields`) and
    :func:`profile_schedule`.

    Under the ``paper`` profile, settings that are not the paper's protocol
    (:func:`is_paper_protocol`: fewer epochs, other batch size, limits...) make the run
    ``custom``: only the protocol itself is stored and shown as ``paper``. ``changes`` (a
    method's preset, a teacher, a poorly-trained baseline's stop) come after that decision.
    """
    epochs, milestones = profile_schedule(dataset, P)
    cfg = RunConfig(dataset=dataset, model=model, method=method, seed=seed, epochs=epochs, milestones=milestones,
                    **run_fields(P))
    if cfg.profile == PAPER and not is_paper_protocol(cfg):
        cfg = cfg.replace(profile=CUSTOM)
    return resolve(cfg.replace(**changes))


def poorly_trained(cfg: RunConfig, epochs: int) -> RunConfig:
    """A baseline stopped after ``epochs`` epochs without lr decay (Table 9, Fig. 4)."""
    return cfg.replace(method="ce", method_kwargs={}, teacher=None, epochs=epochs, milestones=())


def probe_config(cfg: RunConfig, probe: Probe, epochs: int = PROBE_EPOCHS) -> RunConfig:
    """A stability probe of ``cfg``: the same data, model, method, seed and baseline branch for
    ``epochs`` epochs at ``probe``'s learning rate and warm-up, without decay, stored under the
    ``probe`` profile. It tests whether a run that collapsed under the paper's recipe trains
    with a gentler start: a remedy for users, never a result."""
    return cfg.replace(lr=probe.lr, warmup_epochs=probe.warmup_epochs, epochs=epochs, milestones=(), profile="probe")


#: The remedy's warm-up (:func:`remedy_config`): the probe that trained every failed run.
REMEDY_WARMUP_EPOCHS = 1


def remedy_config(cfg: RunConfig) -> RunConfig:
    """The remedy run of ``cfg``: its full recipe (epochs, lr schedule, baseline branch) with the
    lr reached by a :data:`REMEDY_WARMUP_EPOCHS`-epoch linear warm-up, stored under the ``remedy``
    profile. Whether a run that collapsed under the paper's recipe reaches a normal final
    accuracy with a gentler start: a remedy for users, chosen after seeing the failures, never a
    result."""
    return cfg.replace(warmup_epochs=REMEDY_WARMUP_EPOCHS, profile="remedy")


def probe_cells(cells: Iterable[Cell], probes: Sequence[Probe] = PROBES, epochs: int = PROBE_EPOCHS) -> list[Cell]:
    """The stability probes of ``cells``, one per probe."""
    return [Cell(c.row, c.dataset, c.model, c.seed, probe_config(c.config, p, epochs)) for c in cells for p in probes]


def _model(dataset: str, model: str | None) -> str:
    return model or PAPER_MODEL.get(dataset, "resnet18")


def load_profile(profile: str) -> dict[str, Any]:
    """``<profile>.yaml`` of :func:`params_dir` as ``{"defaults": {...}, "notebooks": {name: {...}}, "slurm": {...}}``
    (``slurm``: the resources of its cluster jobs, :class:`focuslib.launch.Resources`): the one
    reader of a profile (a YAML error or an unknown top-level key names the file)."""
    check_profile_name(profile)
    folder = params_dir()
    path = folder / f"{profile}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in folder.glob("*.yaml"))
        raise ValueError(f"unknown profile {profile!r} (no {path}); known profiles: {', '.join(known)}")
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ValueError(f"{path} is not valid YAML ({yaml_problem(err)})") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{path} holds {type(doc).__name__} {doc!r:.40}, not a mapping of defaults and notebooks")
    unknown = set(doc) - {"defaults", "notebooks", "description", "slurm"}
    if unknown:
        raise ValueError(
            f"{path}: unknown top-level key(s) {sorted(unknown)}; expected defaults, notebooks, description, slurm"
        )
    out = {key: doc.get(key) or {} for key in ("defaults", "notebooks", "slurm")}
    bad = [k for k, v in out.items() if not isinstance(v, dict)]
    bad += [f"notebooks.{k}" for k, v in out["notebooks"].items() if not isinstance(v or {}, dict)] if not bad else []
    if bad:
        raise ValueError(f"{path}: {', '.join(bad)} must be a mapping of parameter names to values")
    return out


def params_dir() -> Path:
    """Where profiles live: ``$FOCUSLIB_PARAMS`` (a folder of profiles of one's own), else the checkout's
    ``params/``."""
    env = os.environ.get("FOCUSLIB_PARAMS")
    return Path(env).expanduser() if env else PARAMS


def profile_params(profile: str, notebook: str) -> dict[str, Any]:
    """The parameters ``params/<profile>.yaml`` gives ``notebook`` (its defaults + its own entry)."""
    doc = load_profile(profile)
    return {**doc["defaults"], **(doc["notebooks"].get(notebook) or {})}


def _as_list(value: Any) -> list[Any]:
    return [] if value is None else [value] if isinstance(value, (str, int, float)) else list(value)


def list_param(name: str, value: Any) -> list[Any]:
    """The list parameter ``name`` (:data:`LIST_PARAMS`) as a list of the right type.

    papermill's ``-p seeds "[0, 1]"`` delivers a string: one holding a YAML list is that list; a
    bare word or number is a one-element list. Anything else is a ValueError showing the form."""
    kind = LIST_PARAMS[name]
    items = value
    if isinstance(value, str):
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError:
            parsed = value
        # a bare word stays as written (the data set "no" is no YAML false)
        items = value if kind is str and not isinstance(parsed, (list, dict)) else parsed
    items = list(items) if isinstance(items, (list, tuple)) else [items]
    if any(isinstance(v, bool) or not isinstance(v, kind) for v in items):
        what = "integers" if kind is int else "numbers" if kind is not str else "names"
        example = "[0, 1]" if kind is not str else "[a, b]"
        raise ValueError(f"parameter {name!r} must be a list of {what}, e.g. -p {name} \"{example}\" (or a single "
                         f"one); got {value!r}")
    twice = sorted({v for v in items if items.count(v) > 1}, key=items.index)
    if twice:  # the same seed twice would count one run twice in a mean (n=2, std 0)
        raise ValueError(f"parameter {name!r} names {', '.join(map(str, twice))} more than once; got {value!r}")
    return items


def _list_params(P: Mapping[str, Any]) -> dict[str, Any]:
    return {k: list_param(k, v) if k in LIST_PARAMS and v is not None else v for k, v in P.items()}


def resolve_params(notebook: str, P: Mapping[str, Any]) -> dict[str, Any]:
    """Fill a notebook's ``None`` parameters from its profile.

    The profile defaults to ``smoke`` when the run uses only the embedded digits data and to
    ``paper`` otherwise, so ``papermill table7.ipynb out.ipynb -p dataset cub200`` runs the
    paper's protocol on CUB-200. List parameters become lists (:func:`list_param`). Returns the
    merged parameters with ``datasets`` and ``seeds`` (default: seed 0) as lists."""
    given = _list_params({k: v for k, v in P.items() if v is not None})
    asked = given.get("dataset") or []
    profile = given.get("profile") or ("smoke" if set(asked) <= {EMBEDDED} else PAPER)
    merged = _list_params({**profile_params(profile, notebook), **given, "profile": profile})
    merged["datasets"] = merged.get("dataset") or [EMBEDDED]
    merged["seeds"] = merged.get("seeds") or [0]
    return merged


def runtime_options(resolved: Mapping[str, Any]) -> dict[str, Any]:
    """The options of :func:`run_plan` a profile sets (:func:`resolve_params`' output): ``threads``,
    ``keep_checkpoints`` and ``amp`` (bf16 autocast; None: on CUDA only)."""
    return {"threads": resolved.get("threads"), "keep_checkpoints": resolved.get("keep_checkpoints", True),
            "amp": resolved.get("amp")}


def plan(artefact: str, P: Mapping[str, Any]) -> list[Cell]:
    """The cells of ``artefact`` (``table2`` ... ``fig4``, ``beyond``) for the notebook parameters ``P``."""
    builders = {"table2": _methods_plan, "table3": _methods_plan, "table7": _methods_plan, "table8": _methods_plan,
                "table10": _ablation_plan, "table5": _kd_plan, "table9": _dereverse_plan, "fig4": _fig4_plan,
                "beyond": _beyond_plan}
    if artefact not in builders:
        raise ValueError(f"no plan for {artefact!r}; known: {sorted(builders)}")
    P = resolve_params(artefact, P)
    return builders[artefact](P)


def _methods_plan(P: Mapping[str, Any]) -> list[Cell]:
    models = P.get("models") or [P.get("model")]
    cells = []
    for dataset in P["datasets"]:
        for model in models:
            m = _model(dataset, model)
            for method in P["methods"]:
                changes = method_preset(method, dataset)
                changes["method_kwargs"] = {**changes.get("method_kwargs", {}),
                                            **(P.get("method_kwargs") or {}).get(method, {})}
                for seed in P["seeds"]:
                    cells.append(Cell(method, dataset, m, seed, config(dataset, m, method, seed, P, **changes)))
            for variant in _variants_for(P.get("variants"), dataset):
                for seed in P["seeds"]:
                    cells.append(Cell(variant, dataset, m, seed, config(dataset, m, "focusnet", seed, P,
                                                                        method_kwargs=FOCUSNET_VARIANTS[variant])))
    return cells


def _beyond_plan(P: Mapping[str, Any]) -> list[Cell]:
    """Beyond the paper: the ``rows`` (default :data:`BEYOND_ROWS`) as :func:`_methods_plan`'s
    methods on the same seeds, so its ``ce`` and ``focusnet`` cells are the very runs of Table 2."""
    return _methods_plan({**P, "methods": list(P.get("rows") or BEYOND_ROWS), "variants": None})


def _variants_for(variants: Mapping[str, Sequence[str]] | Sequence[str] | None, dataset: str) -> list[str]:
    """The post-hoc FocusNet variants asked for ``dataset``: ``variants`` is a list (every data
    set) or a mapping data set -> list."""
    asked = _as_list(variants.get(dataset) if isinstance(variants, Mapping) else variants)
    unknown = [v for v in asked if v not in FOCUSNET_VARIANTS]
    if unknown:
        raise ValueError(f"unknown FocusNet variant(s) {unknown}; known: {', '.join(FOCUSNET_VARIANTS)}")
    return asked


def method_preset(method: str, dataset: str) -> dict[str, Any]:
    """Per-data-set settings a method's official code prescribes (CS-KD: lambda and batch
    size); a data set without a preset (e.g. the digits stand-in) keeps the profile's."""
    if method == "cskd":
        from .methods.cskd import cskd_preset  # noqa: PLC0415

        try:
            preset = cskd_preset(dataset)
        except ValueError:  # no official preset for this data set
            return {}
        return {"method_kwargs": {"lam": preset["lam"]}, "batch_size": preset["batch_size"]}
    return {}


def _ablation_plan(P: Mapping[str, Any]) -> list[Cell]:
    cells = []
    for dataset in P["datasets"]:
        m = _model(dataset, P.get("model"))
        for row in P["rows"]:
            if row == "ce":
                method, method_kwargs = "ce", {}
            elif row in ABLATIONS:
                method, method_kwargs = "focusnet", ABLATIONS[row]
            else:
                raise ValueError(f"unknown Table 10 row {row!r}; known: ce, {', '.join(ABLATIONS)}")
            cells += [Cell(row, dataset, m, seed, config(dataset, m, method, seed, P, method_kwargs=method_kwargs))
                      for seed in P["seeds"]]
    return cells


def _kd_plan(P: Mapping[str, Any]) -> list[Cell]:
    """Table 5: ResNet-18 teaches MobileNetV2 (standard KD vs FocusNet)."""
    cells = []
    for dataset in P["datasets"]:
        t_model, s_model = P.get("teacher_model", "resnet18"), P.get("student_model", "mobilenetv2_x0_5")
        for seed in P["seeds"]:
            teacher = config(dataset, t_model, "ce", seed, P)
            cells.append(Cell("teacher", dataset, t_model, seed, teacher))
            cells.append(Cell("student", dataset, s_model, seed, config(dataset, s_model, "ce", seed, P)))
            for method in ("kd", "focusnet"):
                cfg = config(dataset, s_model, method, seed, P, teacher=teacher)
                cells.append(Cell(method, dataset, s_model, seed, cfg))
    return cells


def _dereverse_plan(P: Mapping[str, Any]) -> list[Cell]:
    """Table 9: a poorly-trained MobileNetV2 teaches ResNet-18 (De-reverse KD vs FocusNet)."""
    cells = []
    stops = {**POORLY_TRAINED_EPOCHS, **(P.get("teacher_epochs") or {})}
    for dataset in P["datasets"]:
        t_model, s_model = P.get("teacher_model", "mobilenetv2_x0_5"), P.get("student_model", "resnet18")
        for seed in P["seeds"]:
            teacher = poorly_trained(config(dataset, t_model, "ce", seed, P), stops[dataset])
            cells.append(Cell("teacher", dataset, t_model, seed, teacher))
            cells.append(Cell("student", dataset, s_model, seed, config(dataset, s_model, "ce", seed, P)))
            for method in ("dereverse_kd", "focusnet"):
                cfg = config(dataset, s_model, method, seed, P, teacher=teacher)
                cells.append(Cell(method, dataset, s_model, seed, cfg))
    return cells


def _fig4_plan(P: Mapping[str, Any]) -> list[Cell]:
    """Fig. 4: FocusNet on baselines stopped at epochs 1, 10, ..., 60 (and 0 where
    :data:`FIG4_OUR_STOPS` adds it), and both at full length."""
    cells = []
    for dataset in P["datasets"]:
        m = _model(dataset, P.get("model"))
        for seed in P["seeds"]:
            full = config(dataset, m, "ce", seed, P)
            cells.append(Cell("ce", dataset, m, seed, full, x=float(full.epochs)))
            cells.append(Cell("focusnet", dataset, m, seed, config(dataset, m, "focusnet", seed, P),
                              x=float(full.epochs)))
            for stop in P.get("stops") or (*FIG4_OUR_STOPS.get(dataset, ()), *FIG4_STOPS):
                teacher = poorly_trained(full, stop)
                cells.append(Cell("teacher", dataset, m, seed, teacher, x=float(stop)))
                cells.append(Cell("focusnet_on_teacher", dataset, m, seed,
                                  config(dataset, m, "focusnet", seed, P, teacher=teacher), x=float(stop)))
    return cells


def require_data(names: Iterable[str], data_root: str | None = None) -> None:
    """Stop early, with the data set's preparation message, when one is not present."""
    for name in dict.fromkeys(names):
        datasets.check_available(name, root=data_root)


def make_runtime(*, data_root: str | None, results_dir: str | None, device: str, quiet: bool, threads: int | None,
                 keep_checkpoints: bool, amp: bool | None = None) -> Runtime:
    """The :class:`~focuslib.train.Runtime` of an artefact's runs (here, or in a cluster job)."""
    from .train import Runtime  # noqa: PLC0415

    return Runtime(device=device, data_root=data_root, results_dir=results_dir, quiet=quiet, threads=threads,
                   keep_checkpoint=keep_checkpoints, amp=amp)


def run_plan(cells: Sequence[Cell], *, data_root: str | None = None, results_dir: str | None = None,
             device: str = "auto", quiet: bool = True, train: bool = True, threads: int | None = None,
             keep_checkpoints: bool = True, amp: bool | None = None) -> pd.DataFrame:
    """Run (or fetch from the store) every cell; one row per cell with its final metrics.

    ``train=False`` only reads the store (cells not run yet get NaN metrics). ``threads``,
    ``keep_checkpoints`` and ``amp``: CPU threads while training, whether a finished run keeps its
    resume checkpoint, and bf16 autocast (:class:`~focuslib.train.Runtime`; the profile's
    :func:`runtime_options`)."""
    from .train import run  # noqa: PLC0415  (planning and reading never load the trainer)

    store = ResultsStore(results_dir)
    runtime = make_runtime(data_root=data_root, results_dir=results_dir, device=device, quiet=quiet, threads=threads,
                           keep_checkpoints=keep_checkpoints, amp=amp)
    rows = []
    for c in cells:
        final = run(c.config, runtime=runtime, store=store).final if train else store.final(c.config)
        rows.append({"row": c.row, "dataset": c.dataset, "model": c.model, "seed": c.seed, "x": c.x,
                     "profile": c.config.profile, "epochs": c.config.epochs, "key": c.config.key(),
                     "run_dir": str(store.run_dir(c.config)), **(final or {})})
    return pd.DataFrame(rows)


def _only(cells: list[Cell], field: str, wanted: Sequence[Any] | None, artefact: str) -> list[Cell]:
    """The cells whose ``field`` (``row``, or ``x``: Fig. 4's stop) is one of ``wanted`` (``None``: all);
    a value no cell has is a ValueError naming the known ones."""
    if not wanted:
        return cells
    known = list(dict.fromkeys(getattr(c, field) for c in cells))
    unknown = [str(v) for v in wanted if v not in known]
    if unknown:
        what = "row" if field == "row" else "stop"
        raise ValueError(f"unknown {what}(s) {', '.join(unknown)} for {artefact}; known: "
                         f"{', '.join(str(k) for k in known if k is not None)}")
    return [c for c in cells if getattr(c, field) in wanted]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m focuslib.experiments table2 --dataset mnist --seeds 0 1``: train (or fetch)
    the runs of one artefact outside a notebook, seed by seed, e.g. in the background.

    A run another process is training (its store lock is held) is skipped with a message, so
    several such jobs can share one list of runs."""
    import argparse  # noqa: PLC0415
    import sys  # noqa: PLC0415

    from .train import CheckpointError, Runtime, select_device  # noqa: PLC0415

    p = argparse.ArgumentParser(prog="python -m focuslib.experiments", description=main.__doc__.split("\n\n")[0])
    p.add_argument("artefact", help="table2, table3, table5, table7, table8, table9, table10, fig4 or beyond")
    p.add_argument("--profile", default="paper")
    p.add_argument("--dataset", nargs="+", help="default: the profile's")
    p.add_argument("--seeds", nargs="+", type=int, help="default: the profile's")
    p.add_argument("--rows", nargs="+", help="only these rows (method keys), in this order per seed")
    p.add_argument("--stops", nargs="+", type=float, help="fig4 only: only the cells at these stops (baseline epochs)")
    p.add_argument("--probe", action="store_true",
                   help=f"instead of the runs, their stability probes: {PROBE_EPOCHS} epochs at "
                        f"{'; '.join(p.describe() for p in PROBES)} (for a run that did not train; never a result)")
    p.add_argument("--remedy", action="store_true",
                   help=f"instead of the runs, their remedy runs: the full recipe after a {REMEDY_WARMUP_EPOCHS}-epoch "
                        "linear lr warm-up (for a run that did not train; never a result)")
    p.add_argument("--plan", action="store_true",
                   help="train nothing: list the runs (baselines included), their state in the store and the "
                        "estimated cost of the rest (focuslib.planner)")
    p.add_argument("--gpu-check", metavar="JSON", help="with --plan: the rate measured by benchmarks/gpu_check.py "
                   "(default: a stated assumption)")
    p.add_argument("--data-root", default=None)
    p.add_argument("--results-dir", default=None)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None, help="CPU threads while training (default: the profile's, "
                   "else torch's); a CPU run's numbers depend on it")
    g = p.add_argument_group("cluster jobs", "send the missing runs as jobs through submitit (focuslib.launch) "
                             "instead of training them here; the resources default to the profile's slurm block")
    g.add_argument("--launcher", choices=["slurm", "local"],
                   help="slurm: sbatch job arrays, a FocusNet run after its baseline's job (afterok); local: "
                        "submitit's local processes, baselines first")
    g.add_argument("--partition", help="SLURM partition (default: the cluster's)")
    g.add_argument("--gpus-per-job", type=int, help="GPUs of each job (default 0)")
    g.add_argument("--cpus-per-job", type=int, help="CPU cores of each job (default 1)")
    g.add_argument("--time", type=int, metavar="MINUTES", help="time limit of each job; a job that reaches it "
                   "is requeued and resumes from its checkpoint (default 240)")
    g.add_argument("--mem-gb", type=float, help="memory of each job (default: the cluster's)")
    g.add_argument("--log-dir", help="job scripts and logs, on a filesystem the nodes share (default: "
                   "<results>/.submitit)")
    a = p.parse_args(argv)
    cluster = {"partition": a.partition, "gpus_per_job": a.gpus_per_job, "cpus_per_job": a.cpus_per_job,
               "time_min": a.time, "mem_gb": a.mem_gb}
    if not a.launcher and (a.log_dir or any(v is not None for v in cluster.values())):
        p.error("--partition, --gpus-per-job, --cpus-per-job, --time, --mem-gb and --log-dir apply with "
                "--launcher only")
    if a.launcher and a.plan:
        p.error("--plan trains nothing and sends nothing: leave out --launcher")
    for flag, value, least in (("--gpus-per-job", a.gpus_per_job, 0), ("--cpus-per-job", a.cpus_per_job, 1),
                               ("--time", a.time, 1)):
        if value is not None and value < least:
            p.error(f"{flag} must be >= {least}, got {value}")
    if a.stops and a.artefact != "fig4":
        p.error("--stops applies to fig4 only")
    if a.probe and a.remedy:
        p.error("--probe and --remedy are two different runs of a failed cell: ask for one at a time")
    params: dict[str, Any] = {"profile": a.profile}
    if a.dataset:
        params["dataset"] = a.dataset
    if a.seeds is not None:
        params["seeds"] = a.seeds
    try:  # everything the command line names is checked before anything runs
        cells = _only(_only(plan(a.artefact, params), "row", a.rows, a.artefact), "x", a.stops, a.artefact)
        if a.rows:
            cells.sort(key=lambda c: (c.seed, a.rows.index(c.row)))
        if a.probe:
            cells = probe_cells(cells)
        if a.remedy:
            cells = [replace(c, config=remedy_config(c.config)) for c in cells]
        if a.plan:
            from . import planner  # noqa: PLC0415

            rate = planner.measured_rate(a.gpu_check) if a.gpu_check else planner.ASSUMED_RATE
            frame = planner.plan_frame([c.config for c in cells], ResultsStore(a.results_dir), rate)
            print(frame.to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
            print(planner.describe_plan(frame, rate))
            return 0
        options = runtime_options(resolve_params(a.artefact, params))
        if a.threads is not None:
            options["threads"] = a.threads
        Runtime(device=a.device, threads=options["threads"])  # its checks of the device and thread count
    except (KeyError, ValueError, TypeError, IntegrityError) as err:  # an unknown artefact, profile, row, option...
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        require_data({c.dataset for c in cells}, a.data_root)
    except datasets.DatasetNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if a.launcher:
        return _launch(a, cells, cluster, options)
    try:
        select_device(a.device)  # checked here, not where jobs are only sent (a login node has no GPU)
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    skipped = []
    for cell in cells:
        try:
            frame = run_plan([cell], data_root=a.data_root, results_dir=a.results_dir, device=a.device, quiet=False,
                             **options)
        except RunLockedError as err:  # another job trains this run (or its baseline): leave it to that job
            print(f"skipped {cell.config.label()}: {err}", file=sys.stderr, flush=True)
            skipped.append(cell.config.label())
            continue
        except (CheckpointError, IntegrityError, StoreConflictError, datasets.DatasetNotFoundError, ValueError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        print(frame.drop(columns=["train_data", "test_data"], errors="ignore").to_string(index=False),
              file=sys.stderr, flush=True)
    if skipped:
        print(f"{len(skipped)} run(s) left to the process training them: {', '.join(skipped)}", file=sys.stderr)
    return 0


def _launch(a: Any, cells: Sequence[Cell], cluster: Mapping[str, Any], options: Mapping[str, Any]) -> int:
    """``main``'s ``--launcher``: send the cells' missing runs as jobs (:func:`focuslib.launch.submit`)."""
    import sys  # noqa: PLC0415

    from . import launch  # noqa: PLC0415

    try:
        launch.check_launcher(a.launcher)
        resources = launch.Resources.from_profile(load_profile(a.profile)["slurm"], **cluster)
    except (TypeError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    store = ResultsStore(a.results_dir)
    root = store.root.resolve()  # jobs may start elsewhere: every path absolute
    runtime = make_runtime(data_root=str(Path(a.data_root).resolve()) if a.data_root else None, results_dir=str(root),
                           device=a.device, quiet=False, **options)
    log_dir = Path(a.log_dir).resolve() if a.log_dir else root / ".submitit"
    sent = launch.submit([c.config for c in cells], store, runtime, a.launcher, resources, log_dir, name=a.artefact)
    if a.launcher == "slurm":
        print(f"{len(sent)} job(s) sent to SLURM; logs under {log_dir}; follow them with squeue", file=sys.stderr)
        return 0
    failed = launch.failures(sent)
    for line in failed:
        print(f"failed: {line}", file=sys.stderr)
    frame = run_plan(cells, data_root=a.data_root, results_dir=str(root), train=False)
    print(frame.drop(columns=["train_data", "test_data"], errors="ignore").to_string(index=False), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
