"""Visibility: users see only proposals whose directory they can read."""

from __future__ import annotations

import json
import os
import pwd
import shutil
from pathlib import Path

import pytest

from extra_catalog.index.crawler import CrawlOptions, crawl
from extra_catalog.query import Catalog, QueryError
from extra_catalog.query.visibility import Visibility, proposal_directory
from extra_catalog.testing import write_tree
from extra_catalog.testing.tree import ProposalSpec, RunSpec


class Denier:
    """A permission check refusing one proposal directory, counting calls."""

    def __init__(self, refused: str):
        self.refused = refused
        self.calls: list[str] = []

    def __call__(self, directory: str) -> bool:
        self.calls.append(directory)
        return not directory.endswith(self.refused)


def test_proposal_directory_of_both_layouts() -> None:
    assert proposal_directory("/gpfs/exfel/exp/SPB/202601/p900001/raw/r0001") == \
        "/gpfs/exfel/exp/SPB/202601/p900001"
    assert proposal_directory("/gpfs/exfel/d/raw/SPB/202601/p900002/r0007") == \
        "/gpfs/exfel/d/raw/SPB/202601/p900002"


def test_hidden_proposal_is_absent_everywhere(filled_url: str) -> None:
    denier = Denier("p900002")
    with Catalog(filled_url, can_read=denier) as cat:
        assert set(cat.runs().proposal) == {900001}
        assert set(cat.sources().proposal) == {900001}
        assert set(cat.keys(key="*").proposal) == {900001}
        assert set(cat.files().proposal) == {900001}
        assert set(cat.run_values().proposal) == {900001}
        assert cat.runs(run_type="Dark").empty  # the hidden run's type does not leak
        for view in ("runs", "sources", "keys", "files", "run_values", "problems"):
            assert 900002 not in set(cat.sql(f"SELECT proposal FROM {view}").proposal)
        assert cat.sql("SELECT COUNT(*) AS n FROM runs WHERE run_type = 'Dark'").n[0] == 0
        # Cached: each proposal directory is checked once.
        assert len(denier.calls) == len(set(denier.calls)) == 2
    with Catalog(filled_url, can_read=denier, admin=True) as admin:
        assert set(admin.runs().proposal) == {900001, 900002}
        assert set(admin.sql("SELECT proposal FROM run_values").proposal) == {900001, 900002}


@pytest.mark.parametrize("statement", [
    "SELECT * FROM proposals",
    "SELECT name FROM keyset_keys",
    "SELECT * FROM v_runs",
    "SELECT * FROM main.runs",
    'SELECT * FROM "file_sources"',
    "SELECT * FROM public.runs",
    "SELECT * FROM pg_stats",
    "SELECT * FROM sqlite_master",
])
def test_sql_cannot_reach_around_the_filtered_views(filled_url: str, statement: str) -> None:
    with Catalog(filled_url, can_read=Denier("p900002")) as cat:
        with pytest.raises(QueryError, match="not one of the query views"):
            cat.sql(statement)


def test_schema_of_the_catalogue_is_hidden_on_postgresql(filled_url: str) -> None:
    if not filled_url.startswith("postgresql"):
        pytest.skip("PostgreSQL schemas")
    with Catalog(filled_url, can_read=Denier("p900002")) as cat:
        schema = cat.sql("SELECT current_schema() AS s").s[0]
        with pytest.raises(QueryError, match="not one of the query views"):
            cat.sql(f"SELECT * FROM {schema}.runs")


def test_visibility_cache_can_be_reset() -> None:
    answers = {"/a/p1": False}
    vis = Visibility(lambda d: answers[d])
    assert vis.visible_proposals([(1, "/a/p1/raw/r0001")]) == set()
    answers["/a/p1"] = True
    assert vis.visible_proposals([(1, "/a/p1/raw/r0002")]) == set()  # cached
    vis.forget()
    assert vis.visible_proposals([(1, "/a/p1/raw/r0002")]) == {1}


def _as_nobody(url: str, uid: int, gid: int) -> dict[str, list[int]]:
    """Query the catalogue in a forked child running as uid/gid.

    Forked rather than a new interpreter: this Python may live in a folder
    nobody cannot enter, but its loaded modules are already in memory.
    """
    with Catalog(url, admin=True) as warm:  # import everything the child needs
        warm.runs()
        warm.sql("SELECT proposal FROM keys")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (child)
        code = 1
        try:
            os.close(read_end)
            os.setgid(gid)
            os.setuid(uid)
            with Catalog(url) as cat:
                answer = {"runs": sorted({int(p) for p in cat.runs().proposal}),
                          "sql": sorted({int(p) for p in
                                         cat.sql("SELECT proposal FROM keys").proposal})}
            os.write(write_end, json.dumps(answer).encode())
            code = 0
        except BaseException as exc:
            os.write(write_end, json.dumps({"error": repr(exc)}).encode())
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        output = pipe.read()
    os.waitpid(pid, 0)
    return json.loads(output)


def test_real_permissions_as_user_nobody(tmp_path_factory: pytest.TempPathFactory) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to act as nobody")
    nobody = pwd.getpwnam("nobody")
    base = Path(tmp_path_factory.mktemp("shared"))
    # pytest's temporary folders are private to root: open the path to nobody.
    for parent in [base, *base.parents]:
        if parent == Path("/") or parent.stat().st_mode & 0o005 == 0o005:
            break
        parent.chmod(parent.stat().st_mode | 0o005)
    root = base / "root"
    write_tree(root, spec=[ProposalSpec(900011, "SPB", "202601", (RunSpec(1, n_trains=3),)),
                           ProposalSpec(900012, "SPB", "202601", (RunSpec(1, n_trains=3),))])
    url = f"sqlite:///{base / 'catalog.sqlite'}"
    from extra_catalog.catalog import init_catalog, open_catalog

    init_catalog(url)
    with open_catalog(url) as store:
        crawl(store, [root], CrawlOptions(settle=0, processes=1))
    (root / "SPB/202601/p900012").chmod(0o700)
    # nobody reads the catalogue: WAL mode needs write access to its side files.
    base.chmod(0o777)
    for path in base.glob("catalog.sqlite*"):
        path.chmod(0o666)
    answer = _as_nobody(url, nobody.pw_uid, nobody.pw_gid)
    assert answer == {"runs": [900011], "sql": [900011]}
    with Catalog(url) as as_root:  # root may read both
        assert set(as_root.runs().proposal) == {900011, 900012}
    shutil.rmtree(root, ignore_errors=True)
