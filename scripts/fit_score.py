#!/usr/bin/env python3
"""Fit the forward score model (geo311.locate_score.WEIGHTS) on a development dump (run by hand).

Reads the CSV written by ``scripts/eval_locate.py --dev --dump FILE`` (the 2018 sample located
against a reference built from the 2022 sample and the citations; never the 2020 sample the
README reports on), fits an L2-regularised logistic regression of "within 30 m" on
:func:`geo311.locate_score.score_features` (a reason that names a doubt never raises the
score), prints the share of (right, wrong) pairs ordered before and after (in-sample and by
two-fold cross-validation) and the weights to paste into ``WEIGHTS``.

Usage: .venv/bin/python scripts/fit_score.py /tmp/dev.csv [--l2 1.0]
"""

from __future__ import annotations

import argparse
import ast
import csv
import random

import numpy as np

from geo311.locate_score import DOUBTS, model_score, score_features


def load(path: str) -> tuple[list[dict[str, float]], list[int], list[int]]:
    """Features, outcomes (1 = within 30 m) and the scores the dump was made with."""
    rows, ys, old = [], [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["precision"] == "none" or not row["error_m"]:
                continue
            extra = ast.literal_eval(row["features"]) if row["features"] else {}
            extra.setdefault("rung_score", int(row["score"]))
            second_m = float(row["second_m"]) if row["second_m"] else None
            second = int(row["second_score"]) if row["second_score"] else None
            reasons = [r for r in row["reasons"].split("|") if r]
            rows.append(score_features(row["precision"], reasons, extra, second_m, second))
            ys.append(int(float(row["error_m"]) <= 30))
            old.append(int(extra["rung_score"]))
    return rows, ys, old


def ordered(scores: list[float], ys: list[int]) -> float:
    """Share of (right, wrong) pairs where the right one scores higher (ties half)."""
    right = [s for s, y in zip(scores, ys, strict=True) if y]
    wrong = np.sort(np.array([s for s, y in zip(scores, ys, strict=True) if not y]))
    below = np.searchsorted(wrong, right, side="left")
    ties = np.searchsorted(wrong, right, side="right") - below
    return float((below + ties / 2).sum() / (len(right) * len(wrong)))


def fit(x: np.ndarray, y: np.ndarray, l2: float, names: list[str]) -> np.ndarray:
    """The penalised logistic fit with every doubt's weight at most 0: a doubt that would weigh
    for the answer (its rung penalty overshot) is left out and the rest fitted again."""
    free = np.ones(x.shape[1], dtype=bool)
    while True:
        w = np.zeros(x.shape[1])
        w[free] = _newton(x[:, free], y, l2)
        wrong = [i for i, n in enumerate(names) if n in DOUBTS and w[i] > 0]
        if not wrong:
            return w
        free[wrong] = False


def _newton(x: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    """Newton-Raphson (IRLS) for the penalised logistic log-likelihood (bias unpenalised)."""
    w = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -30, 30)))
        grad = x.T @ (p - y) + penalty * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dump")
    parser.add_argument("--l2", type=float, default=1.0)
    args = parser.parse_args()
    rows, ys, old = load(args.dump)
    names = ["bias"] + sorted({k for r in rows for k in r} - {"bias"})
    x = np.array([[r.get(n, 0.0) for n in names] for r in rows])
    y = np.array(ys, dtype=float)
    print(f"{len(rows):,} answers, {int(y.sum()):,} within 30 m; "
          f"rung scores: {ordered(old, ys):.1%}")
    order = list(range(len(rows)))
    random.Random(5).shuffle(order)
    halves = [order[::2], order[1::2]]
    cv_scores = [0] * len(rows)
    for train, test in (halves, halves[::-1]):
        w = fit(x[train], y[train], args.l2, names)
        weights = dict(zip(names, w, strict=True))
        for i in test:
            cv_scores[i] = model_score(rows[i], weights)
    w = fit(x, y, args.l2, names)
    weights = {n: round(float(v), 3) for n, v in zip(names, w, strict=True) if abs(v) >= 0.0005}
    fitted = [model_score(r, weights) for r in rows]
    print(f"model, two-fold: {ordered(cv_scores, ys):.1%}; in-sample: {ordered(fitted, ys):.1%}")
    print("WEIGHTS = {")
    for name, value in sorted(weights.items(), key=lambda kv: (kv[0] != "bias", kv[0])):
        print(f'    "{name}": {value},')
    print("}")


if __name__ == "__main__":
    main()
