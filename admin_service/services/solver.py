"""The integer program of the selection (see services/selection.py) on HiGHS: one binary per candidate,
maximise the sum of valid votes, exactly ``k`` chosen, each bound a row. Only selection.py uses it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import highspy

_INF = highspy.kHighsInf


class Program:
    def __init__(self, valid: Sequence[int], k: int, members: Sequence[Sequence[int]], limits: Sequence[Any]):
        n = len(valid)
        self.n = n
        self._rows = [(float(lim.min), _INF if lim.max is None else float(lim.max)) for lim in limits]
        # Column-wise matrix: row 0 is the count; row 1 + j is bound j.
        rows_of: list[list[int]] = [[0] for _ in range(n)]
        for j, group in enumerate(members):
            for i in group:
                rows_of[i].append(1 + j)
        lp = highspy.HighsLp()
        lp.num_col_ = n
        lp.num_row_ = 1 + len(limits)
        lp.col_cost_ = [float(v) for v in valid]
        lp.col_lower_ = [0.0] * n
        lp.col_upper_ = [1.0] * n
        lp.row_lower_ = [float(k)] + [lo for lo, _ in self._rows]
        lp.row_upper_ = [float(k)] + [hi for _, hi in self._rows]
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n
        starts, index = [0], []
        for rows in rows_of:
            index.extend(rows)
            starts.append(len(index))
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = starts
        lp.a_matrix_.index_ = index
        lp.a_matrix_.value_ = [1.0] * len(index)
        h = highspy.Highs()
        for option, value in (("output_flag", False), ("threads", 1), ("random_seed", 0),
                              ("mip_rel_gap", 0.0), ("mip_abs_gap", 0.0),
                              # votes reach millions: a tolerance of 1e-6 on x could hide a vote or more
                              ("mip_feasibility_tolerance", 1e-9), ("primal_feasibility_tolerance", 1e-9)):
            h.setOptionValue(option, value)
        h.passModel(lp)
        self._h = h

    def solve(self) -> list[int] | None:
        """An optimal 0/1 vector, or None when infeasible."""
        self._h.run()
        status = self._h.getModelStatus()
        if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return None  # every variable is bounded (0/1), so "unbounded or infeasible" is infeasible
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"HiGHS: {self._h.modelStatusToString(status)}")
        return [1 if x > 0.5 else 0 for x in self._h.getSolution().col_value]

    def fix(self, i: int, value: int) -> None:
        self._h.changeColBounds(i, float(value), float(value))

    def relax(self, j: int) -> None:
        self._h.changeRowBounds(1 + j, -_INF, _INF)

    def restore(self, j: int) -> None:
        lo, hi = self._rows[j]
        self._h.changeRowBounds(1 + j, lo, hi)
