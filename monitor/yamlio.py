"""YAML reading that remembers where every value came from, so config errors can say file:line.

The only module that imports PyYAML.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class YamlError(Exception):
    """A problem in a YAML file, located by file and line (1-based)."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        self.source = source
        self.line = line
        self.message = message
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {message}")


class Mapping(dict[str, Any]):
    """A YAML mapping: a dict that knows its own line and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class Sequence(list[Any]):
    """A YAML sequence: a list that knows its own line and each item's line."""

    line: int = 0
    item_lines: list[int]


def loads(text: str, source: str = "<string>") -> Any:
    """Parse one YAML document into plain values, with Mapping/Sequence carrying line numbers.

    Duplicate keys are an error (YAML would silently keep the last). An empty document is None.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return _convert(node, loader, source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlError(source, line, f"YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlError(source, None, f"YAML error: {exc}") from None
    finally:
        loader.dispose()


def load(path: Path) -> Any:
    """Read and parse a YAML file; a missing or unreadable file is a YamlError naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlError(str(path), None, f"cannot read: {exc}") from None
    return loads(text, str(path))


def dumps(value: Any) -> str:
    """Plain YAML for output (labelled sets, examples)."""
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False)


def _convert(node: yaml.Node, loader: yaml.SafeLoader, source: str) -> Any:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolves '<<' merge keys
        out = Mapping()
        out.line = line
        out.key_lines = {}
        for key_node, value_node in node.value:
            key = _convert(key_node, loader, source)
            if not isinstance(key, str):
                key = str(key)
            if key in out:
                raise YamlError(source, key_node.start_mark.line + 1, f"duplicate key '{key}'")
            out[key] = _convert(value_node, loader, source)
            out.key_lines[key] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = Sequence(_convert(item, loader, source) for item in node.value)
        seq.line = line
        seq.item_lines = [item.start_mark.line + 1 for item in node.value]
        return seq
    return loader.construct_object(node, deep=True)
