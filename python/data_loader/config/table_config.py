"""``DataLoaderConfig`` and ``TableConfig``: a validated config and its tables.

A config is validated by the loader's native config module, exactly as the command line
validates it; a config that loads here is one ``data_loader run --config`` accepts.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from data_loader import _native

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "DataLoaderConfig",
    "TableConfig",
    "load_config_from_file",
]


@dataclass(frozen=True)
class ConfigProblem:
    """One problem of a config.

    Attributes:
        line: 1-based line in the config text or file; ``None`` when unknown (a config given
            as a dict has no lines).
        key: the key path, e.g. ``"tables[1].loading_strategy"``; ``""`` for the document.
        message: what is wrong, without the line or key.
    """

    line: Optional[int]
    key: str
    message: str


class ConfigError(ValueError):
    """A config the loader refuses.

    ``problems`` lists every problem found (the loader reports them all at once); ``key`` and
    ``line`` are those of the first. ``str(error)`` is the command line's message.
    """

    def __init__(self, message: str, problems: Sequence[ConfigProblem] = ()) -> None:
        super().__init__(message)
        self.problems: List[ConfigProblem] = list(problems)
        if not self.problems:
            self.problems = [ConfigProblem(None, "", message)]

    @property
    def key(self) -> str:
        """Key path of the first problem (``""`` when it is about the whole config)."""
        return self.problems[0].key

    @property
    def line(self) -> Optional[int]:
        """Line of the first problem, or ``None``."""
        return self.problems[0].line


@dataclass(frozen=True)
class TableConfig:
    """One table of a config, as the loader resolved it.

    Attributes:
        table_name, database_name: the table's names in the config.
        name: the display name the loader uses (``database.table``, or the Unity Catalog name).
        path: where the Delta table lives.
        loading_strategy: ``scd2``, ``append``, ``overwrite`` or ``merge``.
        file_format: ``parquet``, ``csv``, ``json`` or ``delta``.
        source_path_pattern: the files loaded into the table.
        primary_keys: the key columns (empty for append tables without keys).
        raw: every resolved setting of the table (values from ``${ENV}`` as ``***``).
    """

    table_name: str
    database_name: str
    name: str
    path: str
    loading_strategy: str
    file_format: str
    source_path_pattern: str
    primary_keys: List[str] = field(default_factory=list)
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def _from_native(cls, entry: Dict[str, Any]) -> "TableConfig":
        raw = {k: v for k, v in entry.items() if not k.startswith("_")}
        return cls(
            table_name=raw.get("table_name", ""),
            database_name=raw.get("database_name", ""),
            name=entry["_display_name"],
            path=entry["_table_path"],
            loading_strategy=raw.get("loading_strategy", ""),
            file_format=raw.get("file_format", ""),
            source_path_pattern=raw.get("source_path_pattern", ""),
            primary_keys=list(raw.get("primary_keys") or []),
            raw=raw,
        )


def _load(
    file: str = "",
    text: str = "",
    source: str = "",
    from_dict: bool = False,
    overrides: Optional[Mapping[str, Any]] = None,
) -> Any:
    over = _dict_text(overrides) if overrides else ""
    native, problems, message = _native.load_config(file, text, source, over)
    if native is not None:
        return native
    over_keys = set(overrides or ())
    found = [
        # An overridden key's line would be the override text's, not the config's.
        ConfigProblem(
            None if (from_dict or line <= 0 or key.split("[")[0].split(".")[0] in over_keys)
            else line, key, msg)
        for line, key, msg in problems
    ]
    if from_dict and found:
        # A dict has no lines: say where by key path only.
        message = "\n".join(
            f"{source}: {p.key}: {p.message}" if p.key else f"{source}: {p.message}" for p in found
        )
    raise ConfigError(message, found)


class DataLoaderConfig:
    """A validated loader config.

    Build it from keyword arguments (the config's keys, as in the YAML file), or with
    :meth:`from_dict`, :meth:`from_yaml` or :meth:`from_file`. A config the loader refuses
    raises :class:`ConfigError` naming every problem's key (and line, for text and files).

    >>> config = DataLoaderConfig(**config_dict)                # doctest: +SKIP
    >>> [t.name for t in config.tables]                         # doctest: +SKIP
    ['sales.customers', 'sales.orders']
    """

    def __init__(self, **config: Any) -> None:
        args = dict(text=_dict_text(config), source="<dict>", from_dict=True)
        self._init(_load(**args), dict(config), args)

    def _init(self, native: Any, original: Optional[Dict[str, Any]], args: Dict[str, Any]) -> None:
        self._native = native
        self._original = original
        self._load_args = args  # how it was loaded, for _with_overrides
        self._tables = [TableConfig._from_native(t) for t in json.loads(native.tables_json())]

    @classmethod
    def _wrap(cls, args: Dict[str, Any]) -> "DataLoaderConfig":
        self = cls.__new__(cls)
        self._init(_load(**args), None, args)
        return self

    def _with_overrides(self, overrides: Mapping[str, Any]) -> "DataLoaderConfig":
        """The same config loaded again with top-level keys replaced (validated as if the
        file had them; ConfigError names the key)."""
        if not overrides:
            return self
        args = dict(self._load_args, overrides=dict(overrides))
        copy = type(self).__new__(type(self))
        copy._init(_load(**args), self._original, args)
        return copy

    @classmethod
    def from_dict(cls, config: Mapping[str, Any]) -> "DataLoaderConfig":
        """A config from a dict shaped like the YAML file (key paths name problems)."""
        return cls(**dict(config))

    @classmethod
    def from_yaml(cls, text: str, source: str = "<yaml>") -> "DataLoaderConfig":
        """A config from YAML (or JSON) text; problems name ``source``, line and key."""
        return cls._wrap(dict(text=text, source=source))

    @classmethod
    def from_file(cls, path: Union[str, "os.PathLike[str]"]) -> "DataLoaderConfig":
        """A config from a YAML or JSON file; problems name the file, line and key."""
        return cls._wrap(dict(file=os.fspath(path)))

    @property
    def tables(self) -> List[TableConfig]:
        """Every table of the config, in config order."""
        return list(self._tables)

    @property
    def source_name(self) -> str:
        """Where the config came from: a file path, ``<dict>`` or the ``source`` given."""
        return self._native.source_name

    def get_table_config(self, name: str) -> TableConfig:
        """The table named ``name``: its ``table_name`` or its display name
        (``database.table``). Raises ``KeyError`` naming the tables there are."""
        for t in self._tables:
            if name in (t.table_name, t.name):
                return t
        known = ", ".join(t.name for t in self._tables)
        raise KeyError(f"no table {name!r} in the config (tables: {known})")

    def to_dict(self) -> Dict[str, Any]:
        """The resolved config (every default filled in; values from ``${ENV}`` as ``***``)."""
        return json.loads(self._native.to_json())

    def __getattr__(self, name: str) -> Any:
        # The resolved top-level settings as attributes: config.raw_data_path, ...
        if name.startswith("_"):
            raise AttributeError(name)
        resolved = self.to_dict()
        if name in resolved:
            return resolved[name]
        raise AttributeError(f"DataLoaderConfig has no setting {name!r}")

    def __repr__(self) -> str:
        names = ", ".join(t.name for t in self._tables)
        return f"DataLoaderConfig(source={self.source_name!r}, tables=[{names}])"


def _dict_text(config: Mapping[str, Any]) -> str:
    try:
        return json.dumps(config, default=os.fspath)
    except TypeError as e:
        raise ConfigError(f"<dict>: the config is not plain data: {e}") from None


def load_config_from_file(path: Union[str, "os.PathLike[str]"]) -> DataLoaderConfig:
    """Load and validate a YAML or JSON config file (as ``data_loader validate`` does)."""
    return DataLoaderConfig.from_file(path)
