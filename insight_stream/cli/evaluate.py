"""``insight-stream evaluate``: prequential model quality, with baselines, on one dataset."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from insight_stream.cli.progress import Progress
from insight_stream.cli.report import write_json_report

if TYPE_CHECKING:
    from insight_stream.models.recs import RecsConfig


def _table(report: dict[str, Any]) -> str:
    lines = [f"dataset: {report['dataset']}", f"{'metric':<28} {'engine':>9}  baselines"]
    base = report.get("baselines", {})
    for name, value in report["metrics"].items():
        others = [f"{b}={v[name]:.3f}" for b, v in base.items() if name in v]
        shown = f"{value:9.3f}" if isinstance(value, int | float) else f"{value!s:>9}"
        lines.append(f"{name:<28} {shown}  {'  '.join(others)}")
    if "params" in report:
        fitted = ", ".join(f"{k}={v:.4g}" for k, v in report["params"].items())
        lines.append(f"fitted params: {fitted}")
        if "paper_params" in report:
            paper = ", ".join(f"{k}={v:.4g}" for k, v in report["paper_params"].items())
            lines.append(f"paper params:  {paper}")
    quality = report.get("segments_quality")
    if quality:
        shown = {
            k: quality.get(k)
            for k in ("status", "k", "silhouette", "davies_bouldin", "k_scores", "refit_seconds")
        }
        lines.append(f"segments quality: {shown}")
    for key in ("counts", "n_customers", "n_orders", "n_cases"):
        if key in report:
            lines.append(f"{key}: {report[key]}")
    if "fairness" in report:
        from insight_stream.evaluate.fairness import format_fairness

        lines.append(format_fairness(report["fairness"]))
    if "drift" in report:
        when = [f"{e['detector']}@day{e['day']}" for e in report["drift"]["events"]]
        lines.append(f"drift detections: {report['drift']['detections']} {' '.join(when)}")
    return "\n".join(lines)


def _sweep(args: argparse.Namespace) -> dict[str, Any]:
    from insight_stream.evaluate.sweep import run_sweep

    def on_run(i: int, n: int, world: str, seed: int, seconds: float) -> None:
        print(f"sweep [{i}/{n}] {world} seed {seed}: {seconds:.1f}s", file=sys.stderr, flush=True)

    worlds = args.worlds.split(",") if args.worlds else None
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else None
    kwargs: dict[str, Any] = {"users": args.sweep_users, "days": args.sweep_days, "on_run": on_run}
    if worlds:
        kwargs["worlds"] = worlds
    if seeds:
        kwargs["seeds"] = seeds
    return run_sweep(**kwargs)


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    if args.dataset == "sim":
        from insight_stream.evaluate.simulated import evaluate_simulated
        from insight_stream.sim import world

        sim = world(args.world, users=args.users, days=args.days, seed=args.seed)
        with Progress(None, "evaluate") as bar:
            report = evaluate_simulated(sim, on_progress=bar.update)
        return report
    if args.dataset in ("cdnow", "cdnow-master"):
        from insight_stream.evaluate.cdnow import evaluate_cdnow

        return evaluate_cdnow("master" if args.dataset == "cdnow-master" else "sample")
    from insight_stream.evaluate.instacart import evaluate as evaluate_instacart

    if args.dataset == "complements":
        from insight_stream.evaluate.complements import ComplementWorld, evaluate_complements

        shop = ComplementWorld(users=args.users, days=args.days, seed=args.seed)
        return evaluate_complements(shop, recs=_recs_config(args.recs_preset))
    return evaluate_instacart(recs=_recs_config(args.recs_preset))


def _recs_config(preset: str) -> RecsConfig:
    from insight_stream.models.recs import RecsConfig

    return RecsConfig.grocery() if preset == "grocery" else RecsConfig()


def run(args: argparse.Namespace) -> int:
    from insight_stream.sim import WORLDS

    names = [args.world, *(args.worlds.split(",") if args.worlds else [])]
    unknown = [n for n in names if n not in WORLDS]
    if unknown:
        print(
            f"evaluate: unknown world {unknown[0]!r}; choose from {', '.join(WORLDS)}",
            file=sys.stderr,
        )
        return 2
    if args.sweep:
        from insight_stream.evaluate.sweep import format_sweep

        result = _sweep(args)
        print(format_sweep(result))
        if args.json:
            for run in result["runs"]:
                run["report"].pop("segments_quality", None)
            write_json_report(args.json, result)
        return 0
    try:
        report = evaluate(args)
    except (ImportError, FileNotFoundError) as exc:
        print(
            f"evaluate: dataset {args.dataset!r} unavailable: {exc} "
            "(install the eval extra: pip install 'insight-stream[eval]')",
            file=sys.stderr,
        )
        return 2
    print(_table(report))
    write_json_report(args.json, report)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="measure model quality (prequential) against baselines",
        description="Run the engine in event time over a dataset and score it against ground "
        "truth and baselines computed in the same run. sim: segments ARI/NMI vs latent types, "
        "recommendations HR@10/NDCG@10 vs popularity, churn ROC-AUC, alert precision/recall. "
        "cdnow / cdnow-master: BG/NBD fit vs the published parameters and holdout churn "
        "ROC-AUC vs BG/NBD and recency baselines. instacart: prequential HR/Recall/NDCG@10 "
        "vs popularity, personal frequency, SAR, TIFU-KNN and item-kNN, split into repeat and "
        "new items, with catalogue coverage. complements: a synthetic shop where B follows "
        "A in a later order; complement recovery vs SAR and popularity.",
    )
    p.add_argument(
        "--dataset",
        choices=["sim", "cdnow", "cdnow-master", "instacart", "complements"],
        default="sim",
        help="dataset (default: %(default)s)",
    )
    p.add_argument(
        "--users", type=int, default=3000, help="sim, complements: users (default: %(default)s)"
    )
    p.add_argument(
        "--days", type=int, default=120, help="sim, complements: days (default: %(default)s)"
    )
    p.add_argument(
        "--seed", type=int, default=7, help="sim, complements: seed (default: %(default)s)"
    )
    p.add_argument(
        "--recs-preset",
        choices=["default", "grocery"],
        default="default",
        help="instacart/complements: recommendations settings, RecsConfig() or "
        "RecsConfig.grocery() (default: %(default)s)",
    )
    p.add_argument(
        "--world",
        default="default",
        help="sim: simulator world preset (default: %(default)s; see `simulate --help`)",
    )
    p.add_argument(
        "--sweep",
        action="store_true",
        help="sim: evaluate several worlds x seeds on small shops and print one table "
        "(progress on stderr)",
    )
    p.add_argument("--worlds", help="sweep: comma-separated worlds (default: 7 presets)")
    p.add_argument("--seeds", help="sweep: comma-separated seeds (default: 1,2,3)")
    p.add_argument(
        "--sweep-users", type=int, default=1000, help="sweep: users per run (default: %(default)s)"
    )
    p.add_argument(
        "--sweep-days", type=int, default=120, help="sweep: days per run (default: %(default)s)"
    )
    p.add_argument("--json", metavar="PATH", help="write the report as JSON")
    p.set_defaults(func=run)
