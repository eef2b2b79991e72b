"""``bench --plot``: latency distributions and throughput, drawn with matplotlib (the optional
``plot`` extra, imported only when a plot is asked for)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._args import CliError

if TYPE_CHECKING:
    from ._bench import Measurement

__all__ = ["plot_bench", "require_matplotlib"]

#: Bar and box colours per client.
_COLOURS = {"plain boto3": "#8c8c8c", "resilient_s3": "#1f77b4"}


def require_matplotlib() -> None:
    """Raise :class:`CliError` unless matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401 - only checking that it imports
    except ImportError:
        raise CliError(
            "--plot needs matplotlib: pip install 'resilient-s3[plot]' (or pip install matplotlib)"
        ) from None


def plot_bench(measurements: list[Measurement], path: str, subtitle: str) -> None:
    """Save a PNG to ``path``: latency box plots (log scale) and throughput bars, per operation
    and client.

    Raises:
        CliError: If matplotlib is missing or the file cannot be written.
    """
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    operations = list(dict.fromkeys(m.operation for m in measurements))
    clients = list(dict.fromkeys(m.client for m in measurements))
    by_key = {(m.operation, m.client): m for m in measurements}
    figure, (latency, throughput) = plt.subplots(1, 2, figsize=(12, 5))
    width = 0.8 / len(clients)
    for c, client in enumerate(clients):
        offsets = [o + (c - (len(clients) - 1) / 2) * width for o in range(len(operations))]
        data = [
            [1000 * t for t in by_key[(op, client)].latencies] or [float("nan")]
            for op in operations
        ]
        boxes = latency.boxplot(
            data, positions=offsets, widths=width * 0.9, patch_artist=True, showfliers=True
        )
        for box in boxes["boxes"]:
            box.set_facecolor(_COLOURS.get(client, "#2ca02c"))
        rates = [by_key[(op, client)].throughput for op in operations]
        throughput.bar(offsets, rates, width * 0.9, label=client, color=_COLOURS.get(client))
    for axes in (latency, throughput):
        axes.set_xticks(range(len(operations)))
        axes.set_xticklabels(operations)
    latency.set_yscale("log")
    latency.set_ylabel("latency (ms, log scale)")
    latency.set_title("latency per request")
    throughput.set_ylabel("requests per second")
    throughput.set_title("throughput")
    throughput.legend()
    figure.suptitle(f"resilient-s3 bench: {subtitle}")
    figure.tight_layout()
    try:
        figure.savefig(path, dpi=100)
    except OSError as exc:
        raise CliError(f"cannot write the plot to {path}: {exc.strerror or exc}") from None
    finally:
        plt.close(figure)
