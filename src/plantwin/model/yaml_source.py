"""Read YAML keeping the line of every key, so problems can point at file:line."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.reader import ReaderError

from plantwin.model.problems import Path, Problem


def load_yaml(text: str) -> tuple[Any, dict[Path, int], list[Problem]]:
    """Plain Python data, a map from key path to 1-based line, and syntax problems if any."""
    yaml = YAML(typ="rt")
    try:
        doc = yaml.load(text)
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = None if mark is None else mark.line + 1
        reason = err.problem or err.context or "invalid YAML"
        return None, {}, [Problem((), f"YAML syntax error: {reason}", line)]
    except ReaderError as err:  # control characters: not a MarkedYAMLError
        return None, {}, [Problem((), f"not YAML text: {err.reason} at character {err.position}")]
    lines: dict[Path, int] = {(): 1}
    return _plain(doc, (), lines), lines, []


def read_yaml_file(path: FilePath) -> tuple[Any, dict[Path, int], list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        return None, {}, [Problem((), f"cannot read the file: {err}")]
    return load_yaml(text)


def _plain(node: Any, path: Path, lines: dict[Path, int]) -> Any:
    if isinstance(node, CommentedMap):
        out: dict[Any, Any] = {}
        for key, value in node.items():
            child = (*path, str(key))
            line, _col = node.lc.key(key)
            lines[child] = line + 1
            out[str(key) if not isinstance(key, str) else key] = _plain(value, child, lines)
        return out
    if isinstance(node, CommentedSeq):
        items: list[Any] = []
        for index, value in enumerate(node):
            child = (*path, index)
            line, _col = node.lc.item(index)
            lines[child] = line + 1
            items.append(_plain(value, child, lines))
        return items
    if isinstance(node, str):
        return str(node)
    return node
