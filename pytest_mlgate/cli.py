"""The ``mlgate`` command: the same gate without pytest, and report tools.

Exit codes (DESIGN §5): 0 passed, 1 gate failed, 2 usage or config error,
3 data or model could not be read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .errors import ConfigError, DataError, MlgateError, MlgateWarning

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DATA = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse exits 2 as well; keep our prefix
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"mlgate: error: {message}\n")


PROMPT_TRACKING_HELP = "tracking URI (default: that of the mlgate config here, else $MLFLOW_TRACKING_URI)"


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mlgate", description="Model quality gate: promote, keep or reject a candidate.")
    parser.add_argument("--version", action="version", version=f"mlgate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    gate = sub.add_parser("gate", help="run the gate and write the JSON report")
    gate.add_argument(
        "-c", "--config", type=Path, help="config file (default: mlgate.yaml or pyproject.toml here)"
    )
    gate.add_argument(
        "-o", "--report", type=Path, help="JSON report path (default: the config's report.path)"
    )
    gate.add_argument("--seed", type=int, help="override the config's seed")
    gate.add_argument("--fail-on", choices=("reject", "keep", "never"), help="which decision exits 1")
    gate.add_argument("--markdown", type=Path, help="also write the Markdown rendering here")
    gate.add_argument("--html", type=Path, help="also write the HTML report (plots: the `plots` extra) here")
    gate.add_argument(
        "--update-golden",
        choices=("all", "new"),
        help="write the `regression:` golden files (all, or only missing ones)",
    )
    gate.add_argument("--force-update", action="store_true", help="allow --update-golden when CI=true")
    gate.add_argument(
        "--no-plots",
        action="store_true",
        help="leave the report's `plots` section (the HTML figures) out (config: report.plots)",
    )
    gate.add_argument(
        "--no-log",
        action="store_true",
        help="do not log the report to the candidate's MLflow run and version",
    )

    promote = sub.add_parser(
        "promote", help="move the production alias to a gated candidate (compare-and-swap)"
    )
    promote.add_argument("report", type=Path, nargs="?", default=None, help="the gate's JSON report")
    promote.add_argument("-c", "--config", type=Path, help="the config the gate ran with")
    promote.add_argument("--alias", help="alias to move (default: the config's mlflow.alias, champion)")
    promote.add_argument("--reason", default="", help="why, for the ledger")
    promote.add_argument("--by", help="who, for the ledger (default: $GITHUB_ACTOR or the user)")
    tagging = promote.add_mutually_exclusive_group()
    tagging.add_argument(
        "--git-tag", dest="git_tag", action="store_true", default=None, help="require the git tag"
    )
    tagging.add_argument("--no-git-tag", dest="git_tag", action="store_false", help="skip the git tag")
    promote.add_argument("--push", metavar="REMOTE", help="push the tag to this git remote")
    promote.add_argument(
        "--lock-timeout", type=float, default=30.0, help="seconds to wait for another promotion"
    )
    promote.add_argument(
        "--rerun",
        action="store_true",
        help="gate again now (writing and logging the report) and promote on that result, "
        "instead of trusting a report written earlier",
    )

    rollback = sub.add_parser("rollback", help="move the production alias back, and record who, when and why")
    _registry_args(rollback)
    rollback.add_argument("--to-version", help="roll back to this version (default: the previous champion)")
    rollback.add_argument("--reason", required=True, help="why, for the ledger")
    rollback.add_argument("--by", help="who, for the ledger (default: $GITHUB_ACTOR or the user)")
    rollback.add_argument(
        "--lock-timeout", type=float, default=30.0, help="seconds to wait for another promotion"
    )

    promote_prompt = sub.add_parser(
        "promote-prompt",
        help="move a prompt alias in MLflow's prompt registry to the prompt version a PROMOTE report gated",
    )
    promote_prompt.add_argument("report", type=Path, help="the LLM gate's JSON report")
    promote_prompt.add_argument("--prompt", required=True, help="prompt name in the registry")
    promote_prompt.add_argument(
        "--alias", help="alias to move (default: the one the report's baseline named)"
    )
    promote_prompt.add_argument("--version", help="refuse unless the report gated this version")
    promote_prompt.add_argument("-c", "--config", type=Path, help="with --rerun: the LLM gate's config")
    promote_prompt.add_argument(
        "--rerun",
        action="store_true",
        help="gate again now (writing REPORT) and promote on that result, instead of trusting a report file",
    )
    rollback_prompt = sub.add_parser(
        "rollback-prompt", help="move a prompt alias back, and record who, when and why"
    )
    rollback_prompt.add_argument("--prompt", required=True, help="prompt name in the registry")
    rollback_prompt.add_argument("--alias", required=True, help="alias to move back")
    rollback_prompt.add_argument("--to-version", help="roll back to this version (default: the previous one)")
    history_prompt = sub.add_parser("history-prompt", help="print a prompt's aliases, ledger and versions")
    history_prompt.add_argument("--prompt", required=True, help="prompt name in the registry")
    history_prompt.add_argument("--tracking-uri", help=PROMPT_TRACKING_HELP)
    history_prompt.add_argument("--json", action="store_true", help="print JSON")
    for command in (promote_prompt, rollback_prompt):
        command.add_argument(
            "--reason", default="", required=command is rollback_prompt, help="why, for the ledger"
        )
        command.add_argument("--by", help="who, for the ledger (default: $GITHUB_ACTOR or the user)")
        command.add_argument("--tracking-uri", help=PROMPT_TRACKING_HELP)
        command.add_argument(
            "--lock-timeout", type=float, default=30.0, help="seconds to wait for another promotion"
        )

    history = sub.add_parser("history", help="print the promotion ledger and the gated versions")
    _registry_args(history)
    history.add_argument("--json", action="store_true", help="print JSON")

    board = sub.add_parser("dashboard", help="one static HTML page of past gates and monitor runs over time")
    board.add_argument("folder", type=Path, nargs="?", help="a folder of JSON reports (gate and monitor)")
    board.add_argument("--mlflow", action="store_true", help="read the reports the gate logged to MLflow")
    _registry_args(board)
    board.add_argument("-o", "--output", type=Path, default=Path("mlgate-dashboard.html"), help="HTML path")
    board.add_argument("--glob", default="*.json", help="which files of the folder are reports")
    board.add_argument("--order", choices=("time", "name"), default="time", help="order of the runs")
    board.add_argument(
        "--skip-bad", action="store_true", help="leave out (and list) reports that fail the schema"
    )

    validate = sub.add_parser("validate-config", help="check a config file and exit 0 or 2")
    validate.add_argument("config", type=Path, nargs="?")
    # `gate -c PATH` works, so the same spelling must work here.
    validate.add_argument("-c", "--config", dest="config_flag", type=Path, help="same as the positional PATH")

    report = sub.add_parser("report", help="render a JSON report")
    report.add_argument("report", type=Path, nargs="?", default=Path("mlgate-report.json"))
    report.add_argument(
        "--format",
        choices=("markdown", "md", "text", "json", "html"),
        default="markdown",
        help="markdown (or md), text, json or html",
    )
    report.add_argument("-o", "--output", type=Path, help="write here instead of stdout")

    github = sub.add_parser("github", help="GitHub Actions glue: summary, annotations, outputs, PR comment")
    gh = github.add_subparsers(dest="github_command", required=True, parser_class=_Parser)
    publish = gh.add_parser("publish", help="write the job summary and step outputs, print annotations")
    publish.add_argument("report", type=Path)
    publish.add_argument("--annotate-file", help="file the annotations point at (the config, say)")
    post = gh.add_parser("comment", help="create or update the sticky PR comment (token: $GITHUB_TOKEN)")
    post.add_argument("report", type=Path)
    post.add_argument("--key", default="mlgate", help="which sticky comment: one per key and PR")
    post.add_argument("--repository", help="OWNER/NAME (default: $GITHUB_REPOSITORY)")
    post.add_argument(
        "--pull-request", type=int, help="PR number (default: from the event in $GITHUB_EVENT_PATH)"
    )
    post.add_argument("--head-sha", help="refuse unless the PR's head is this commit (workflow_run pattern)")
    post.add_argument(
        "--forbidden-ok", action="store_true", help="warn instead of failing when the token may not comment"
    )
    fire = gh.add_parser("dispatch", help="send a repository_dispatch event (token: $GITHUB_TOKEN)")
    fire.add_argument("--event-type", required=True)
    fire.add_argument("--report", type=Path, help="add the report's decision, drift flag and sha256")
    fire.add_argument("--reason", help="a short reason, carried in client_payload")
    fire.add_argument("--repository", help="OWNER/NAME (default: $GITHUB_REPOSITORY)")

    live_help = {
        "canary": "judge a canary arm against the control arm from prediction logs: promote, continue or rollback",
        "shadow": "compare a shadow model with production on the same logged requests",
        "abtest": "analyse an A/B test's business outcomes from logs (with a sample-ratio check)",
        "monitor": "check the last days of logs: quality, drift, operations, KPIs -> ok, alert or retrain",
    }
    for name, text in live_help.items():
        live = sub.add_parser(name, help=text)
        live.add_argument("-c", "--config", type=Path, help="live config (default: mlgate-live.yaml here)")
        live.add_argument("--logs", type=Path, help="log file (default: the config's logs.path)")
        live.add_argument(
            "-o", "--report", type=Path, help=f"JSON report (default: mlgate-{name}-report.json)"
        )
        live.add_argument("--seed", type=int, help="override the config's seed")
        live.add_argument("--markdown", type=Path, help="also write the Markdown rendering here")
        live.add_argument("--html", type=Path, help="also write the HTML report here")
        if name == "canary":
            live.add_argument(
                "--control", help="the control arm's value (default: the config's canary.control)"
            )
            live.add_argument("--canary", help="the canary arm's value (default: the config's canary.canary)")
            live.add_argument("--since", help="window start, ISO 8601 (default: the log's first row)")
            live.add_argument("--until", help="window end, exclusive (default: after the log's last row)")
        if name == "monitor":
            live.add_argument("--days", type=float, help="window length in days (default: the config's)")
            live.add_argument("--now", help="window end, ISO 8601 (default: the current time)")

    schema = sub.add_parser("schema", help="print a JSON Schema")
    schema.add_argument("which", choices=("config", "report", "live"))
    schema.add_argument(
        "--markdown", action="store_true", help="the config (or live config) reference as Markdown (docs/)"
    )

    sub.add_parser("metrics", help="list the built-in metrics")

    profile = sub.add_parser("profile", help="write a reference profile (and a starting data contract)")
    profile.add_argument("data", type=Path, help="CSV or Parquet file, read in chunks")
    profile.add_argument("-o", "--output", type=Path, default=Path("profile.json"), help="profile JSON path")
    profile.add_argument("--columns", nargs="+", help="columns to profile (default: all)")
    profile.add_argument(
        "--contract", type=Path, help="also write an inferred `validation:` contract (YAML) here"
    )
    profile.add_argument("--chunk-rows", type=int, default=200_000, help="rows per chunk (memory bound)")
    profile.add_argument(
        "--engine",
        choices=("pandas", "spark"),
        default="pandas",
        help="spark: DATA is a Parquet folder or a Delta table",
    )
    profile.add_argument(
        "--like",
        type=Path,
        help="with --engine spark: count on this profile's edges, so the two merge exactly",
    )
    return parser


def _registry_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", type=Path, help="config naming the model and tracking URI")
    parser.add_argument("--model", help="registered model name (default: from the config's candidate)")
    parser.add_argument("--alias", help="the alias (default: the config's mlflow.alias, champion)")
    parser.add_argument(
        "--tracking-uri", help="tracking URI (default: the config's, else $MLFLOW_TRACKING_URI)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    from . import progress

    args = _parser().parse_args(argv)
    progress.enable()
    try:
        return int(_COMMANDS[args.command](args))
    except MlgateError as exc:
        from .report.table import safe_lines

        # Messages name columns and values from the data: no line of theirs may be a workflow command.
        print(safe_lines(f"mlgate: {exc}"), file=sys.stderr)
        return (
            EXIT_USAGE
            if isinstance(exc, ConfigError)
            else (EXIT_DATA if isinstance(exc, DataError) else EXIT_FAILED)
        )
    except KeyboardInterrupt:
        return 130
    except MemoryError:
        # Not a bug, and not a verdict: the rows did not fit. Say what does fit, and free nothing first.
        print(
            f"mlgate: `{args.command}` ran out of memory: one machine holds the columns it uses in memory. "
            "Gate a sample, or run it where the data is with `data.engine: spark` (docs/spark.md)",
            file=sys.stderr,
        )
        return EXIT_DATA
    except Exception as exc:  # a bug of ours: say so without a wall of traceback
        if os.environ.get("MLGATE_DEBUG"):
            raise
        from .report.table import safe_lines

        print(
            safe_lines(
                f"mlgate: internal error: {type(exc).__name__}: {exc} (set MLGATE_DEBUG=1 for the traceback)"
            ),
            file=sys.stderr,
        )
        return EXIT_FAILED
    finally:
        progress.enable(False)


def _config_path(given: Path | None) -> Path:
    from .config import find_config

    if given is not None:
        return given
    found = find_config(Path.cwd())
    if found is None:
        raise ConfigError(
            "no mlgate.yaml, mlgate.yml or [tool.mlgate] in pyproject.toml here; pass --config PATH"
        )
    return found


def _cmd_gate(args: argparse.Namespace) -> int:
    from .config import load_config
    from .gate import run_gate
    from .lineage import warnings_of
    from .report.table import plain, rows, term

    overrides: dict[str, Any] = {}
    if args.seed is not None:
        overrides["seed"] = args.seed
    if args.fail_on is not None:
        overrides["fail_on"] = args.fail_on
    if args.report:
        _remove_stale(args.report)  # even if the config turns out to be broken
    config = load_config(_config_path(args.config).resolve(), overrides)
    if args.no_plots:
        from dataclasses import replace

        config = replace(config, report_plots=False)
    path = args.report or config.report_path
    _remove_stale(path)
    with warnings.catch_warnings():  # printed below as `warning:` lines, not as Python warnings
        warnings.simplefilter("ignore", MlgateWarning)
        report = run_gate(config, golden_mode=args.update_golden or "never", force_update=args.force_update)
    _write_report(report, path, args)
    print(f"mlgate {__version__}  seed={config.seed}  mode={config.mode}  fail-on={config.fail_on}")
    print(plain(rows([c.to_dict() for c in report.checks])))
    if config.llm is not None:
        from .llm.report import terminal_lines

        for line in terminal_lines([c.to_dict() for c in report.checks]):
            print(term(line))
    print(f"decision: {term(report.summary)}")
    print(f"report: {term(path)}")
    for line in warnings_of(report.provenance):
        print(f"warning: {term(line)}", file=sys.stderr)
    if not args.no_log:
        from .registry.publish import publish

        published = publish(report, path, config)
        if published is not None:
            print(f"mlflow: {published}")
    return EXIT_FAILED if report.failed() else EXIT_OK


def _reached(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Print `state: …` last, however the command ends, so that scripts (the actions) know what happened.

    done: everything this command does is done; unchanged: the registry is as it was; alias-moved:
    the alias points at the new version but a later step (ledger, git tag) failed; unknown: the move
    itself failed without an answer. A rerun of the same command converges from every one of them.
    """

    def run(args: argparse.Namespace) -> int:
        try:
            code = int(command(args))
        except MlgateError as exc:
            print(f"state: {getattr(exc, 'state', 'unchanged')}", flush=True)
            raise
        except Exception:
            print("state: unknown", flush=True)
            raise
        print("state: done", flush=True)
        return code

    return run


def _cmd_promote(args: argparse.Namespace) -> int:
    from .config import load_config
    from .registry.commands import promote

    config = load_config(_config_path(args.config).resolve())
    report_path = args.report or config.report_path
    made_here = _gate_again(config, report_path) if args.rerun else None
    result = promote(
        report_path,
        config,
        alias=args.alias,
        by=args.by,
        reason=args.reason,
        git_tag=args.git_tag,
        push=args.push,
        lock_timeout=args.lock_timeout,
        made_here=made_here,
    )
    for note in result.notes:
        print(f"note: {note}")
    print(f"promoted: {result.move}" if result.move.moved else f"already promoted: {result.move}")
    if result.git_tag:
        state = "created" if result.git_tag_created else "already there"
        pushed = f", pushed to {result.pushed_to}" if result.pushed_to else ""
        if result.problem is not None and args.push:
            pushed = f", NOT pushed to {args.push}"
        print(f"git tag: {result.git_tag} ({state}{pushed})")
    if result.problem is not None:
        raise result.problem
    return EXIT_OK


def _gate_again(config: Any, path: Path) -> str:
    """`promote --rerun`: the gate's report made by this process, logged like `mlgate gate` logs it."""
    from .gate import run_gate
    from .registry.publish import publish, sha256_file

    _remove_stale(path)
    report = run_gate(config)
    report.write(path)
    print(f"gate (--rerun): {report.summary}")
    print(f"report: {path}")
    published = publish(report, path, config)
    if published is not None:
        print(f"mlflow: {published}")
    return sha256_file(path)


def _registry_target(args: argparse.Namespace) -> tuple[Any, str, str, str]:
    """(config or None, tracking URI, model name, alias) from the flags and an optional config."""
    from .config import load_config
    from .registry.commands import model_name_from
    from .registry.connect import tracking_uri

    path = args.config or _optional_config()
    config = load_config(path.resolve()) if path is not None else None
    name = args.model or model_name_from(config)
    if not name:
        raise ConfigError("`--model` must be given: no config here names a `models:/` candidate or baseline")
    tracking = args.tracking_uri or (config.tracking_uri() if config else tracking_uri(None, None))
    alias = args.alias or (config.mlflow.alias if config else "champion")
    return config, tracking, name, alias


def _optional_config() -> Path | None:
    from .config import find_config

    return find_config(Path.cwd())


def _prompt_tracking(given: str | None) -> str:
    """``--tracking-uri``, else that of the config here (where its LLM gate reads `prompts:/`), else the env's."""
    from .config import load_config
    from .registry.connect import tracking_uri

    if given:
        return given
    path = _optional_config()
    return load_config(path.resolve()).tracking_uri() if path is not None else tracking_uri(None, None)


def _cmd_rollback(args: argparse.Namespace) -> int:
    from .registry.commands import rollback

    _, tracking, name, alias = _registry_target(args)
    if not args.reason.strip():
        raise ConfigError("`--reason` must not be empty: the ledger records why a rollback happened")
    result = rollback(
        tracking,
        name,
        alias=alias,
        reason=args.reason,
        to_version=args.to_version,
        by=args.by,
        lock_timeout=args.lock_timeout,
    )
    if result.moved:
        print(f"rolled back: {result}")
    elif result.messages:
        print(
            f"already rolled back: {name}@{alias} is v{result.to_version}; nothing to do (use --to-version to go further)"
        )
    else:
        print(f"nothing to do: {result}")
    _print_alias_version(tracking, name, alias)
    return EXIT_OK


def _print_alias_version(tracking: str, name: str, alias: str) -> None:
    """`version: N`, the alias read back from the registry, for scripts (the rollback action's output)."""
    from .registry.commands import alias_version

    try:
        version = alias_version(tracking, name, alias)
    except Exception as exc:  # the rollback itself is done; a failed read-back only loses this line
        print(f"note: could not read {name}@{alias} back from the registry: {type(exc).__name__}")
        return
    if version is not None:
        print(f"version: {version}")


def _cmd_promote_prompt(args: argparse.Namespace) -> int:
    from .llm.prompts import promote_prompt

    made_here = None
    tracking = args.tracking_uri
    if args.rerun:
        from .config import load_config
        from .gate import run_gate
        from .registry.publish import sha256_file

        _remove_stale(args.report)
        config = load_config(_config_path(args.config).resolve())
        report = run_gate(config)
        report.write(args.report)
        print(f"gate (--rerun): {report.summary}")
        made_here = sha256_file(args.report)
        # The alias moves in the registry the gate just read the prompts from.
        tracking = tracking or config.tracking_uri()
    elif args.config is not None:
        raise ConfigError("`--config` is used only with --rerun: without it the report is promoted as it is")
    move, notes = promote_prompt(
        _prompt_tracking(tracking),
        args.prompt,
        args.report,
        alias=args.alias,
        version=args.version,
        by=args.by,
        reason=args.reason,
        lock_timeout=args.lock_timeout,
        made_here=made_here,
    )
    for note in notes:
        print(f"note: {note}")
    print(f"promoted: prompts:/{move}" if move.moved else f"already promoted: prompts:/{move}")
    return EXIT_OK


def _cmd_history_prompt(args: argparse.Namespace) -> int:
    from .llm.prompts import prompt_history
    from .report.table import plain

    found = prompt_history(_prompt_tracking(args.tracking_uri), args.prompt)
    if args.json:
        sys.stdout.write(json.dumps(found, indent=2) + "\n")
        return EXIT_OK
    aliases = ", ".join(f"@{a} → v{v}" for a, v in sorted(found["aliases"].items())) or "none"
    print(f"prompts:/{args.prompt}  aliases: {aliases}\n\nledger")
    head = ("#", "at", "action", "alias", "from", "to", "report sha256", "by", "reason")
    rows = [
        [
            str(e["seq"]),
            e["at"],
            e["action"],
            "@" + e["alias"],
            f"v{e['from_version']}" if e["from_version"] else "—",
            f"v{e['to_version']}",
            (e["report_sha256"] or "—")[:12],
            e["by"],
            e["reason"] or e["note"] or "",
        ]
        for e in found["ledger"]
    ]
    print(plain(rows, head) if rows else "  (empty: nothing promoted yet)")
    print("\nversions")
    print(plain([["v" + v["version"], v["sha256"]] for v in found["versions"]], ("version", "sha256")))
    return EXIT_OK


def _cmd_rollback_prompt(args: argparse.Namespace) -> int:
    from .llm.prompts import rollback_prompt

    move = rollback_prompt(
        _prompt_tracking(args.tracking_uri),
        args.prompt,
        alias=args.alias,
        reason=args.reason,
        to_version=args.to_version,
        by=args.by,
        lock_timeout=args.lock_timeout,
    )
    if move.moved:
        print(f"rolled back: prompts:/{move}")
    else:
        print(
            f"nothing to do: prompts:/{args.prompt}@{args.alias} is v{move.to_version} (already rolled back)"
        )
    return EXIT_OK


def _cmd_history(args: argparse.Namespace) -> int:
    from .registry.commands import history
    from .report.table import plain

    _, tracking, name, alias = _registry_target(args)
    found = history(tracking, name)
    if args.json:
        sys.stdout.write(json.dumps({**found.to_dict(), "alias": alias}, indent=2) + "\n")
        return EXIT_OK
    aliases = ", ".join(f"@{a} → v{v}" for a, v in sorted(found.aliases.items())) or "none"
    print(f"{name}  aliases: {aliases}\n")
    print("ledger")
    ledger_head = (
        "#",
        "at",
        "action",
        "alias",
        "from",
        "to",
        "decision",
        "git sha",
        "report sha256",
        "by",
        "reason",
    )
    ledger_rows: list[list[str]] = []
    for e in found.ledger:
        ledger_rows.append(
            [
                str(e.seq),
                e.at,
                e.action,
                "@" + e.alias,
                f"v{e.from_version}" if e.from_version else "—",
                f"v{e.to_version}",
                e.decision or "—",
                (e.git_sha or "—")[:10],
                (e.report_sha256 or "—")[:12],
                e.by,
                e.reason or e.note or "",
            ]
        )
    print(plain(ledger_rows, ledger_head) if found.ledger else "  (empty: nothing promoted yet)")
    print("\ngated versions")
    version_head = ("version", "decision", "gated at", "git sha", "report sha256", "baseline")
    version_rows: list[list[str]] = []
    for v in found.gated:
        version_rows.append(
            [
                "v" + v["version"],
                v["decision"],
                v["gated_at"] or "—",
                (v["git_sha"] or "—")[:10],
                (v["report_sha256"] or "—")[:12],
                v["baseline"] or "—",
            ]
        )
    print(plain(version_rows, version_head))
    return EXIT_OK


def _cmd_dashboard(args: argparse.Namespace) -> int:
    from .report import dashboard

    if (args.folder is None) == (not args.mlflow):
        raise ConfigError("`mlgate dashboard` needs a report folder or --mlflow (one of them)")
    if args.mlflow:
        _, tracking, name, _ = _registry_target(args)
        loaded = dashboard.from_mlflow(tracking, name, skip_bad=args.skip_bad)
        title = f"mlgate dashboard: {name}"
    else:
        loaded = dashboard.from_folder(
            args.folder, pattern=args.glob, skip_bad=args.skip_bad, order=args.order
        )
        title = f"mlgate dashboard: {args.folder.resolve().name}"
    for reason in loaded.skipped:
        print(f"warning: left out: {reason}", file=sys.stderr)
    _write_text(args.output, dashboard.render(loaded, title=title))
    print(f"dashboard: {len(loaded.entries)} run(s), {len(loaded.skipped)} left out -> {args.output}")
    return EXIT_OK


def _write_report(report: Any, path: Path, args: argparse.Namespace) -> None:
    """The JSON report, and the Markdown and HTML renderings the flags ask for."""
    report.write(path)
    if args.markdown:
        from .report.markdown import render

        _write_text(args.markdown, render(report.to_dict()))
    if args.html:
        from .report.html import render as render_html

        _write_text(args.html, render_html(report.to_dict()))


def _remove_stale(path: Path) -> None:
    """A run that ends in an input error must not leave an older run's decision behind."""
    try:
        path.unlink(missing_ok=True)
    except IsADirectoryError:
        raise ConfigError(f"report path `{path}` is a directory") from None
    except OSError as exc:
        raise ConfigError(f"report path `{path}` cannot be replaced: {exc.strerror or exc}") from None


def _write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"output path `{path}` cannot be written: {exc.strerror or exc}") from None


def _cmd_validate(args: argparse.Namespace) -> int:
    from .config import load_config

    if args.config is not None and args.config_flag is not None and args.config != args.config_flag:
        raise ConfigError(f"give the config once: `{args.config}` and `-c {args.config_flag}` differ")
    config = load_config(_config_path(args.config or args.config_flag).resolve())
    print(f"{config.source}: valid ({config.task}, {len(config.metrics)} metric(s))")
    return EXIT_OK


def _read_report(path: Path) -> dict[str, Any]:
    from .report.validate import read_report

    return read_report(path)


def _render(path: Path, data: dict[str, Any], fmt: str) -> str:
    from .report.markdown import render
    from .report.table import plain, rows, term

    try:
        if fmt == "markdown":
            return render(data)
        if fmt == "html":
            from .report.html import render as render_html

            return render_html(data)
        if fmt == "text":
            return (
                plain(rows(data["checks"])) + f"\ndecision: {term(data.get('summary') or data['decision'])}\n"
            )
        # `##[` anywhere in a log line is a workflow command to the runner; \u005b is the same JSON.
        return json.dumps(data, indent=2).replace("##[", "##\\u005b") + "\n"
    # The schema leaves each check's `details` free-form; a hand-made one can still break a figure.
    except (KeyError, IndexError, TypeError, AttributeError, ValueError, ArithmeticError) as exc:
        raise DataError(
            f"report file `{path}` is malformed: {type(exc).__name__}: {exc} "
            "(check it against `mlgate schema report`)"
        ) from None


def _cmd_report(args: argparse.Namespace) -> int:
    fmt = "markdown" if args.format == "md" else args.format
    text = _render(args.report, _read_report(args.report), fmt)
    if args.output:
        _write_text(args.output, text)
    else:
        sys.stdout.write(_html_for_log(text) if fmt == "html" else text)
    return EXIT_OK


def _html_for_log(page: str) -> str:
    """HTML bound for a CI log: a line from the data that reads as a workflow command gets entities."""
    from .report.table import defuse_brackets, guard_line

    # The runner also ends a line at a lone CR; in HTML text &#13; is the same character.
    lines = defuse_brackets(page.replace("\r\n", "\n").replace("\r", "&#13;"), "&#91;").split("\n")
    # Only inert characters (spaces, format marks) precede such a line's first colon.
    return "\n".join(line.replace(":", "&#58;", 1) if guard_line(line) != line else line for line in lines)


def _cmd_github(args: argparse.Namespace) -> int:
    from .github import comment as sticky
    from .github import workflow
    from .github.api import GitHub, GitHubError

    if args.github_command == "dispatch":
        payload = {"reason": args.reason} if args.reason else {}
        if args.report is not None:
            data = _read_report(args.report)
            payload |= {
                "decision": data["decision"],
                "verdict": str(data.get("verdict") or data["decision"]),
                "drift_detected": workflow.drift_detected(data),
                "report_sha256": _sha256(args.report),
            }
        repository = _repository(args.repository)
        sticky.dispatch(GitHub(_token()), repository, args.event_type, payload)
        print(f"dispatched `{args.event_type}` to {repository}")
        return EXIT_OK

    data = _read_report(args.report)
    if args.github_command == "publish":
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary and workflow.write_summary(Path(summary), _render(args.report, data, "markdown")):
            print(workflow.command("warning", "the job summary was cut to GitHub's 1 MiB limit"))
        for line in workflow.annotation_lines(data, file=args.annotate_file):
            print(line)
        outputs = os.environ.get("GITHUB_OUTPUT")
        if outputs:
            workflow.write_outputs(
                Path(outputs),
                {
                    "decision": data["decision"],
                    "report-path": str(args.report),
                    "candidate-version": workflow.candidate_version(data),
                    "drift-detected": "true" if workflow.drift_detected(data) else "false",
                    "verdict": str(data.get("verdict") or data["decision"]),
                },
            )
        print(f"mlgate: {data['decision']} ({args.report})")
        return EXIT_OK

    repository = _repository(args.repository)
    number = sticky.pull_request_number(args.pull_request)
    client = GitHub(_token())
    try:
        if args.head_sha:
            sticky.check_head(client, repository, number, args.head_sha)
        posted = sticky.upsert(
            client,
            repository,
            number,
            sticky.body(_render(args.report, data, "markdown"), args.key),
            args.key,
        )
    except GitHubError as exc:
        if args.forbidden_ok and exc.status == 403:
            print(
                workflow.command(
                    "warning",
                    f"no PR comment: {exc} (a pull request from a fork gets a read-only token; "
                    "use the workflow_run pattern in docs, or comment: false)",
                )
            )
            return EXIT_OK
        raise
    print(f"mlgate: {posted}")
    return EXIT_OK


def _token() -> str:
    return os.environ.get("GITHUB_TOKEN", "")


def _repository(given: str | None) -> str:
    value = given or os.environ.get("GITHUB_REPOSITORY", "")
    if not value:
        raise ConfigError("`--repository` must be given: $GITHUB_REPOSITORY is not set")
    return value


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cmd_schema(args: argparse.Namespace) -> int:
    from importlib.resources import files

    if args.which == "live":
        from .live.config import json_schema_live

        if args.markdown:
            from .reference import LIVE_HEADER, markdown

            sys.stdout.write(markdown(json_schema_live(), LIVE_HEADER))
        else:
            sys.stdout.write(json.dumps(json_schema_live(), indent=2) + "\n")
        return EXIT_OK
    if args.which == "config":
        from .config import json_schema

        if args.markdown:
            from .reference import markdown

            sys.stdout.write(markdown(json_schema()))
        else:
            sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
    else:
        sys.stdout.write(
            files("pytest_mlgate").joinpath("schemas/report.schema.json").read_text(encoding="utf-8")
        )
    return EXIT_OK


def _cmd_metrics(args: argparse.Namespace) -> int:
    from .stats.metrics import METRICS

    for spec in METRICS.values():
        direction = "higher" if spec.higher_is_better else "lower"
        print(f"{spec.name:16} {'/'.join(sorted(spec.tasks)):18} {direction} is better  ({spec.family})")
    return EXIT_OK


def _cmd_profile(args: argparse.Namespace) -> int:
    import yaml

    from .io.tables import iter_table_chunks
    from .profile import build_profile, infer_contract
    from .report.table import term

    if args.chunk_rows < 1:
        raise ConfigError(f"`--chunk-rows`={args.chunk_rows} must be >= 1")
    if args.engine == "spark":
        from .spark.cli import spark_profile

        profile = spark_profile(args.data, args.columns, args.like)
    elif args.like is not None:
        raise ConfigError("`--like` needs `--engine spark`")
    else:
        profile = build_profile(
            lambda: iter_table_chunks(args.data, rows=args.chunk_rows, columns=args.columns),
            columns=args.columns,
            source=str(args.data),
        )
    profile.write(args.output)
    kinds = ", ".join(f"{name} ({col.kind})" for name, col in profile.columns.items())
    print(f"profiled {profile.rows:,} rows of {args.data}: {term(kinds)}")
    print(f"profile: {args.output}")
    if args.contract:
        contract = {"validation": infer_contract(profile)}
        header = "# A starting data contract inferred from the reference data: edit it, then reference it\n"
        header += "# from mlgate.yaml as `validation: {contract: " + args.contract.name + "}`.\n"
        _write_text(args.contract, header + yaml.safe_dump(contract, sort_keys=False, allow_unicode=True))
        print(f"contract: {args.contract}")
    return EXIT_OK


def _cmd_live(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from .lineage import warnings_of
    from .live import run_analysis
    from .live.config import load_live_config
    from .report.table import plain, rows, term

    if args.report:
        _remove_stale(args.report)  # even if the config turns out to be broken
    path = args.config or Path("mlgate-live.yaml")
    if args.config is None and not path.is_file():
        raise ConfigError("no mlgate-live.yaml here; pass --config PATH (see `mlgate schema live`)")
    overrides = {"seed": args.seed} if args.seed is not None else {}
    config = load_live_config(path.resolve(), overrides)
    if args.logs is not None:
        config = replace(config, logs=replace(config.logs, path=args.logs.resolve()))
    arms = {k: getattr(args, k) for k in ("control", "canary") if getattr(args, k, None) is not None}
    if arms:
        config = config.with_canary_arms(**arms)
    report_path = args.report or config.report_path(args.command)
    _remove_stale(report_path)
    options = {
        k: getattr(args, k) for k in ("since", "until", "days", "now") if getattr(args, k, None) is not None
    }
    with warnings.catch_warnings():  # printed below as `warning:` lines, not as Python warnings
        warnings.simplefilter("ignore", MlgateWarning)
        report = run_analysis(args.command, config, **options)
    _write_report(report, report_path, args)
    print(f"mlgate {__version__} {args.command}  seed={config.seed}  log={term(config.logs.path)}")
    print(plain(rows([c.to_dict() for c in report.checks])))
    print(f"verdict: {term(report.summary)}")
    print(f"report: {term(report_path)}")
    for line in warnings_of(report.provenance):
        print(f"warning: {term(line)}", file=sys.stderr)
    return EXIT_FAILED if report.failed() else EXIT_OK


_COMMANDS = {
    "canary": _cmd_live,
    "shadow": _cmd_live,
    "abtest": _cmd_live,
    "monitor": _cmd_live,
    "gate": _cmd_gate,
    "validate-config": _cmd_validate,
    "report": _cmd_report,
    "schema": _cmd_schema,
    "metrics": _cmd_metrics,
    "profile": _cmd_profile,
    "promote": _reached(_cmd_promote),
    "rollback": _reached(_cmd_rollback),
    "promote-prompt": _reached(_cmd_promote_prompt),
    "rollback-prompt": _reached(_cmd_rollback_prompt),
    "history-prompt": _cmd_history_prompt,
    "history": _cmd_history,
    "dashboard": _cmd_dashboard,
    "github": _cmd_github,
}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
