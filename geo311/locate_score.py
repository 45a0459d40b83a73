"""The forward score: a small logistic model of the chance that an answer is within 30 m.

The geocoder ranks its candidates by the ladder's own rung scores (``geo311.geocode``); this
module then turns what it knows about each candidate into the published ``score``, the chance in
percent that the answer is within 30 m of the City's own geocode. The features are ones the
geocoder already has: the precision rung, the named reasons, how many observations were merged
into an observed address point and how far they spread, how many numbers separate the anchors of
an interpolation and how far past the last known number it reaches, whether a segment range
agrees, and how far the runner-up candidate lies from this one (two readings that disagree make
either less likely). The coefficients in :data:`WEIGHTS` were fitted by ``scripts/fit_score.py``
on the development holdout only (the 2018 MyLA311 sample located against a reference built from
the 2022 sample and the parking citations: ``scripts/eval_locate.py --dev --dump``); the 2020
sample, on which the README reports, was never used to fit them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["WEIGHTS", "DOUBTS", "MODEL_PRECISIONS", "WEAK_OBSERVATION", "score_features",
           "model_score"]

#: The confidence of an observed address seen only in parking citations (no 311 geocode of it):
#: on the dev holdout such a point is within 30 m of the City's geocode only 38% of the time.
WEAK_OBSERVATION = 0.5

#: The rungs the model was fitted on (typed addresses and intersections of MyLA311 records). A
#: place or an area's centre (a neighbourhood, a ZIP) never occurs there, so the model would only
#: extrapolate for them: they keep their rung score.
MODEL_PRECISIONS = frozenset({
    "address_point", "interpolated_points", "interpolated_range", "intersection",
    "street_block", "street",
})

#: Reasons with a weight of their own (others only act through the rung score).
MODEL_REASONS = (
    "fuzzy_street_name", "street_suffix_missing", "direction_missing", "direction_mismatch",
    "zip_mismatch", "far_from_street_range", "intersection_from_addresses",
    "crossing_of_address_lines", "between_numbered_streets", "house_number_from_address_grid",
    "placed_by_address_grid", "opposite_side_neighbours", "beyond_last_known_address",
    "between_known_addresses", "range_anchored_by_addresses", "hundred_block_only",
    "house_number_not_found", "one_cross_street_only", "community_as_city", "unit_ignored",
    "spelled_number_normalized", "fraction_not_matched",
)
#: Reasons that name a doubt: their weights are fitted at most 0, so a named doubt never raises
#: the score (a positive weight would only correct an overshooting rung penalty).
DOUBTS = frozenset({
    "fuzzy_street_name", "street_suffix_missing", "direction_missing", "direction_mismatch",
    "zip_mismatch", "far_from_street_range", "intersection_from_addresses",
    "house_number_from_address_grid", "opposite_side_neighbours", "other_side",
    "beyond_last_known_address", "hundred_block_only", "house_number_not_found",
    "one_cross_street_only", "fraction_not_matched", "weak_observation", "few_known",
    "on_anchor", "far_from_anchor", "community_as_city", "unit_ignored",
})

#: Fitted coefficients (log-odds), see the module docstring. Features not listed weigh 0.
WEIGHTS: dict[str, float] = {
    "bias": -1.421,
    "address_point:address": 1.286,
    "address_point:observed": 0.804,
    "alone": 0.506,
    "anchor_confidence": 1.229,
    "between_known_addresses": -0.122,
    "between_numbered_streets": 1.011,
    "beyond_last_known_address": -0.441,
    "chance": 0.957,
    "confidence": 2.987,
    "crossing_of_address_lines": 0.824,
    "direction_mismatch": -1.858,
    "far_from_anchor": -0.397,
    "few_known": -0.031,
    "fraction_not_matched": -0.143,
    "fuzzy_street_name": -2.105,
    "house_number_from_address_grid": -0.315,
    "house_number_not_found": -0.856,
    "hundred_block_only": -0.908,
    "interpolated_points": -0.623,
    "interpolated_range": -1.173,
    "intersection": 1.47,
    "intersection_from_addresses": -1.847,
    "log_anchor_m": 0.139,
    "log_gap": 0.016,
    "log_known": 0.055,
    "log_observations": -1.662,
    "log_reach": -0.337,
    "log_runner_up_m": 0.056,
    "log_spread": 0.594,
    "on_anchor": -0.579,
    "opposite_side_neighbours": -0.096,
    "other_side": -0.096,
    "past_on_anchor": 0.168,
    "placed_by_address_grid": 0.162,
    "range_anchored_by_addresses": 0.921,
    "real_anchors": -0.279,
    "rung_score": 1.883,
    "runner_up_score": 0.042,
    "street": -0.856,
    "street_block": -0.908,
    "street_suffix_missing": -0.711,
    "weak_observation": -1.314,
}


def score_features(precision: str, reasons: Sequence[str], extra: Mapping[str, Any],
                   runner_up_m: float | None, runner_up_score: int | None) -> dict[str, float]:
    """The model's inputs for one candidate.

    :param precision: the candidate's rung.
    :param reasons: its named reasons.
    :param extra: what the rung knew (``Candidate.extra``: observations, spread_m, gap, reach...).
    :param runner_up_m: metres to the next different candidate, None when there is none.
    :param runner_up_score: that candidate's rung score.
    :returns: feature name to value (absent features are 0).

    >>> f = score_features("interpolated_points", ["between_known_addresses"],
    ...                    {"gap": 8, "reach": 4, "same_side": True, "rung_score": 80}, None, None)
    >>> f["interpolated_points"], f["between_known_addresses"], round(f["log_gap"], 2)
    (1.0, 1.0, 2.2)
    """
    rung = precision
    if precision == "address_point":
        rung = f"address_point:{extra.get('kind') or 'address'}"
    out: dict[str, float] = {"bias": 1.0, rung: 1.0}
    for reason in reasons:
        if reason in MODEL_REASONS:
            out[reason] = 1.0
    out["rung_score"] = float(extra.get("rung_score", 0)) / 100.0
    if rung == "address_point:observed":
        out["log_observations"] = math.log1p(float(extra.get("observations") or 1))
        out["log_spread"] = math.log1p(float(extra.get("spread_m") or 0.0))
        out["confidence"] = float(extra.get("confidence") or 0.0)
        out["weak_observation"] = float(out["confidence"] <= WEAK_OBSERVATION)
    if precision in ("interpolated_points", "interpolated_range"):
        out["log_gap"] = math.log1p(float(extra.get("gap") or 0))
        out["log_reach"] = math.log1p(float(extra.get("reach") or 0))
        out["chance"] = float(extra.get("chance") or 0.0)
        anchor_m = float(extra.get("anchor_m") or 0.0)
        out["log_anchor_m"] = math.log1p(anchor_m)
        out["log_known"] = math.log1p(float(extra.get("known") or 0))
        out["anchor_confidence"] = float(extra.get("anchor_confidence", 1.0))
        # Not moved off its anchor (an extrapolation that found no direction), or far from any.
        out["on_anchor"] = float(anchor_m < 5.0)
        out["past_on_anchor"] = float(anchor_m < 5.0 and extra.get("method") == "beyond")
        out["far_from_anchor"] = float(anchor_m > 500.0)
        out["few_known"] = float(int(extra.get("known") or 0) <= 2)
    if precision == "interpolated_points" and not extra.get("same_side", True):
        out["other_side"] = 1.0
    if precision == "interpolated_range":
        out["real_anchors"] = float(extra.get("real_anchors") or 0)
    if runner_up_m is None:
        out["alone"] = 1.0
    else:
        out["log_runner_up_m"] = math.log1p(min(runner_up_m, 5000.0))
        out["runner_up_score"] = float(runner_up_score or 0) / 100.0
    return out


def model_score(features: Mapping[str, float], weights: Mapping[str, float] | None = None) -> int:
    """The chance in percent (1-100) that the candidate is within 30 m.

    :param features: from :func:`score_features`.
    :param weights: coefficients; default :data:`WEIGHTS`.
    :returns: ``round(100 * sigmoid(w . f))`` kept within 1-100.

    >>> model_score({"bias": 1.0}, {"bias": 0.0})
    50
    """
    weights = WEIGHTS if weights is None else weights
    z = sum(weights.get(name, 0.0) * value for name, value in features.items())
    chance = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
    return int(max(1, min(100, round(100 * chance))))
