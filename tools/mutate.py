"""Hand-listed mutants of the statistics, each of which some test must kill (issue 15).

Every mutant is a plausible wrong statistic: one exact snippet of a source file
replaced by another. Each is applied, one at a time, to a private copy of the
package and its tests in a temporary folder (never to the working tree, which
others may be editing), and only the tests meant to catch it are run. A mutant
survives when they all still pass.

    python tools/mutate.py                 # every mutant, a table, exit 1 if any survive
    python tools/mutate.py --list          # the mutants, without running anything
    python tools/mutate.py -k fairness     # only mutants whose id contains "fairness" (repeatable)

Exit status: 0 all killed; 1 a mutant survived, timed out, broke pytest itself,
or its snippet is no longer in the source (the list needs updating); 2 the
unmutated copy already fails its tests, or bad arguments.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLANTED = "tests/test_planted_bugs.py"


@dataclass(frozen=True)
class Mutant:
    id: str
    path: str
    old: str
    new: str
    what: str
    tests: tuple[str, ...]
    alternatives: tuple[tuple[str, str], ...] = ()
    """Other (old, new) forms of the same bug, for code that is being rewritten: the first found is used."""


def _planted(*names: str) -> tuple[str, ...]:
    return tuple(f"{PLANTED}::{name}" for name in names)


MUTANTS: tuple[Mutant, ...] = (
    # --- the five planted bugs of issue 15 ---------------------------------------------------
    Mutant(
        "drift-bh-removed",
        "pytest_mlgate/checks/drift.py",
        "adjusted = benjamini_hochberg(np.array([s.pvalue for _, _, s, _ in measured]))",
        "adjusted = np.array([s.pvalue for _, _, s, _ in measured])",
        "drift judges raw p-values: no Benjamini-Hochberg across columns",
        (
            *_planted("test_drift_pvalues_are_benjamini_hochberg_adjusted_across_the_columns"),
            "tests/test_drift.py::test_thirty_features_without_drift_rarely_flag[100-60]",
        ),
    ),
    Mutant(
        "psi-edges-off-by-one",
        "pytest_mlgate/stats/drift.py",
        "qs = np.quantile(values, np.arange(1, bins) / bins)",
        "qs = np.quantile(values, np.arange(0, bins) / bins)",
        "PSI bin edges start one quantile early (the minimum becomes an edge)",
        _planted(
            "test_numeric_bins_are_the_references_deciles",
            "test_the_reference_against_itself_has_zero_drift_in_every_bin",
        ),
    ),
    Mutant(
        "fairness-whole-row-bootstrap",
        "pytest_mlgate/stats/groups.py",
        "    for g in range(cells.shape[0]):\n"
        "        n = int(sizes[g])\n"
        "        draws[:, g, :] = rng.multinomial(n, cells[g] / n, size=n_boot) if n > 0 else 0.0\n",
        "    total = int(sizes.sum())\n"
        "    draws[:] = rng.multinomial(total, (cells / total).ravel(), size=n_boot).reshape(draws.shape)\n",
        "fairness bootstrap resamples whole rows, so group sizes vary",
        _planted("test_the_fairness_bootstrap_keeps_every_group_at_its_own_size"),
    ),
    Mutant(
        "fairness-straddle-passes",
        "pytest_mlgate/checks/fairness.py",
        "judge_interval(d.difference_ci, None, limit)",
        "judge_interval((d.difference, d.difference), None, limit)",
        "a disparity interval straddling max_difference is judged on its point estimate",
        _planted("test_a_fairness_interval_straddling_its_limit_is_inconclusive"),
        alternatives=(("elif high <= limit:", "elif d.difference <= limit:"),),
    ),
    Mutant(
        "canary-drift-ignores-significance",
        "pytest_mlgate/live/canary.py",
        "status: Status = judge_interval(ci, None, limit)",
        "status: Status = judge_interval((stats.psi, stats.psi), None, limit)",
        "canary score drift judged on the PSI alone, not on its interval (or its p-value)",
        _planted(
            "test_canary_score_drift_at_tiny_n_is_not_a_failure_without_significance",
            "test_canary_score_drift_that_is_large_and_significant_fails",
        ),
        alternatives=(("significant = stats.pvalue < 0.05", "significant = True"),),
    ),
    # --- drift --------------------------------------------------------------------------------
    Mutant(
        "psi-edges-off-by-one-high",
        "pytest_mlgate/stats/drift.py",
        "qs = np.quantile(values, np.arange(1, bins) / bins)",
        "qs = np.quantile(values, np.arange(1, bins + 1) / bins)",
        "PSI bin edges end one quantile late (the maximum becomes an edge)",
        _planted("test_numeric_bins_are_the_references_deciles"),
    ),
    Mutant(
        "psi-smoothing-zero",
        "pytest_mlgate/stats/drift.py",
        "SMOOTHING = 0.5",
        "SMOOTHING = 0.0",
        "no additive smoothing: one empty bin makes PSI infinite",
        (
            "tests/test_drift.py::test_an_empty_bin_does_not_explode_psi",
            "tests/test_drift.py::test_psi_and_js_by_hand_and_chi2_by_scipy",
        ),
    ),
    Mutant(
        "psi-noise-floor-bins",
        "pytest_mlgate/stats/drift.py",
        "noise = (bins - 1) * (1.0 / m + 1.0 / n)",
        "noise = bins * (1.0 / m + 1.0 / n)",
        "no-drift PSI noise floor with B instead of B-1 degrees of freedom",
        ("tests/test_drift.py::test_psi_and_js_by_hand_and_chi2_by_scipy",),
    ),
    Mutant(
        "js-natural-log",
        "pytest_mlgate/stats/drift.py",
        "js = float(0.5 * np.sum(p * np.log2(p / mid)) + 0.5 * np.sum(q * np.log2(q / mid)))",
        "js = float(0.5 * np.sum(p * np.log(p / mid)) + 0.5 * np.sum(q * np.log(q / mid)))",
        "Jensen-Shannon in nats while the threshold is in bits",
        ("tests/test_drift.py::test_psi_and_js_by_hand_and_chi2_by_scipy",),
    ),
    Mutant(
        "ks-one-sample-size",
        "pytest_mlgate/stats/drift.py",
        "ks_p = float(sps.kstwobign.sf(d * np.sqrt(m * n / (m + n))))",
        "ks_p = float(sps.kstwobign.sf(d * np.sqrt(n)))",
        "KS p-value as if the reference were the exact population",
        _planted("test_ks_pvalue_uses_both_sample_sizes"),
    ),
    Mutant(
        "drift-significance-ignored",
        "pytest_mlgate/checks/drift.py",
        "significant = p_adj < cfg.q",
        "significant = True",
        "a drift effect above threshold flags without a significant p-value",
        _planted("test_large_but_insignificant_drift_at_tiny_n_rarely_flags"),
    ),
    Mutant(
        "drift-psi-fail-ignored",
        "pytest_mlgate/checks/drift.py",
        "severe = cfg.psi_fail is not None and s.psi >= cfg.psi_fail",
        "severe = True",
        "every flagged drift fails: psi_fail no longer separates warn from fail",
        _planted("test_a_moderate_shift_warns_and_only_a_large_one_fails"),
    ),
    # --- fairness -----------------------------------------------------------------------------
    Mutant(
        "fairness-callable-whole-row-bootstrap",
        "pytest_mlgate/stats/groups.py",
        "            pick = rows[rng.integers(0, rows.size, rows.size)]\n",
        "            everyone = rng.integers(0, groups.size, groups.size)\n"
        "            pick = everyone[groups[everyone] == g]\n",
        "a user's fairness metric resampled over whole rows, so group sizes vary",
        _planted("test_a_user_metric_sees_each_group_at_its_own_size_in_every_resample"),
    ),
    Mutant(
        "fairness-ratio-on-point",
        "pytest_mlgate/checks/fairness.py",
        "judge_interval(d.ratio_ci, min_ratio, None)",
        "judge_interval((d.ratio, d.ratio), min_ratio, None)",
        "min_ratio (and the four-fifths rule) judged on the point estimate, not the bound",
        _planted("test_a_ratio_interval_straddling_its_limit_is_inconclusive"),
        alternatives=(("elif r_low >= min_ratio:", "elif d.ratio >= min_ratio:"),),
    ),
    Mutant(
        "fairness-n-boot-ignored",
        "pytest_mlgate/stats/groups.py",
        "    sizes = cells.sum(axis=1)\n",
        "    sizes = cells.sum(axis=1)\n    n_boot = 1_000\n",
        "fairness draws a fixed 1,000 resamples whatever n_boot says",
        _planted("test_the_fairness_check_uses_the_number_of_resamples_asked_for"),
    ),
    Mutant(
        "fairness-pointwise-band",
        "pytest_mlgate/stats/groups.py",
        "c = float(np.nanquantile(np.nanmax(z, axis=1), confidence)) if np.isfinite(z).any() else 0.0",
        "c = 1.959963984540054",
        "disparity bounds from pointwise 95% group intervals instead of a simultaneous band",
        _planted("test_equal_groups_rarely_get_a_difference_interval_above_zero"),
    ),
    # --- decisions ----------------------------------------------------------------------------
    Mutant(
        "holm-dropped",
        "pytest_mlgate/stats/decision.py",
        "if not pvalues[i] <= alpha / (len(pvalues) - rank):",
        "if not pvalues[i] <= alpha:",
        "reject side without Holm's correction across metrics",
        ("tests/test_stats_oracle.py::test_holm_step_down",),
    ),
    Mutant(
        "judge-interval-sides-swapped",
        "pytest_mlgate/stats/decision.py",
        "if (minimum is not None and high < minimum) or (maximum is not None and low > maximum):",
        "if (minimum is not None and low < minimum) or (maximum is not None and high > maximum):",
        "an absolute limit fails when the interval merely touches it (interval sides swapped)",
        (
            *_planted("test_an_interval_straddling_a_limit_is_inconclusive_on_either_side"),
            "tests/test_stats_oracle.py::test_threshold_judged_on_the_interval",
        ),
    ),
    Mutant(
        "judge-interval-straddle-passes",
        "pytest_mlgate/stats/decision.py",
        "if (minimum is None or low >= minimum) and (maximum is None or high <= maximum):",
        "if (minimum is None or high >= minimum) and (maximum is None or low <= maximum):",
        "an absolute limit passes when any part of the interval is inside it",
        _planted("test_an_interval_straddling_a_limit_is_inconclusive_on_either_side"),
    ),
    Mutant(
        "decision-modes-swapped",
        "pytest_mlgate/stats/decision.py",
        'promote_bar = gain if mode == "superiority" else -margin',
        'promote_bar = -margin if mode == "superiority" else gain',
        "superiority promotes on the non-inferiority bar and vice versa",
        (
            "tests/test_stats_oracle.py::test_identical_models_keep_in_superiority_and_promote_in_non_inferiority",
        ),
    ),
    Mutant(
        "underpowered-never-flagged",
        "pytest_mlgate/stats/decision.py",
        "underpowered = margin > 0 and half >= margin",
        "underpowered = False",
        "an interval wider than the margin is never called UNDERPOWERED",
        ("tests/test_stats_oracle.py::test_underpowered_states_the_rows_needed",),
    ),
    # --- paired comparisons -------------------------------------------------------------------
    Mutant(
        "mcnemar-asymptotic",
        "pytest_mlgate/stats/paired.py",
        "return float(sps.binomtest(only_cand, only_cand + only_base, 0.5).pvalue)",
        "return float(sps.chi2.sf((only_cand - only_base) ** 2 / (only_cand + only_base), 1))",
        "McNemar's chi-squared approximation instead of the exact binomial test",
        (
            "tests/test_stats_oracle.py::test_mcnemar_pvalue_equals_exact_binomial",
            "tests/test_edge_cases.py::test_mcnemar_must_confirm_an_accuracy_gain",
        ),
    ),
    Mutant(
        "delong-negatives-term-dropped",
        "pytest_mlgate/stats/delong.py",
        "var = _var(d10, m) / m + _var(d01, n) / n",
        "var = _var(d10, m) / m",
        "paired DeLong variance without the negatives' structural component",
        (
            *_planted("test_delong_standard_errors_equal_the_definition_on_unbalanced_classes"),
            "tests/test_stats_oracle.py::test_delong_se_matches_a_20000_replicate_bootstrap",
        ),
    ),
    Mutant(
        "delong-single-sizes-swapped",
        "pytest_mlgate/stats/delong.py",
        "var = _var(c.v10[0], m) / m + _var(c.v01[0], n) / n",
        "var = _var(c.v10[0], m) / n + _var(c.v01[0], n) / m",
        "single-model DeLong variance divides by the other class's count",
        (
            *_planted("test_delong_standard_errors_equal_the_definition_on_unbalanced_classes"),
            "tests/test_stats_oracle.py::test_single_auc_se_matches_bootstrap_and_value_matches_sklearn",
        ),
    ),
    Mutant(
        "n-boot-ignored",
        "pytest_mlgate/stats/bootstrap.py",
        "parts = [_draw_chunked(draw, rng, n_boot)]",
        "parts = [_draw_chunked(draw, rng, DEFAULT_N_BOOT)]",
        "the paired bootstrap draws the default 2,000 resamples whatever n_boot says",
        _planted("test_a_comparison_draws_the_number_of_resamples_asked_for"),
    ),
    Mutant(
        "percentile-interval-90",
        "pytest_mlgate/stats/bootstrap.py",
        "[alpha / 2.0, 1.0 - alpha / 2.0], method=",
        "[alpha, 1.0 - alpha], method=",
        "a 95% bootstrap interval taken at the 5% and 95% percentiles (a 90% interval)",
        _planted("test_a_bootstrap_interval_on_a_mean_loss_agrees_with_the_paired_t_interval"),
    ),
)


@dataclass
class Outcome:
    mutant: Mutant
    result: str  # killed, survived, timeout, stale, error
    seconds: float
    detail: str


def _copy_tree(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for folder in ("pytest_mlgate", "tests"):
        shutil.copytree(ROOT / folder, target / folder, ignore=ignore)
    # pyproject.toml carries the pytest options (markers, -p pytester); examples/ feeds some fixtures.
    shutil.copy2(ROOT / "pyproject.toml", target / "pyproject.toml")
    if (ROOT / "examples").is_dir():
        shutil.copytree(ROOT / "examples", target / "examples", ignore=ignore)


def _env(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    # The copy must shadow the editable install, and a mutant's bytecode must never be reused
    # for the restored source (same size, same second: the pyc check would not notice).
    env["PYTHONPATH"] = str(copy) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _pytest(copy: Path, tests: list[str], timeout: float) -> tuple[int | None, str]:
    command = [sys.executable, "-m", "pytest", "-q", "-rf", "-p", "no:cacheprovider", *tests]
    try:
        done = subprocess.run(
            command, cwd=copy, env=_env(copy), capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return None, ""
    return done.returncode, done.stdout + done.stderr


def _failed_tests(output: str) -> str:
    names = re.findall(r"^(?:FAILED|ERROR) (\S+)", output, flags=re.MULTILINE)
    return ", ".join(name.split("::", 1)[-1] for name in names) or output.strip().splitlines()[-1:][0]


def run_mutant(copy: Path, mutant: Mutant, timeout: float) -> Outcome:
    path = copy / mutant.path
    original = path.read_text(encoding="utf-8")
    forms = [
        (old, new)
        for old, new in ((mutant.old, mutant.new), *mutant.alternatives)
        if original.count(old) == 1
    ]
    if not forms:
        return Outcome(
            mutant, "stale", 0.0, f"no snippet of this mutant is found exactly once in {mutant.path}"
        )
    old, new = forms[0]
    start = time.monotonic()
    path.write_text(original.replace(old, new), encoding="utf-8")
    try:
        code, output = _pytest(copy, list(mutant.tests), timeout)
    finally:
        path.write_text(original, encoding="utf-8")
    seconds = time.monotonic() - start
    if code is None:
        return Outcome(mutant, "timeout", seconds, f"tests ran past {timeout:.0f} s")
    if code == 0:
        return Outcome(mutant, "survived", seconds, "all targeted tests passed")
    if code == 1:
        return Outcome(mutant, "killed", seconds, _failed_tests(output))
    # 2 (collection error, e.g. the mutant breaks an import), 4 (bad arguments), 5 (no tests ran)
    lines = output.strip().splitlines()
    return Outcome(mutant, "error", seconds, f"pytest exit {code}: {lines[-1] if lines else ''}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "-k",
        dest="patterns",
        action="append",
        default=[],
        help="only mutants whose id contains this (repeatable)",
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant (default 300)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--no-baseline", action="store_true", help="skip the run on the unmutated copy")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTANTS if not args.patterns or any(p in m.id for p in args.patterns)]
    if not chosen:
        print(f"no mutant id contains any of {args.patterns}", file=sys.stderr)
        return 2
    if args.list:
        for m in chosen:
            print(f"{m.id:40} {m.path:36} {m.what}")
        return 0
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mlgate-mutate-") as folder:
        copy = Path(folder)
        _copy_tree(copy)
        where = subprocess.run(
            [sys.executable, "-c", "import pytest_mlgate; print(pytest_mlgate.__file__)"],
            cwd=copy,
            env=_env(copy),
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if not where.startswith(str(copy)):
            print(f"the copy does not shadow the installed package (imported {where!r})", file=sys.stderr)
            return 2
        if not args.no_baseline:
            tests = sorted({t for m in chosen for t in m.tests})
            code, output = _pytest(copy, tests, args.timeout * 2)
            if code != 0:
                print("the unmutated copy already fails its targeted tests, so no mutant can be judged:")
                print(output[-4000:] if code is not None else "(timed out)")
                return 2
            print(f"baseline: {len(tests)} targeted tests pass on the unmutated copy")
        outcomes = []
        for mutant in chosen:
            outcome = run_mutant(copy, mutant, args.timeout)
            outcomes.append(outcome)
            print(f"{outcome.result:9} {outcome.seconds:6.1f}s  {mutant.id}: {outcome.detail}", flush=True)
    print()
    print(f"| {'mutant':40} | {'file':36} | result   | seconds | killed by")
    print(f"|{'-' * 42}|{'-' * 38}|----------|---------|----------")
    for o in outcomes:
        short = o.mutant.path.removeprefix("pytest_mlgate/")
        print(f"| {o.mutant.id:40} | {short:36} | {o.result:8} | {o.seconds:7.1f} | {o.detail}")
    # Only a failing test counts: a timeout may be a loaded machine, an error a broken mutant.
    caught = [o for o in outcomes if o.result == "killed"]
    missed = [o for o in outcomes if o not in caught]
    print()
    print(f"{len(caught)} of {len(outcomes)} mutants killed in {time.monotonic() - began:.0f} s")
    for o in missed:
        print(f"NOT KILLED: {o.mutant.id} ({o.result}): {o.mutant.what}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
