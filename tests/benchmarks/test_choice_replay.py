"""The model-choice replay takes what the product's rule takes, from the kept block scores."""

import json

import pytest

from benchmarks.choice_replay import RULES, choose, load_cases, main, replay

DEFAULT = "median(auto_ets+auto_arima+auto_theta)"


def _candidate(name, kind, blocks, test, members=None, how=None):
    return {"name": name, "kind": kind, "members": members or [name], "how": how,
            "backtest_mase_mean": sum(blocks) / len(blocks), "backtest_mase": blocks,
            "test_mase": test}


def _kept(folder, name, naive_blocks, chosen):
    """A kept run whose naive_last led the blocks by ``naive_blocks``."""
    candidates = [
        _candidate("naive_last", "naive", naive_blocks, 1.4),
        _candidate(DEFAULT, "combination", [0.6, 0.5, 0.5], 1.05,
                   ["auto_ets", "auto_arima", "auto_theta"], "median"),
        _candidate("auto_ets", "classical", [0.7, 0.5, 0.6], 1.0),
        _candidate("auto_arima", "classical", [0.6, 0.6, 0.5], 1.1),
        _candidate("auto_theta", "classical", [0.5, 0.5, 0.4], 1.2),
        _candidate("lstm", "lstm", [0.9, 0.9, 0.9], 1.3)]
    (folder / "metrics").mkdir(parents=True, exist_ok=True)
    (folder / "metrics" / f"{name}.json").write_text(json.dumps({"model_choice": {
        "chosen": chosen, "default": DEFAULT, "candidates": candidates}}))


def test_the_products_rule_is_replayed_and_a_lucky_naive_forecast_falls_back(tmp_path):
    kept = tmp_path / "set"
    # one lucky block (advantage 0.1, standard error 0.2): the default, as the run chose
    _kept(kept, "lucky", [0.1, 0.6, 0.6], DEFAULT)
    # ahead in every block: naive_last, as the run chose
    _kept(kept, "clear", [0.4, 0.4, 0.4], "naive_last")
    cases = {c.name: c for c in load_cases(kept)}
    product, no_rule = RULES[0], RULES[1]
    assert choose(cases["lucky"], product)["name"] == DEFAULT
    assert choose(cases["lucky"], no_rule)["name"] == "naive_last"
    assert choose(cases["clear"], product)["name"] == "naive_last"
    text = replay([kept], RULES[:2])
    # product: default (1.05) and naive_last (1.4) over auto_ets (1.0); without: 1.4 twice
    assert "| the product's | 1.225 | 1.225 |" in text
    assert "| no standard-error rule against the default | 1.400 | 1.400 |" in text
    assert "replays every run's own choice" in text


def test_a_folder_without_kept_runs_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        main([str(tmp_path)])
    assert stopped.value.code == 2 and "accuracy.py --keep" in capsys.readouterr().err


def test_the_two_block_rule_takes_a_candidate_only_if_it_won_both(tmp_path):
    kept = tmp_path / "long"
    candidates = [
        _candidate("lstm", "lstm", [0.1, 0.6], 1.3),
        _candidate(DEFAULT, "combination", [0.5, 0.5], 1.05,
                   ["auto_ets", "auto_arima", "auto_theta"], "median"),
        _candidate("auto_ets", "classical", [0.7, 0.5], 1.0)]
    (kept / "metrics").mkdir(parents=True)
    (kept / "metrics" / "long.json").write_text(json.dumps({"model_choice": {
        "chosen": "lstm", "default": DEFAULT, "candidates": candidates}}))
    case = load_cases(kept)[0]
    rules = {rule.name: rule for rule in RULES}
    assert choose(case, rules["the product's"])["name"] == "lstm"  # the mean decides
    assert choose(case, rules["two blocks: both won against the default"])["name"] == DEFAULT
