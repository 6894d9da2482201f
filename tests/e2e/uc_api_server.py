"""A loopback stand-in for the open-source Unity Catalog server, implementing exactly the REST
endpoints data_loader calls (nothing else):

    GET  /api/2.1/unity-catalog/catalogs/{name}      POST /api/2.1/unity-catalog/catalogs
    GET  /api/2.1/unity-catalog/schemas/{full_name}  POST /api/2.1/unity-catalog/schemas
    GET  /api/2.1/unity-catalog/tables/{full_name}   POST /api/2.1/unity-catalog/tables
    DELETE /api/2.1/unity-catalog/tables/{full_name}

Why a stand-in: the open-source Unity Catalog server is not published to a package registry
reachable here (Maven Central has no io.unitycatalog server artifact; PyPI has only clients),
so the tests cannot run the real one. Shapes follow the project's OpenAPI spec (api/all.yaml):
CreateCatalog {name, comment}, CreateSchema {name, catalog_name}, CreateTable {name,
catalog_name, schema_name, table_type, data_source_format, columns[ColumnInfo],
storage_location}; errors are {"error_code": "NOT_FOUND" | "ALREADY_EXISTS" |
"INVALID_ARGUMENT" | "UNAUTHENTICATED", "message": ...} with 404 / 409 / 400 / 401, as the
server answers. Like the real server, creating a schema needs its catalog, a table needs its
schema, and an EXTERNAL table needs a storage_location.

State (catalogs, schemas, tables) is kept in memory so tests can assert what was created, and
every request is recorded (method, path, headers, parsed body).
"""
from __future__ import annotations

import json
import time
import uuid
from urllib.parse import unquote

from loopback_http import LoopbackServer

API = "/api/2.1/unity-catalog"
COLUMN_TYPE_NAMES = {
    "BOOLEAN", "BYTE", "SHORT", "INT", "LONG", "FLOAT", "DOUBLE", "DATE", "TIMESTAMP",
    "TIMESTAMP_NTZ", "STRING", "BINARY", "DECIMAL", "INTERVAL", "ARRAY", "STRUCT", "MAP",
    "CHAR", "NULL", "USER_DEFINED_TYPE", "TABLE_TYPE", "VARIANT",
}


class UnityCatalogStandIn(LoopbackServer):
    def __init__(self, token: str | None = None):
        self.token = token  # when set, requests need "Authorization: Bearer <token>"
        self.catalogs: dict[str, dict] = {}
        self.schemas: dict[str, dict] = {}
        self.tables: dict[str, dict] = {}
        # Full table names whose next GET answers 404 although the table exists: another
        # client registering it between our GET and POST (a race, made deterministic).
        self.hide_once: set[str] = set()
        super().__init__()

    def calls(self, method: str | None = None, prefix: str = "") -> list[dict]:
        with self.lock:
            return [r for r in self.requests
                    if (method is None or r["method"] == method) and r["path"].startswith(prefix)]

    # -- the endpoints --------------------------------------------------------------------
    def handle(self, method: str, path: str, body) -> tuple[int, dict]:
        if not path.startswith(API + "/"):
            return 404, _err("NOT_FOUND", f"no such endpoint {path}")
        rest = path[len(API) + 1:]
        kind, _, name = rest.partition("/")
        name = unquote(name)
        with self.lock:
            if kind == "catalogs":
                return self._catalogs(method, name, body)
            if kind == "schemas":
                return self._schemas(method, name, body)
            if kind == "tables":
                return self._tables(method, name, body)
        return 404, _err("NOT_FOUND", f"endpoint not implemented by this stand-in: {path}")

    def _catalogs(self, method, name, body):
        if method == "GET" and name:
            c = self.catalogs.get(name)
            return (200, c) if c else (404, _err("NOT_FOUND", f"Catalog not found: {name}"))
        if method == "POST" and not name:
            n = (body or {}).get("name", "")
            if not n:
                return 400, _err("INVALID_ARGUMENT", "name is required")
            if n in self.catalogs:
                return 409, _err("ALREADY_EXISTS", f"Catalog already exists: {n}")
            self.catalogs[n] = {"name": n, "comment": body.get("comment"), "id": str(uuid.uuid4()),
                                "created_at": int(time.time() * 1000)}
            return 200, self.catalogs[n]
        return 405, _err("INVALID_ARGUMENT", f"{method} not supported on catalogs")

    def _schemas(self, method, full, body):
        if method == "GET" and full:
            s = self.schemas.get(full)
            return (200, s) if s else (404, _err("NOT_FOUND", f"Schema not found: {full}"))
        if method == "POST" and not full:
            n, c = (body or {}).get("name", ""), (body or {}).get("catalog_name", "")
            if not n or not c:
                return 400, _err("INVALID_ARGUMENT", "name and catalog_name are required")
            if c not in self.catalogs:
                return 404, _err("NOT_FOUND", f"Catalog not found: {c}")
            key = f"{c}.{n}"
            if key in self.schemas:
                return 409, _err("ALREADY_EXISTS", f"Schema already exists: {key}")
            self.schemas[key] = {"name": n, "catalog_name": c, "full_name": key,
                                 "schema_id": str(uuid.uuid4())}
            return 200, self.schemas[key]
        return 405, _err("INVALID_ARGUMENT", f"{method} not supported on schemas")

    def _tables(self, method, full, body):
        if method == "GET" and full:
            if full in self.hide_once:
                self.hide_once.discard(full)
                return 404, _err("NOT_FOUND", f"Table not found: {full}")
            t = self.tables.get(full)
            return (200, t) if t else (404, _err("NOT_FOUND", f"Table not found: {full}"))
        if method == "DELETE" and full:
            if full not in self.tables:
                return 404, _err("NOT_FOUND", f"Table not found: {full}")
            del self.tables[full]
            return 200, {}
        if method == "POST" and not full:
            return self._create_table(body or {})
        return 405, _err("INVALID_ARGUMENT", f"{method} not supported on tables")

    def _create_table(self, b):
        for key in ("name", "catalog_name", "schema_name", "table_type", "columns"):
            if key not in b:
                return 400, _err("INVALID_ARGUMENT", f"{key} is required")
        schema = f"{b['catalog_name']}.{b['schema_name']}"
        if schema not in self.schemas:
            return 404, _err("NOT_FOUND", f"Schema not found: {schema}")
        if b["table_type"] == "EXTERNAL" and not b.get("storage_location"):
            return 400, _err("INVALID_ARGUMENT", "storage_location is required for EXTERNAL")
        if b.get("data_source_format") not in (None, "DELTA", "CSV", "JSON", "AVRO", "PARQUET",
                                               "ORC", "TEXT"):
            return 400, _err("INVALID_ARGUMENT", f"bad data_source_format {b['data_source_format']}")
        for c in b["columns"]:
            if c.get("type_name") not in COLUMN_TYPE_NAMES:
                return 400, _err("INVALID_ARGUMENT", f"bad type_name {c.get('type_name')}")
            try:
                json.loads(c.get("type_json", ""))
            except (TypeError, json.JSONDecodeError):
                return 400, _err("INVALID_ARGUMENT", f"type_json of {c.get('name')} is not JSON")
        full = f"{schema}.{b['name']}"
        if full in self.tables:
            return 409, _err("ALREADY_EXISTS", f"Table already exists: {full}")
        info = dict(b)
        info.update({"full_name": full, "table_id": str(uuid.uuid4()),
                     "created_at": int(time.time() * 1000)})
        self.tables[full] = info
        return 200, info

    def answer(self, method, path, query, headers, body):
        if self.token and headers.get("Authorization") != f"Bearer {self.token}":
            return 401, _err("UNAUTHENTICATED", "missing or wrong token")
        return self.handle(method, path, body)


def _err(code: str, message: str) -> dict:
    return {"error_code": code, "message": message}
