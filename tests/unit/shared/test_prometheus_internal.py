"""shared/prometheus_internal.py against the installed prometheus_client: if a release changes the histogram
internals it writes, this fails naming it (the fast paths' request durations would otherwise be lost or wrong)."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version
from prometheus_client import CollectorRegistry, Histogram

from shared.prometheus_internal import observe_counts

ROOT = Path(__file__).resolve().parents[3]


def test_the_installed_prometheus_client_is_within_the_bounds_the_internal_was_checked_against():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["dependencies"]
    (req,) = [d for d in deps if re.match(r"prometheus-client\s*[<>=!~]", d)]
    spec = SpecifierSet(re.sub(r"^prometheus-client", "", req).split(";")[0].strip())
    assert any(s.operator == "<" for s in spec), "pyproject.toml must bound prometheus-client from above"
    assert Version(version("prometheus-client")) in spec, (
        f"prometheus-client {version('prometheus-client')} is outside {spec}: check shared/prometheus_internal.py, "
        "then widen the bounds")


def test_adding_counts_scrapes_as_observing_each_value():
    values = [0.001, 0.004, 0.004, 0.03, 0.2, 7.0, 42.0]
    bounds = (0.005, 0.05, 1.0, 10.0, float("inf"))
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    h_ours = Histogram("d", "d", ["route"], buckets=bounds, registry=ours)
    h_theirs = Histogram("d", "d", ["route"], buckets=bounds, registry=theirs)
    per_bucket = [0.0] * len(bounds)
    for v in values:
        h_theirs.labels("r").observe(v)
        per_bucket[next(i for i, b in enumerate(bounds) if v <= b)] += 1
    observe_counts(h_ours.labels("r"), sum(values), per_bucket)

    def samples(registry: CollectorRegistry) -> dict:
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for m in registry.collect() for s in m.samples if not s.name.endswith("_created")}

    assert samples(ours) == samples(theirs), (
        "prometheus_client's Histogram internals changed: see shared/prometheus_internal.py")


def test_a_bucket_count_mismatch_is_refused_not_misfiled():
    h = Histogram("d", "d", buckets=(1.0, float("inf")), registry=CollectorRegistry())
    try:
        observe_counts(h, 1.0, [1, 0, 0])
    except RuntimeError as exc:
        assert "buckets" in str(exc)
    else:
        raise AssertionError("a wrong number of bucket counts was accepted")
