"""storage_options (issue 13, config half): delta-rs key names, global and per table, checked
(an unknown key is exit 2 naming it), and every value a secret for output (validate, dry
runs, status, errors)."""
from __future__ import annotations

from e2e_lib import LoaderEnv, csv_rows, write_csv
from object_stores import AZURITE_ACCOUNT, AZURITE_KEY, azure_server  # noqa: F401  (fixture)

# Recognisable fake secrets: none of them may ever be printed.
SECRET = "FAKE-SECRET-7f3a9c21e4b8d605"
ENV_SECRET = "FAKE-ENV-SECRET-5b1e88aa90c3"
TABLE_SECRET = "FAKE-TABLE-SECRET-0d6e4f2a7c91"
SECRETS = (SECRET, ENV_SECRET, TABLE_SECRET)


def assert_no_secret(r):
    for s in SECRETS:
        assert s not in r.stdout and s not in r.stderr, f"{s} printed\n{r}"


def config_with_options(env: LoaderEnv, **table_extra):
    write_csv(env.raw / "t" / "a.csv", csv_rows(1, 3))
    entry = env.table_entry("t", "t/*.csv", "csv", **table_extra)
    entry.setdefault("storage_options", {"azure_storage_account_key": TABLE_SECRET,
                                         "aws_region": "eu-west-1"})
    return env.write_config([entry], storage_options={
        "aws_secret_access_key": SECRET,
        "AWS_ACCESS_KEY_ID": "${DL_E2E_KEY_ID}",
        "aws_endpoint": "http://127.0.0.1:9",
        "aws_allow_http": "true",
    })


def test_unknown_storage_option_is_a_config_error_naming_key_and_line(env: LoaderEnv):
    write_csv(env.raw / "t" / "a.csv", csv_rows(1, 3))
    entry = env.table_entry("t", "t/*.csv", "csv",
                            storage_options={"azure_storage_acount_key": TABLE_SECRET})
    env.write_config([entry], storage_options={"aws_regoin": "eu-west-1",
                                               "aws_secret_access_key": SECRET})
    for cmd in ("validate", "run"):
        r = env.run(cmd)
        assert r.rc == 2, str(r)
        assert "storage_options.aws_regoin: unknown storage option 'aws_regoin' (did you mean " \
               "'aws_region'?)" in r.stderr, str(r)
        assert "tables[0].storage_options.azure_storage_acount_key: unknown storage option" \
               in r.stderr, str(r)
        assert "config.yaml:" in r.stderr, str(r)
        assert_no_secret(r)
    assert not env.processed.exists(), "a refused config wrote something"


def test_storage_option_values_are_never_printed(env: LoaderEnv, monkeypatch):
    monkeypatch.setenv("DL_E2E_KEY_ID", ENV_SECRET)
    config_with_options(env)
    r = env.run("validate")
    assert r.rc == 0, str(r)
    assert_no_secret(r)
    r = env.run("run", "--dry-run")
    assert r.rc == 0, str(r)
    assert "a.csv" in r.stdout, str(r)
    assert_no_secret(r)
    r = env.load()
    assert_no_secret(r)
    r = env.run("status", "--json")
    assert r.rc == 0, str(r)
    assert_no_secret(r)
    # Any other config error: the report names keys, never option values.
    config_with_options(env, loading_strategy="scd3")
    r = env.run("validate")
    assert r.rc == 2 and "scd3" in r.stderr, str(r)
    assert_no_secret(r)


def test_table_verbs_take_storage_options_and_never_print_them(env: LoaderEnv):
    write_csv(env.raw / "a.csv", csv_rows(1, 3))
    root = env.root / "tbl"
    opt = ["--storage-option", f"aws_secret_access_key={SECRET}",
           "--storage-option", "AWS_REGION=eu-west-1"]
    r = env.run("table", "write", str(root), "--source", str(env.raw / "a.csv"), *opt,
                config=False)
    assert r.rc == 0, str(r)
    r = env.run("table", "describe", str(root), *opt, config=False)
    assert r.rc == 0 and "version    0" in r.stdout, str(r)
    assert_no_secret(r)
    # An error of the verb itself (no such table) does not print the options either.
    r = env.run("table", "describe", str(env.root / "missing"), *opt, config=False)
    assert r.rc != 0, str(r)
    assert_no_secret(r)
    r = env.run("table", "describe", str(root), "--storage-option", f"aws_regoin={SECRET}",
                config=False)
    assert r.rc == 2, str(r)
    assert "--storage-option aws_regoin: unknown storage option" in r.stderr, str(r)
    assert "did you mean 'aws_region'?" in r.stderr, str(r)
    assert_no_secret(r)
    r = env.run("table", "describe", str(root), "--storage-option", SECRET, config=False)
    assert r.rc == 2 and "KEY=VALUE" in r.stderr, str(r)
    assert_no_secret(r)


# -- on a real store: Azurite's Blob service ----------------------------------------------------


def test_azure_source_is_discovered_with_the_tables_own_options(env: LoaderEnv, azure_server,
                                                                monkeypatch):
    """A source in a container: one listing of its prefix through the Azure backend, with the
    credentials of the table's storage_options (never printed); hidden blobs and a missing
    prefix behave as on a local disk; without credentials the config is refused (exit 2)."""
    container = azure_server.new_bucket()
    for key, body in {"raw/t/2026/a.csv": b"id\n1\n", "raw/t/b.csv": b"id\n2\n",
                      "raw/t/_tmp/c.csv": b"id\n3\n", "raw/t/d.json": b"{}"}.items():
        azure_server.put(container, key, body)
    for var in ("AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_ACCOUNT_KEY",
                "AZURE_STORAGE_ACCESS_KEY", "AZURE_STORAGE_SAS_TOKEN",
                "AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_USE_EMULATOR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DL_E2E_AZ_KEY", AZURITE_KEY)
    options = {"azure_storage_account_name": AZURITE_ACCOUNT,
               "azure_storage_access_key": "${DL_E2E_AZ_KEY}",
               "azure_storage_endpoint": f"{azure_server.endpoint}/{AZURITE_ACCOUNT}"}
    t = env.table_entry("t", "t/*.csv", "csv", storage_options=options)
    t["source_path_pattern"] = f"az://{container}/raw/t/**/*.csv"
    m = env.table_entry("m", "m/*.csv", "csv", storage_options=options)
    m["source_path_pattern"] = f"az://{container}/raw/nothing/*.csv"
    env.write_config([t, m])
    r = env.run("validate")
    assert r.rc == 0, str(r)
    assert AZURITE_KEY not in r.out, str(r)
    r = env.run("run", "--dry-run")
    assert r.rc == 0, str(r)
    assert AZURITE_KEY not in r.out, str(r)
    planned = sorted(line.split()[-1] for line in r.stdout.splitlines()
                     if line.strip().startswith("load "))
    assert planned == [f"az://{container}/raw/t/2026/a.csv", f"az://{container}/raw/t/b.csv"], \
        str(r)
    assert f"az://{container}/raw/nothing/*.csv: its base directory does not exist" in r.stdout, \
        str(r)

    del t["storage_options"]
    env.write_config([t])
    for cmd in ("validate", "run"):
        r = env.run(cmd)
        assert r.rc == 2, str(r)
        assert "tables[0].source_path_pattern: az:// storage cannot be used" in r.stderr, str(r)
