"""What was wrong with a YAML file, in one line.

PyYAML's messages span several lines (the offending text, a caret, the context). Every file a
user writes for finops (teams.yaml, contracts.yaml, a catalog file, a scenario, a mapping)
is reported as one line naming the file, the line and the problem.
"""

from __future__ import annotations

__all__ = ["yaml_problem"]


def yaml_problem(exc: BaseException) -> str:
    """One line for a YAML parse error (or a decoding error met while reading one).

    >>> import yaml
    >>> try:
    ...     yaml.safe_load("teams: [a, b\\nrules: []\\n")
    ... except yaml.YAMLError as exc:
    ...     print(yaml_problem(exc))
    not valid YAML at line 2, column 6: expected ',' or ']', but got ':' (while parsing a flow sequence from line 1)
    """
    problem = getattr(exc, "problem", None)
    if problem is None:
        return f"not valid YAML: {' '.join(str(exc).split())}"
    text = " ".join(problem.split())
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context:
        text += f" ({' '.join(context.split())}"
        text += f" from line {context_mark.line + 1})" if context_mark is not None else ")"
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"not valid YAML{where}: {text}"
