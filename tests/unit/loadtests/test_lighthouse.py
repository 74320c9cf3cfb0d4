"""Reading a Lighthouse report (loadtests/lighthouse.py, ``make lighthouse``): a saved one, trimmed, of the demo
ballot of 210 candidates as Lighthouse 12.2.3 saw it in mobile emulation (performance 74: the long main-thread
work of a long page)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from loadtests.lighthouse import TARGETS, PageResult, median_run, read_report

REPORT = json.loads((Path(__file__).parent / "data" / "lighthouse-ballot.json").read_text("utf-8"))


def test_scores_metrics_and_the_audits_that_cost_points():
    r = read_report(REPORT, name="ballot")
    assert r.scores == {"accessibility": 100, "performance": 74, "best-practices": 100}
    assert r.misses() == {"performance": 74}
    assert r.metrics["total-blocking-time"].replace("\xa0", " ") == "1,620 ms"
    assert r.benchmark_index == 747
    ids = {f.id for f in r.findings}
    assert {"total-blocking-time", "dom-size", "mainthread-work-breakdown"} <= ids
    tbt = next(f for f in r.findings if f.id == "total-blocking-time")
    assert tbt.category == "performance" and tbt.score == pytest.approx(0.12, abs=0.01)
    dom = next(f for f in r.findings if f.id == "dom-size")
    assert "2,596" in dom.line() and any("div.ballot" in item for item in dom.items)
    # an accessibility or best-practices audit that passed is not a finding
    assert not [f for f in r.findings if f.category != "performance"]


def test_a_failed_accessibility_audit_is_reported_with_its_elements():
    report = copy.deepcopy(REPORT)
    report["categories"]["accessibility"]["score"] = 0.93
    report["audits"]["color-contrast"].update(score=0, details={"type": "table", "items": [
        {"node": {"selector": "p.muted", "snippet": "<p class=\"muted\">", "explanation":
                  "Fix any of the following:\n  Element has insufficient color contrast of 3.1"}}]})
    r = read_report(report, name="ballot")
    assert r.misses() == {"accessibility": 93, "performance": 74}
    (contrast,) = [f for f in r.findings if f.id == "color-contrast"]
    assert contrast.items == ["p.muted: Element has insufficient color contrast of 3.1"]
    assert contrast.line().startswith("[accessibility] ")


def test_a_report_without_scores_misses_every_target():
    broken = {"requestedUrl": "http://x/", "runtimeError": {"code": "NO_FCP", "message": "The page did not paint"},
              "categories": {c: {"score": None, "auditRefs": []} for c in TARGETS}, "audits": {}}
    r = read_report(broken, name="home")
    assert r.error == "The page did not paint"
    assert r.misses() == dict.fromkeys(TARGETS)


def test_of_several_runs_the_median_performance_counts():
    runs = [PageResult("home", "u", {"performance": p, "accessibility": 100, "best-practices": 100}, {}, [], [])
            for p in (97, 88, 93)]
    assert median_run(runs).scores["performance"] == 93
