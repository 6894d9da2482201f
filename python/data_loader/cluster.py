"""Cluster mode: ``run-cluster`` and ``cluster-status`` from Python.

>>> from data_loader.cluster import ClusterConfig, ClusterDataProcessor, DatabricksEnvironment
>>> environment = DatabricksEnvironment.detect_environment()            # doctest: +SKIP
>>> cluster_config = ClusterConfig.from_base_config(
...     base_config=base_config, environment=environment,
...     enable_cluster_optimizations=True, use_unity_catalog=True)      # doctest: +SKIP
>>> processor = ClusterDataProcessor(cluster_config)                     # doctest: +SKIP
>>> processor.validate_cluster_configuration()["valid"]                  # doctest: +SKIP
True
>>> results = processor.process_all_tables()                             # doctest: +SKIP
>>> processor.get_cluster_status().health.status                         # doctest: +SKIP
'ok'

Environment detection, the resource plan, health and recommendations are the native
loader's (the command line's ``cluster-status`` and ``run-cluster``), not re-implemented here.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

from data_loader import _native
from data_loader.config.table_config import DataLoaderConfig
from data_loader.core._runner import wait_for_run
from data_loader.core.results import RunResult

__all__ = [
    "ClusterConfig",
    "ClusterDataProcessor",
    "ClusterStatus",
    "DatabricksEnvironment",
    "DatabricksInfo",
    "Environment",
    "HealthReason",
    "HealthReport",
    "ResourceManager",
    "ResourcePlan",
]


class _Record:
    def to_dict(self) -> Dict[str, Any]:
        """The fields as plain data (the shape of ``cluster-status --json``)."""
        return asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True)
class DatabricksInfo(_Record):
    """What the Databricks runtime says about the cluster (None: not provided)."""

    runtime_version: Optional[str] = None
    cluster_id: Optional[str] = None
    cluster_name: Optional[str] = None
    cluster_type: Optional[str] = None
    node_type: Optional[str] = None
    spark_version: Optional[str] = None
    workers: Optional[int] = None
    is_driver: Optional[bool] = None
    is_job_cluster: Optional[bool] = None


@dataclass(frozen=True)
class Environment(_Record):
    """Where the loader runs (``environment`` of ``cluster-status --json``).

    Attributes:
        kind: ``databricks``, ``container`` or ``host``.
        cpu_cores, memory_limit_bytes: the usable limits (overrides, else the tightest of
            cgroup and host).
        host, container: what the host and the cgroup say.
        databricks: the Databricks runtime's facts.
        sources: (fact, where it came from) pairs, in detection order.
    """

    kind: str
    cpu_cores: int
    memory_limit_bytes: int
    host: Dict[str, Any] = field(default_factory=dict)
    container: Dict[str, Any] = field(default_factory=dict)
    databricks: DatabricksInfo = field(default_factory=DatabricksInfo)
    sources: List[Dict[str, str]] = field(default_factory=list)

    @property
    def is_databricks(self) -> bool:
        """True on a Databricks cluster."""
        return self.kind == "databricks"

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Environment":
        d = dict(d)
        d["databricks"] = DatabricksInfo(**d.get("databricks", {}))
        return cls(**d)


@dataclass(frozen=True)
class ResourcePlan(_Record):
    """Parallelism and engine resources run-cluster derives (``resources``)."""

    parallelism: int
    parallelism_from_config: bool
    cpu_parallelism: int
    memory_parallelism: int
    engine_threads: int
    engine_memory_bytes: int
    memory_budget_bytes: int
    backpressure_at_bytes: int
    hard_limit_bytes: int
    reasons: List[str] = field(default_factory=list)


@dataclass(frozen=True)
class HealthReason(_Record):
    """One health finding: level ``warning`` or ``critical``, the check, the message."""

    level: str
    check: str
    message: str


@dataclass(frozen=True)
class HealthReport(_Record):
    """Health: ``ok``, ``warning`` or ``critical``, with the reasons."""

    status: str
    reasons: List[HealthReason] = field(default_factory=list)


@dataclass(frozen=True)
class ClusterStatus(_Record):
    """``get_cluster_status()``: the same as ``data_loader cluster-status --json``.

    ``critical`` is True when health is critical (the command then exits 1).
    """

    environment: Environment
    resources: ResourcePlan
    disks: List[Dict[str, Any]]
    tables: List[Dict[str, Any]]
    last_run: Optional[Dict[str, Any]]
    health: HealthReport
    recommendations: List[str]
    dependencies: List[Dict[str, Any]]
    critical: bool = False
    text: str = field(default="", repr=False)  # what cluster-status prints without --json

    @classmethod
    def from_native(cls, text_json: str, text: str, critical: bool) -> "ClusterStatus":
        d = json.loads(text_json)
        health = d["health"]
        return cls(
            environment=Environment.from_dict(d["environment"]),
            resources=ResourcePlan(**d["resources"]),
            disks=d["disks"],
            tables=d["tables"],
            last_run=d["last_run"],
            health=HealthReport(health["status"], [HealthReason(**r) for r in health["reasons"]]),
            recommendations=d["recommendations"],
            dependencies=d["dependencies"],
            critical=critical,
            text=text,
        )


class DatabricksEnvironment:
    """Detects the environment the loader runs in."""

    @staticmethod
    def detect_environment(config: Optional[DataLoaderConfig] = None) -> Environment:
        """Detect Databricks, a container (cgroup limits) or a plain host. With ``config``,
        its ``cluster:`` settings (overrides, system_root) apply, as in cluster-status."""
        native = config._native if config is not None else None
        return Environment.from_dict(json.loads(_native.detect_environment(native)))


@dataclass
class ClusterConfig:
    """A config prepared for cluster mode.

    Attributes:
        base_config: the loader config.
        environment: the detected environment (detected when not given; informational: every
            run detects again, as run-cluster does, so the plan fits the machine it runs on).
        enable_cluster_optimizations: derive parallelism and engine memory from the
            environment (``run-cluster``); False runs as plain ``run``.
        use_unity_catalog: name tables ``catalog.schema.table`` (``run-cluster --unity-catalog``).
        enable_monitoring: sample CPU and memory into the run's metrics and hold back batches
            near the memory budget (``run-cluster --monitoring``).
        default_catalog: the catalog of ``database_name`` values without one (the config's
            ``default_catalog`` key; None keeps the config's).
        enable_job_dependencies: None: the config's dependencies and notifications, with the
            lists below replacing them when given; True: the same; False: none at all.
        upstream_dependencies, downstream_notifications: the config keys of the same names
            (``table:...``, ``file:...``, ``job:...``; ``webhook:...``, ``job:...``), replacing
            the config's when given.

    The keys set here are validated as if the config file had them (ConfigError naming the
    key); :attr:`config` is the config a cluster run uses.
    """

    base_config: DataLoaderConfig
    environment: Optional[Environment] = None
    enable_cluster_optimizations: bool = True
    use_unity_catalog: bool = False
    enable_monitoring: bool = False
    default_catalog: Optional[str] = None
    enable_job_dependencies: Optional[bool] = None
    upstream_dependencies: Optional[List[str]] = None
    downstream_notifications: Optional[List[str]] = None

    def __post_init__(self) -> None:
        if self.environment is None:
            self.environment = DatabricksEnvironment.detect_environment(self.base_config)
        self.config  # noqa: B018  (validate the keys set here now, not at the first run)

    def _overrides(self) -> Dict[str, Any]:
        over: Dict[str, Any] = {}
        if self.default_catalog is not None:
            over["default_catalog"] = self.default_catalog
        if self.enable_job_dependencies is False:
            over["upstream_dependencies"] = []
            over["downstream_notifications"] = []
            return over
        if self.upstream_dependencies is not None:
            over["upstream_dependencies"] = list(self.upstream_dependencies)
        if self.downstream_notifications is not None:
            over["downstream_notifications"] = list(self.downstream_notifications)
        return over

    @property
    def config(self) -> DataLoaderConfig:
        """``base_config`` with the keys this ClusterConfig sets (itself when it sets none)."""
        over = self._overrides()
        key = json.dumps(over, sort_keys=True)
        if getattr(self, "_config_key", None) != key:
            self._config = self.base_config._with_overrides(over)
            self._config_key = key
        return self._config

    @classmethod
    def from_base_config(
        cls,
        base_config: DataLoaderConfig,
        environment: Optional[Environment] = None,
        enable_cluster_optimizations: bool = True,
        use_unity_catalog: bool = False,
        enable_monitoring: bool = False,
        default_catalog: Optional[str] = None,
        enable_job_dependencies: Optional[bool] = None,
        upstream_dependencies: Optional[List[str]] = None,
        downstream_notifications: Optional[List[str]] = None,
    ) -> "ClusterConfig":
        """A cluster config from a loader config (the environment detected when not given)."""
        return cls(base_config, environment, enable_cluster_optimizations, use_unity_catalog,
                   enable_monitoring, default_catalog, enable_job_dependencies,
                   upstream_dependencies, downstream_notifications)

    @property
    def resource_plan(self) -> ResourcePlan:
        """The parallelism and engine resources a cluster run would use here."""
        return ResourcePlan(**json.loads(_native.resource_plan(self.config._native)))


class ClusterDataProcessor:
    """``run-cluster`` and ``cluster-status`` on a :class:`ClusterConfig`."""

    def __init__(self, cluster_config: ClusterConfig) -> None:
        self.cluster_config = cluster_config
        self.resource_manager = ResourceManager(self)

    @property
    def _native_config(self) -> Any:
        return self.cluster_config.config._native

    def validate_cluster_configuration(self) -> Dict[str, Any]:
        """Check the config for a cluster run.

        Returns ``{'valid': bool, 'errors': [...], 'warnings': [...]}``: errors are Unity
        Catalog names that are not valid (with ``use_unity_catalog``) and critical health
        findings; warnings are the other health findings.
        """
        errors: List[str] = []
        warnings: List[str] = []
        if self.cluster_config.use_unity_catalog:
            problem = _native.check_unity_catalog_names(self._native_config)
            if problem:
                errors.append(problem)
        status = self.get_cluster_status()
        for reason in status.health.reasons:
            (errors if reason.level == "critical" else warnings).append(
                f"{reason.check}: {reason.message}"
            )
        return {"valid": not errors, "errors": errors, "warnings": warnings}

    def process_all_tables(self, tables: Optional[List[str]] = None) -> RunResult:
        """Load every new file (of ``tables``, default all) as ``data_loader run-cluster``
        does; returns the run's :class:`RunResult`. Ctrl-C stops it as in DataProcessor."""
        c = self.cluster_config
        handle = _native.start_run(
            self._native_config,
            list(tables or []),
            cluster=c.enable_cluster_optimizations,
            unity_catalog=c.use_unity_catalog,
            monitoring=c.enable_monitoring,
        )
        return wait_for_run(handle)

    def get_cluster_status(self) -> ClusterStatus:
        """Environment, resource plan, disks, tables, the last monitored run, health with
        reasons, recommendations and dependency states: ``cluster-status --json``."""
        return ClusterStatus.from_native(*_native.cluster_status(self._native_config))


class ResourceManager:
    """``processor.resource_manager``: the original's resource monitoring calls, answered from
    what ``cluster-status`` measures (each call measures again)."""

    def __init__(self, processor: ClusterDataProcessor) -> None:
        self._processor = processor

    def get_cluster_resources(self) -> Dict[str, Any]:
        """The environment, the resource plan and the disks: ``{'environment', 'resources',
        'disks'}`` as in ``cluster-status --json``."""
        status = self._processor.get_cluster_status()
        return {
            "environment": status.environment.to_dict(),
            "resources": status.resources.to_dict(),
            "disks": status.disks,
        }

    def get_health_status(self) -> HealthReport:
        """Health: ``status`` ok, warning or critical, with the reasons."""
        return self._processor.get_cluster_status().health

    def get_optimization_recommendations(self) -> List[str]:
        """The recommendations ``cluster-status`` prints."""
        return self._processor.get_cluster_status().recommendations
