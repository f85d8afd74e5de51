"""verify's pure parts: plan comparison, schema diff wording, which statements are the app's."""

from __future__ import annotations

from pgshift.verify.plans import PlanSummary, compare_plans, summarise
from pgshift.verify.queries import _is_application_query
from pgshift.verify.snapshot import diff_snapshots


def plan(cost: float, indexes: tuple[str, ...] = (), seqs: tuple[str, ...] = ()) -> PlanSummary:
    return PlanSummary(cost, frozenset(indexes), frozenset(seqs))


def test_index_scan_replaced_by_seq_scan_is_a_lost_index_scan() -> None:
    problems = compare_plans(plan(8, ("users_email_idx",)), plan(9, seqs=("users",)),
                             threshold=0.5)
    assert problems == ["lost index scan on users_email_idx (now seq scan on users)"]


def test_another_index_taking_over_is_not_a_lost_index_scan() -> None:
    assert compare_plans(plan(8, ("a_idx",)), plan(8, ("ab_idx",)), threshold=0.5) == []


def test_cost_growth_is_flagged_only_beyond_the_threshold_and_the_noise_floor() -> None:
    assert compare_plans(plan(100), plan(140), threshold=0.5) == []
    assert compare_plans(plan(1), plan(9), threshold=0.5) == []  # tiny costs: noise
    [problem] = compare_plans(plan(100), plan(200), threshold=0.5)
    assert problem == "estimated cost grew from 100.0 to 200.0 (more than 50%)"


def test_summary_finds_bitmap_index_scans_below_the_top_node() -> None:
    tree = {"Node Type": "Aggregate", "Total Cost": 42.5, "Plans": [
        {"Node Type": "Bitmap Heap Scan", "Relation Name": "t", "Plans": [
            {"Node Type": "Bitmap Index Scan", "Index Name": "t_a_idx"}]},
        {"Node Type": "Seq Scan", "Relation Name": "u"}]}
    assert summarise(tree) == plan(42.5, ("t_a_idx",), ("u",))


def test_diff_names_object_state_and_attribute() -> None:
    before = {"column": {"public.t.a": {"type": "integer", "default": None}},
              "index": {"public.t_pkey": {"definition": "CREATE UNIQUE INDEX ..."}}}
    after = {"column": {"public.t.a": {"type": "bigint", "default": None}},
             "index": {}, "table": {"public.x": {"kind": "v", "definition": "SELECT 1"}}}
    assert diff_snapshots(before, after, expected_name="before up", actual_name="after down") == [
        "view public.x: present after down, absent before up (SELECT 1)",
        "column public.t.a: type is 'bigint' after down, was 'integer' before up",
        "index public.t_pkey: missing after down, present before up (CREATE UNIQUE INDEX ...)",
    ]


def test_only_dml_on_application_tables_counts_as_an_application_query() -> None:
    assert _is_application_query("SELECT name FROM users WHERE id = $1", "pgshift")
    assert _is_application_query("WITH x AS (SELECT 1) UPDATE orders SET n = $1", "pgshift")
    assert not _is_application_query("SELECT to_regclass($1) IS NOT NULL", "pgshift")
    assert not _is_application_query('SELECT * FROM "pgshift"."history"', "pgshift")
    assert not _is_application_query("SELECT * FROM pg_stat_activity", "pgshift")
    assert not _is_application_query("CREATE TABLE t (id int)", "pgshift")
