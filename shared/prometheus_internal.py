"""The one place that writes below prometheus_client's public API: adding many observations to a labelled
histogram at once. ``Histogram.observe`` takes one value (two writes to the multiprocess mmap files each);
the fast paths count their requests' durations per bucket and add them here as one increment per bucket used
(voting_service/metrics.py, ``HotRouteMetrics``: observing 7 000 durations one by one held the event loop
~25 ms once a second). pyproject.toml bounds prometheus-client (``<0.27``) and
tests/unit/shared/test_prometheus_internal.py fails, naming this module, if a release changes what it uses:
a labelled ``Histogram`` child's ``_buckets`` (one value per bound, +Inf last) and ``_sum``, each with ``inc``.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import Histogram


def observe_counts(child: Histogram, total: float, per_bucket: Sequence[float]) -> None:
    """Add to a labelled histogram what observing durations summing to ``total``, ``per_bucket[i]`` of them in
    bucket ``i`` (non-cumulative, +Inf last), would add."""
    buckets = child._buckets  # noqa: SLF001 - see the module's docstring
    if len(buckets) != len(per_bucket):
        raise RuntimeError(f"histogram has {len(buckets)} buckets, counted {len(per_bucket)}")
    child._sum.inc(total)  # noqa: SLF001
    for value, n in zip(buckets, per_bucket):
        if n:
            value.inc(n)
