"""Calibration plots (PNG, matplotlib) from the recorded backtests: predicted probability against what
happened, per bin of the prediction, with the diagonal of perfect calibration."""

from __future__ import annotations

from pathlib import Path

PLOTS = {
    "game_outcome": ("calibration_home_win", "Game outcome: home win (walk-forward, held-out seasons)",
                     "game_outcome_calibration.png"),
    "win_probability": ("calibration_home_win", "In-game win probability: home win (held-out seasons)",
                        "win_probability_calibration.png"),
    "xg": ("calibration", "xG per shot (leave-one-game-out)", "xg_calibration.png"),
}


def calibration_plots(records: list[dict], out_dir: Path) -> list[Path]:
    """One PNG per model with calibration bins in its metrics; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for record in records:
        spec = PLOTS.get(record["model"])
        bins = record["metrics"].get(spec[0]) if spec else None
        if not bins:
            continue
        key, title, filename = spec
        pred = [b["predicted"] for b in bins]
        obs = [b["observed"] for b in bins]
        sizes = [b["n"] for b in bins]
        top = max(max(pred), max(obs)) * 1.1
        fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
        ax.plot([0, top], [0, top], linestyle="--", color="grey", label="perfect calibration")
        ax.scatter(pred, obs, s=[20 + 180 * n / max(sizes) for n in sizes], zorder=3, label="bins (size = n)")
        ax.plot(pred, obs, zorder=2)
        m = record["metrics"].get("model") or {}
        baselines = record["metrics"].get("baselines") or {}
        lines = [f"model: log loss {m.get('log_loss')}, Brier {m.get('brier')}"]
        lines += [f"{name}: log loss {b.get('log_loss')}, Brier {b.get('brier')}" for name, b in baselines.items()]
        ax.text(0.02, 0.98, "\n".join(lines), transform=ax.transAxes, va="top", fontsize=7)
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.set_xlabel("predicted probability")
        ax.set_ylabel("observed frequency")
        version = record.get("version")
        ax.set_title(f"{title}\n{f'version {version}' if version else 'fitted from files'}", fontsize=9)
        ax.legend(loc="lower right", fontsize=7)
        fig.tight_layout()
        path = out_dir / filename
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written
