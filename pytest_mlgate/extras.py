"""Install hints for the optional extras that work however pytest-mlgate itself was installed.

``pip install 'pytest-mlgate[plots]'`` needs pytest-mlgate on PyPI; installed from a git URL or a
clone, the same command would fetch another copy (or fail until a release exists). Naming the
extra's own requirements, read from the installed metadata, works in every case.
"""

from __future__ import annotations

from functools import cache

DIST = "pytest-mlgate"


def install_hint(extra: str) -> str:
    """``pip install 'matplotlib>=3.7' (the `plots` extra)``, say."""
    requirements = _requirements(extra)
    if not requirements:
        return f"pip install '{DIST}[{extra}]'"
    return "pip install " + " ".join(f"'{r}'" for r in requirements) + f" (the `{extra}` extra)"


@cache
def _requirements(extra: str) -> tuple[str, ...]:
    from importlib import metadata

    from packaging.requirements import InvalidRequirement, Requirement  # a dependency of pytest

    try:
        declared = metadata.requires(DIST) or []
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return ()
    found: list[str] = []
    for line in declared:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if requirement.marker is None or not requirement.marker.evaluate({"extra": extra}):
            continue
        if requirement.name == DIST:  # an extra made of other extras (`demo`)
            found += [r for inner in sorted(requirement.extras) for r in _requirements(inner)]
            continue
        requirement.marker = None
        found.append(str(requirement))
    return tuple(dict.fromkeys(found))
