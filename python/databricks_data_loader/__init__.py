"""The distribution's name as a module: Databricks' ``python_wheel_task`` with
``package_name: databricks_data_loader`` and ``entry_point: main`` finds ``main`` here when
it does not look it up in the wheel's entry points."""

from data_loader.main import main

__all__ = ["main"]
