"""Self-check of the SCD2 reference (scd2_reference.py) on tiny cases computed by hand from
the semantics document. No loader involved: if these fail, the reference is wrong."""
from __future__ import annotations

from scd2_reference import (Batch, Scd2Config, SourceFile, build_table, delete_points,
                            timeline_problems)

SEQ = Scd2Config(keys=("id",), sequence="seq", is_delete=lambda r: r.get("op") == "D")


def batch(n: int, *files: list[dict], mtimes=None) -> Batch:
    """Batch number n (load time f"T{n}", batch id f"B{n}"); file i is f"b{n}_{i}" with mtime i."""
    fs = [SourceFile(f"b{n}_{i}", (mtimes[i] if mtimes else i), rows)
          for i, rows in enumerate(files)]
    return Batch(fs, load_time=f"T{n}", batch_id=f"B{n}")


def versions(table: list[dict], *cols: str) -> list[tuple]:
    cols = cols or ("id", "a", "effective_date", "end_date", "is_current")
    return sorted((tuple(r[c] for c in cols) for r in table), key=repr)


def test_new_key_opens_a_current_version():
    t = build_table(SEQ, [batch(1, [{"id": 1, "a": "x", "seq": 10}])])
    assert t == [{"id": 1, "a": "x", "seq": 10, "_load_timestamp": "T1", "_source_file": "b1_0",
                  "_batch_id": "B1", "effective_date": 10, "end_date": None, "is_current": True}]


def test_tracked_change_closes_and_opens():
    t = build_table(SEQ, [batch(1, [{"id": 1, "a": "x", "seq": 1}]),
                          batch(2, [{"id": 1, "a": "y", "seq": 2}])])
    assert versions(t) == [(1, "x", 1, 2, False), (1, "y", 2, None, True)]


def test_untracked_change_updates_in_place():
    cfg = Scd2Config(keys=("id",), tracking=("a",), sequence="seq")
    t = build_table(cfg, [batch(1, [{"id": 1, "a": "x", "note": "n1", "seq": 1}]),
                          batch(2, [{"id": 1, "a": "x", "note": "n2", "seq": 5}])])
    assert versions(t, "a", "note", "seq", "effective_date", "end_date", "_source_file",
                    "_batch_id") == [("x", "n2", 5, 1, None, "b2_0", "B2")]


def test_identical_redelivery_changes_nothing():
    rows = [{"id": 1, "a": "x", "seq": 1}]
    t = build_table(SEQ, [batch(1, rows), batch(2, [{"id": 1, "a": "x", "seq": 7}])])
    assert versions(t, "seq", "effective_date", "_source_file", "_load_timestamp") == [
        (1, 1, "b1_0", "T1")]


def test_sequence_column_is_not_tracked_by_default_and_nulls_compare_safely():
    t = build_table(SEQ, [batch(1, [{"id": 1, "a": None, "seq": 1},
                                    {"id": 1, "a": None, "seq": 2},
                                    {"id": 1, "a": "x", "seq": 3},
                                    {"id": 1, "a": None, "seq": 4}])])
    assert versions(t) == sorted([(1, None, 1, 3, False), (1, "x", 3, 4, False),
                                  (1, None, 4, None, True)], key=repr)


def test_several_changes_in_one_batch_without_sequence():
    cfg = Scd2Config(keys=("id",))
    t = build_table(cfg, [batch(1, [{"id": 1, "a": "x"}]),
                          batch(2, [{"id": 1, "a": "y"}, {"id": 1, "a": "y"}],
                                [{"id": 1, "a": "z"}], mtimes=[5, 3])])
    # Batch 2's files in mtime order: b2_1 (z) then b2_0 (y, y): y collapses into one version.
    assert versions(t) == [(1, "x", "T1", "T2", False), (1, "y", "T2", None, True),
                           (1, "z", "T2", "T2", False)]


def test_late_change_splits_the_interval_that_contains_it():
    t = build_table(SEQ, [batch(1, [{"id": 1, "a": "x", "seq": 1}, {"id": 1, "a": "z", "seq": 10}]),
                          batch(2, [{"id": 1, "a": "y", "seq": 5}])])
    assert versions(t) == [(1, "x", 1, 5, False), (1, "y", 5, 10, False), (1, "z", 10, None, True)]


def test_late_change_older_than_the_first_version():
    t = build_table(SEQ, [batch(1, [{"id": 1, "a": "x", "seq": 10}]),
                          batch(2, [{"id": 1, "a": "w", "seq": 3}])])
    assert versions(t) == [(1, "w", 3, 10, False), (1, "x", 10, None, True)]


def test_delete_then_reinsert():
    batches = [batch(1, [{"id": 1, "a": "x", "op": "I", "seq": 1}]),
               batch(2, [{"id": 1, "a": "x", "op": "D", "seq": 2},
                         {"id": 2, "a": "q", "op": "D", "seq": 2}]),
               batch(3, [{"id": 1, "a": "x", "op": "I", "seq": 3}])]
    t = build_table(SEQ, batches)
    assert versions(t) == [(1, "x", 1, 2, False), (1, "x", 3, None, True)]
    assert delete_points(SEQ, batches) == {((1,), 2), ((2,), 2)}
    assert timeline_problems(SEQ, t, delete_points(SEQ, batches)) == []
    assert "gap" in timeline_problems(SEQ, t, set())[0]


def test_ties_order_by_batch_then_file_mtime_then_path_then_row():
    b1 = batch(1, [{"id": 1, "a": "p", "seq": 5}])
    # Two files with the same mtime: path order (b2_0 before b2_1); then rows in file order.
    b2 = batch(2, [{"id": 1, "a": "q", "seq": 5}], [{"id": 1, "a": "r", "seq": 5},
                                                    {"id": 1, "a": "s", "seq": 5}], mtimes=[1, 1])
    t = build_table(SEQ, [b1, b2])
    assert versions(t) == [(1, "p", 5, 5, False), (1, "q", 5, 5, False), (1, "r", 5, 5, False),
                           (1, "s", 5, None, True)]


def test_retire_absent_keys_at_the_batch_max_sequence():
    cfg = Scd2Config(keys=("id",), sequence="seq", retire_absent_keys=True, open_end=99)
    t = build_table(cfg, [batch(1, [{"id": 1, "a": "x", "seq": 1}, {"id": 2, "a": "x", "seq": 2}]),
                          batch(2, [{"id": 1, "a": "x", "seq": 4}, {"id": 3, "a": "x", "seq": 6}])])
    assert versions(t) == [(1, "x", 1, 99, True), (2, "x", 2, 6, False), (3, "x", 6, 99, True)]


def test_retire_absent_keys_without_sequence_uses_load_time():
    cfg = Scd2Config(keys=("id",), retire_absent_keys=True)
    t = build_table(cfg, [batch(1, [{"id": 1, "a": "x"}, {"id": 2, "a": "x"}]),
                          batch(2, [{"id": 1, "a": "y"}])])
    assert versions(t) == [(1, "x", "T1", "T2", False), (1, "y", "T2", None, True),
                           (2, "x", "T1", "T2", False)]


def test_schema_evolution_new_column_is_null_before():
    t = build_table(SEQ, [batch(1, [{"id": 1, "a": "x", "seq": 1}]),
                          batch(2, [{"id": 1, "a": "x", "extra": None, "seq": 2},
                                    {"id": 2, "a": "x", "extra": "e", "seq": 3}])])
    assert versions(t, "id", "extra", "effective_date", "end_date") == [(1, None, 1, None),
                                                                      (2, "e", 3, None)]


def test_composite_keys_and_bad_rows_are_skipped():
    cfg = Scd2Config(keys=("k1", "k2"), sequence="seq")
    t = build_table(cfg, [batch(1, [{"k1": 1, "k2": "a", "v": 1, "seq": 1},
                                    {"k1": 1, "k2": None, "v": 2, "seq": 2},
                                    {"k1": 1, "k2": "a", "v": 3, "seq": None},
                                    {"k1": 1, "k2": "b", "v": 4, "seq": 3}])])
    assert versions(t, "k1", "k2", "v") == [(1, "a", 1), (1, "b", 4)]


def test_timeline_problems_finds_broken_timelines():
    def v(eff, end, cur):
        return {"id": 1, "effective_date": eff, "end_date": end, "is_current": cur}
    assert timeline_problems(SEQ, [v(1, 5, False), v(5, None, True)], set()) == []
    assert "2 current" in timeline_problems(SEQ, [v(1, None, True), v(5, None, True)])[0]
    assert "overlap" in timeline_problems(SEQ, [v(1, 6, False), v(5, None, True)])[0]
    assert "gap" in timeline_problems(SEQ, [v(1, 4, False), v(5, None, True)], set())[0]
    assert timeline_problems(SEQ, [v(1, 4, False), v(5, None, True)], {((1,), 4)}) == []
    assert "not the latest" in timeline_problems(SEQ, [v(1, None, True), v(5, 6, False)])[0]
