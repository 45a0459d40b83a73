"""The forward score model (geo311.locate_score): known orderings on hand-made feature sets."""

from __future__ import annotations

from geo311.locate_score import WEIGHTS, model_score, score_features


def _observed(confidence: float, rung: int) -> int:
    extra = {"kind": "observed", "confidence": confidence, "observations": 1, "spread_m": 0.0,
             "rung_score": rung}
    return model_score(score_features("address_point", ["observed_address"], extra, None, None))


def _between(rung: int, anchor_confidence: float = 0.9, known: int = 12) -> int:
    extra = {"method": "between", "gap": 20, "reach": 10, "same_side": True, "chance": 0.7,
             "anchor_m": 40.0, "known": known, "anchor_confidence": anchor_confidence,
             "rung_score": rung}
    return model_score(score_features("interpolated_points", ["house_number_interpolated",
                                                              "between_known_addresses"],
                                      extra, None, None))


def test_scores_stay_within_1_and_100():
    assert model_score({"bias": 1.0}, {"bias": 99.0}) == 100
    assert model_score({"bias": 1.0}, {"bias": -99.0}) == 1


def test_a_city_geocoded_address_outscores_one_seen_only_in_citations():
    assert _observed(0.95, 96) > _observed(0.5, 46)


def test_interpolation_between_city_geocodes_outscores_one_between_citations():
    assert _between(62, anchor_confidence=0.9) > _between(62, anchor_confidence=0.5)


def test_an_observed_address_outscores_an_interpolation():
    assert _observed(0.9, 86) > _between(62)


def test_a_misspelled_street_scores_lower_than_the_same_answer_spelled_right():
    extra = {"method": "between", "gap": 20, "reach": 10, "chance": 0.7, "anchor_m": 40.0,
             "known": 12, "anchor_confidence": 0.9, "rung_score": 62}
    exact = score_features("interpolated_points", ["between_known_addresses"], extra, None, None)
    fuzzy = score_features("interpolated_points", ["between_known_addresses",
                                                   "fuzzy_street_name"], extra, None, None)
    assert model_score(fuzzy) < model_score(exact)


def test_every_weight_names_a_feature_the_model_computes():
    seen = set()
    for precision, extra in (
            ("address_point", {"kind": "observed", "confidence": 0.9, "observations": 2}),
            ("address_point", {"kind": "address"}),
            ("interpolated_points", {"method": "beyond", "same_side": False, "anchor_m": 1.0}),
            ("interpolated_range", {"real_anchors": 2, "gap": 10}),
            ("intersection", {}), ("street_block", {}), ("street", {}), ("place", {})):
        seen |= set(score_features(precision, list(WEIGHTS), extra, None, None))
        seen |= set(score_features(precision, [], extra, 50.0, 40))
    assert set(WEIGHTS) <= seen
