"""The store on a real SQLite file, and on PostgreSQL when MONITOR_TEST_POSTGRES_URL names a
database (`. .ci/postgres` starts one): dedup guarantee, atomicity, claims, outbox, feed state.

On PostgreSQL each test gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from monitor.dedup import article_keys
from monitor.records import Article, Figure, Match, Place, Validators
from monitor.store import AlertDraft, RegionSeenRow, Store, StoreError

T0 = datetime(2024, 5, 7, 9, 0, tzinfo=UTC)

ARTICLE = Article(
    feed="field-notes",
    guid="entry-311",
    link="https://field.example.org/reports/clinic-damaged",
    title="Shelling damages a maternity clinic on the edge of town",
    summary="Staff moved eleven patients to a school after the east wing lost its roof.",
    content="",
    published=datetime(2024, 5, 7, 7, 45, tzinfo=UTC),
)

DRAFT = AlertDraft(
    rule_id="health-attacks",
    severity="high",
    cooldown_key="clinic-damaged",
    rule_title="Attacks on health care",
    sentence="Shelling damages a maternity clinic on the edge of town",
    terms=("shelling", "clinic"),
    targets=(("ops-mail", "mailto://***@example.org"), ("ops-json", "json://127.0.0.1:***")),
    explain="terms shelling + clinic in the title",
    figure="displaced: eleven patients",
    places=("Idlib",),
)


def _article(n: int) -> Article:
    return replace(
        ARTICLE,
        guid=f"entry-{n}",
        link=f"https://field.example.org/reports/{n}",
        title=f"Report number {n} on damage to clinics and water points",
        summary=f"Teams counted {n} sites needing repair this week.",
    )


POSTGRES_URL = os.environ.get("MONITOR_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


@pytest.mark.skipif(not POSTGRES_URL, reason="MONITOR_TEST_POSTGRES_URL is not set: SQLite only")
def test_postgres_is_tested() -> None:
    """Says once, as a skip, when the tests below ran on SQLite only."""


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state' / 'monitor.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The test database with a fresh schema first on the search path; dropped afterwards."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        # a server time zone far from UTC: times must still come back UTC
        options = f"-csearch_path={schema} -ctimezone=Asia/Kathmandu"
        url = make_url(POSTGRES_URL).update_query_dict({"options": options})
        yield url.render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    finally:
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest) -> str:
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


def _commit(store: Store, article: Article = ARTICLE, now: datetime = T0) -> int | None:
    return store.commit_article(
        article,
        article_keys(article),
        fetched_at=now,
        alerted=True,
        alerts=[DRAFT],
        regions=[("health-attacks", "region:SY-ID")],
        now=now,
    )


# --- open, files, schema -----------------------------------------------------------------------


TABLES = {
    "feed_state", "article", "article_key", "alert", "delivery", "rule_fire", "region_seen",
    "rule_state", "schema_version",
}  # fmt: skip


def test_open_creates_tables_and_schema_version(db_url: str) -> None:
    store = Store.open(db_url)
    try:
        assert set(inspect(store._engine).get_table_names()) >= TABLES
        with store._engine.connect() as conn:
            assert conn.execute(text("select version from schema_version")).all() == [(1,)]
    finally:
        store.close()


def test_sqlite_open_creates_folder_and_wal(tmp_path: Path, sqlite_url: str) -> None:
    store = Store.open(sqlite_url)
    store.close()
    path = tmp_path / "state" / "monitor.db"
    assert path.exists()
    con = sqlite3.connect(path)
    try:
        tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
        assert con.execute("pragma journal_mode").fetchone()[0] == "wal"
    finally:
        con.close()
    assert tables >= TABLES


def test_sqlite_connections_wait_for_locks(sqlite_url: str) -> None:
    store = Store.open(sqlite_url)
    try:
        # the store's own connections, not a fresh one: the pragmas are per connection
        with store._engine.connect() as conn:
            assert conn.exec_driver_sql("pragma foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("pragma busy_timeout").scalar() == 30000
    finally:
        store.close()


def test_connections_enforce_foreign_keys(store: Store) -> None:
    with store._engine.connect() as conn, pytest.raises(IntegrityError):
        conn.execute(text("insert into article_key (key, article_id) values ('guid:x', 99999)"))


def test_workers_starting_together_on_a_new_database(db_url: str) -> None:
    stores: list[Store] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        barrier.wait()
        try:
            stores.append(Store.open(db_url))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    assert errors == []
    assert len(stores) == 4


def test_forward_migration_hook(db_url: str) -> None:
    Store.open(db_url).close()
    ran: list[int] = []

    def add_note(conn: Connection) -> None:
        ran.append(1)
        conn.execute(text("alter table article add column note varchar"))

    store = Store.open(db_url, schema_version=2, migrations={1: add_note})
    store.close()
    assert ran == [1]
    Store.open(db_url, schema_version=2, migrations={1: add_note}).close()
    assert ran == [1]  # already at 2: not run again
    with pytest.raises(
        StoreError, match=r"written by a newer version of the monitor \(schema 2 > 1\)"
    ):
        Store.open(db_url)  # this code knows version 1 only
    with pytest.raises(StoreError, match="no migration"):
        Store.open(db_url, schema_version=3, migrations={})


def _masked(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@pytest.mark.parametrize(
    ("url", "shown", "reason"),
    [
        ("nonsense", "nonsense", "not a database URL"),
        ("postgresql://u:pw@h:port/db", "postgresql://u:***@h:port/db", "not a database URL"),
        ("nosuchdb://u:pw@h/db", "nosuchdb://u:***@h/db", "unknown kind of database 'nosuchdb'"),
        (
            "postgresql+psycopg://u:pw@127.0.0.1:1/db",
            "postgresql+psycopg://u:***@127.0.0.1:1/db",
            "connection refused",
        ),
    ],
)
@pytest.mark.parametrize("create", [True, False])
def test_open_errors_are_one_line_with_the_password_masked(
    url: str, shown: str, reason: str, create: bool
) -> None:
    with pytest.raises(StoreError) as caught:
        Store.open(url, create=create)
    assert str(caught.value) == f"cannot open the database {shown}: {reason}"
    assert ":pw@" not in str(caught.value)


def test_open_error_when_the_folder_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    url = f"sqlite:///{tmp_path / 'a-file' / 'data' / 'monitor.db'}"
    with pytest.raises(StoreError) as caught:
        Store.open(url)
    folder = tmp_path / "a-file" / "data"
    assert str(caught.value).startswith(
        f"cannot open the database {url}: cannot create folder {folder}: "
    )
    assert "\n" not in str(caught.value)


def test_open_error_when_the_file_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "monitor.db"
    path.write_bytes(b"plain text, not SQLite " * 100)
    with pytest.raises(StoreError, match=r": file is not a database$"):
        Store.open(f"sqlite:///{path}")


def test_open_error_for_a_wrong_password() -> None:
    if not POSTGRES_URL:
        pytest.skip("MONITOR_TEST_POSTGRES_URL is not set")
    url = make_url(POSTGRES_URL).set(password="wrong-secret")
    with pytest.raises(StoreError) as caught:
        Store.open(url.render_as_string(hide_password=False))
    message = str(caught.value)
    assert message.startswith(f"cannot open the database {_masked(POSTGRES_URL)}: ")
    assert "password authentication failed" in message
    assert "wrong-secret" not in message


def test_open_without_create_needs_an_sqlite_file(tmp_path: Path, sqlite_url: str) -> None:
    path = tmp_path / "state" / "monitor.db"
    with pytest.raises(StoreError) as caught:
        Store.open(sqlite_url, create=False)
    assert str(caught.value) == f"no database at {path} yet: run `monitor run` first"
    assert not (tmp_path / "state").exists()  # neither the file nor its folder was made


def test_open_without_create_reads_an_existing_database(db_url: str) -> None:
    store = Store.open(db_url)
    _commit(store)
    store.close()
    store = Store.open(db_url, create=False)
    try:
        assert store.counts().articles == 1
        assert _commit(store, _article(2)) is not None  # not read-only: it just creates nothing
    finally:
        store.close()


def test_open_without_create_creates_no_tables(db_url: str, tmp_path: Path) -> None:
    if db_url.startswith("sqlite"):
        path = tmp_path / "state" / "monitor.db"
        path.parent.mkdir()
        sqlite3.connect(path).close()  # an empty file: no tables
    with pytest.raises(StoreError) as caught:
        Store.open(db_url, create=False)
    assert str(caught.value) == (
        f"cannot open the database {_masked(db_url)}: "
        "it has no monitor tables yet: run `monitor run` first"
    )
    engine = create_engine(db_url)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_open_without_create_does_not_migrate(db_url: str) -> None:
    Store.open(db_url).close()
    ran: list[int] = []
    with pytest.raises(
        StoreError, match=r"schema 1 is older than this program's 2: run `monitor run`"
    ):
        Store.open(db_url, create=False, schema_version=2, migrations={1: lambda _c: ran.append(1)})
    assert ran == []
    with pytest.raises(StoreError, match=r"newer version of the monitor \(schema 1 > 0\)"):
        Store.open(db_url, create=False, schema_version=0)


def test_database_errors_in_later_calls_are_store_errors(db_url: str) -> None:
    store = Store.open(db_url)
    try:
        with store._engine.begin() as conn:
            conn.execute(text("drop table delivery"))
        with pytest.raises(StoreError) as caught:
            store.counts()
        message = str(caught.value)
        assert message.startswith(f"database {_masked(db_url)}: ")
        assert "delivery" in message
        assert "\n" not in message
        password = make_url(db_url).password
        assert not password or password not in message
    finally:
        store.close()


def test_persists_across_close_and_reopen(db_url: str) -> None:
    store = Store.open(db_url)
    article_id = _commit(store)
    store.claim_feed("field-notes", "https://field.example.org/rss", "w1", T0, 60)
    store.record_fetch_success("field-notes", T0, Validators('"v1"', None), None, 4)
    store.close()

    store = Store.open(db_url)
    try:
        assert article_id is not None
        assert store.known(article_keys(ARTICLE))
        assert _commit(store) is None
        counts = store.counts()
        assert (counts.articles, counts.alerts, counts.deliveries["pending"]) == (1, 1, 2)
        state = store.get_feed_state("field-notes")
        assert state is not None
        assert state.validators.etag == '"v1"'
        assert store.last_fired("health-attacks", "clinic-damaged") == T0
    finally:
        store.close()


# --- dedup and atomicity -----------------------------------------------------------------------


def test_known_and_duplicate_by_any_key(store: Store) -> None:
    keys = article_keys(ARTICLE)
    assert not store.known(keys)
    assert not store.known([])
    assert _commit(store) is not None
    assert store.known(keys)
    assert store.known(["guid:nothing-like-it", keys[-1]])
    # the same story from another outlet: only the content hash is shared, and that is enough
    copy = replace(ARTICLE, feed="other", guid="77", link="https://other.example.net/story")
    assert _commit(store, copy) is None
    assert store.counts().articles == 1


def test_duplicate_writes_nothing(store: Store) -> None:
    _commit(store)
    before = store.counts()
    assert _commit(store, now=T0 + timedelta(hours=1)) is None
    assert store.counts() == before
    # the cooldown time was not moved by the rejected duplicate
    assert store.last_fired("health-attacks", "clinic-damaged") == T0


def test_two_stores_race_exactly_one_wins(db_url: str) -> None:
    stores = [Store.open(db_url), Store.open(db_url)]
    articles = [_article(n) for n in range(20)]
    results: list[list[int | None]] = [[], []]
    barrier = threading.Barrier(2)

    def worker(i: int) -> None:
        barrier.wait()
        for a in articles:
            results[i].append(_commit(stores[i], a))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        for n in range(len(articles)):
            winners = [r[n] for r in results if r[n] is not None]
            assert len(winners) == 1, n
        counts = stores[0].counts()
        assert counts.articles == 20
        assert counts.alerts == 20
        assert counts.deliveries["pending"] == 40
    finally:
        for s in stores:
            s.close()


def test_failure_inside_commit_leaves_nothing(store: Store) -> None:
    # the same target twice in one alert breaks UNIQUE(alert_id, target_id) after the article,
    # its keys and the alert were written: all of it must go
    bad = replace(DRAFT, targets=(("ops-mail", "a"), ("ops-mail", "b")))
    with pytest.raises(IntegrityError):
        store.commit_article(
            ARTICLE,
            article_keys(ARTICLE),
            fetched_at=T0,
            alerted=True,
            alerts=[DRAFT, bad],
            regions=[("health-attacks", "region:SY-ID")],
            now=T0,
        )
    counts = store.counts()
    assert (counts.articles, counts.alerts, sum(counts.deliveries.values())) == (0, 0, 0)
    assert not store.known(article_keys(ARTICLE))
    assert store.last_fired("health-attacks", "clinic-damaged") is None
    assert store.regions_last_seen("health-attacks", ["region:SY-ID"]) == {}
    # and the article can still be committed afterwards
    assert _commit(store) is not None


def test_text_with_nul_is_stored(store: Store) -> None:
    # PostgreSQL text cannot hold NUL: it is stored as U+FFFD there (SQLite keeps it)
    article = replace(ARTICLE, title="Clinic\x00 damaged")
    assert _commit(store, article) is not None
    title = store.alerts(1)[0].article_title
    assert title in ("Clinic\x00 damaged", "Clinic\ufffd damaged")
    store.claim_feed("f\x00", "https://field.example.org/rss", "w1", T0, 60)
    assert store.record_fetch_error("f\x00", T0, "bad byte \x00", None, owner="w1")


def test_commit_needs_a_key(store: Store) -> None:
    with pytest.raises(ValueError, match="key"):
        store.commit_article(
            ARTICLE, [], fetched_at=T0, alerted=False, alerts=[], regions=[], now=T0
        )


def test_recorded_only_article(store: Store) -> None:
    article_id = store.commit_article(
        ARTICLE, article_keys(ARTICLE), fetched_at=T0, alerted=False, alerts=[], regions=[], now=T0
    )
    assert article_id is not None
    counts = store.counts()
    assert (counts.articles, counts.alerts, store.pending_count()) == (1, 0, 0)


# --- times ---------------------------------------------------------------------------------------


def test_times_round_trip_as_utc(store: Store) -> None:
    plus_three = timezone(timedelta(hours=3))
    local_now = datetime(2024, 5, 7, 12, 0, tzinfo=plus_three)  # 09:00 UTC
    article = replace(ARTICLE, published=datetime(2024, 5, 7, 10, 45, 30, 123456, plus_three))
    _commit(store, article, now=local_now)
    fired = store.last_fired("health-attacks", "clinic-damaged")
    assert fired == T0
    assert fired is not None
    assert fired.tzinfo is UTC
    job = store.claim_deliveries("w1", T0, 60, 1)[0]
    assert job.message.published == datetime(2024, 5, 7, 7, 45, 30, 123456, tzinfo=UTC)
    assert job.message.published is not None
    assert job.message.published.utcoffset() == timedelta(0)
    status = store.alerts(1)[0]
    assert status.created_at == T0
    assert status.created_at.tzinfo is UTC
    assert store.next_delivery_due() == T0


def test_naive_times_are_refused(store: Store) -> None:
    with pytest.raises(Exception, match="naive"):
        store.rule_first_active("r", datetime(2024, 5, 7, 9, 0))  # noqa: DTZ001


# --- rule memory -------------------------------------------------------------------------------


def test_cooldowns_and_regions(store: Store) -> None:
    _commit(store)
    later = T0 + timedelta(hours=2)
    store.commit_article(
        _article(2),
        article_keys(_article(2)),
        fetched_at=later,
        alerted=True,
        alerts=[DRAFT],
        regions=[("health-attacks", "region:SY-ID"), ("health-attacks", "city:170063")],
        now=later,
    )
    assert store.last_fired("health-attacks", "clinic-damaged") == later
    assert store.last_fired("health-attacks", "other-key") is None
    seen = store.regions_last_seen("health-attacks", ["region:SY-ID", "city:170063", "country:TD"])
    assert seen == {"region:SY-ID": later, "city:170063": later}
    assert store.regions_last_seen("another-rule", ["region:SY-ID"]) == {}
    assert store.regions_last_seen("health-attacks", []) == {}


def _commit_regions(
    store: Store, n: int, now: datetime, seen_at: datetime | None, place: str = "region:SY-ID"
) -> None:
    article = _article(n)
    assert (
        store.commit_article(
            article,
            article_keys(article),
            fetched_at=now,
            alerted=False,
            alerts=[],
            regions=[("new-region", place)],
            now=now,
            regions_seen_at=seen_at,
        )
        is not None
    )


def _region_row(store: Store, place: str) -> tuple[datetime, datetime]:
    with store._read() as s:
        row = s.get(RegionSeenRow, ("new-region", place))
        assert row is not None
        return row.first_seen, row.last_seen


def test_regions_are_seen_when_the_article_says(store: Store) -> None:
    weeks_ago = T0 - timedelta(days=21)
    # a backlog entry published weeks ago: the region was seen then, not today
    _commit_regions(store, 1, T0, weeks_ago)
    assert store.regions_last_seen("new-region", ["region:SY-ID"]) == {"region:SY-ID": weeks_ago}
    assert _region_row(store, "region:SY-ID") == (weeks_ago, weeks_ago)
    # a newer article moves last_seen forward, first_seen stays
    yesterday = T0 - timedelta(days=1)
    _commit_regions(store, 2, T0, yesterday)
    assert _region_row(store, "region:SY-ID") == (weeks_ago, yesterday)
    # an older one, committed later, moves last_seen back never, and first_seen back in time
    older = T0 - timedelta(days=40, microseconds=1)
    _commit_regions(store, 3, T0 + timedelta(hours=1), older)
    assert _region_row(store, "region:SY-ID") == (older, yesterday)
    # one microsecond later still counts as later
    _commit_regions(store, 4, T0, yesterday + timedelta(microseconds=1))
    assert _region_row(store, "region:SY-ID")[1] == yesterday + timedelta(microseconds=1)
    # without regions_seen_at: now
    _commit_regions(store, 5, T0, None)
    assert store.regions_last_seen("new-region", ["region:SY-ID"]) == {"region:SY-ID": T0}


def test_regions_seen_at_is_never_after_now_and_never_naive(store: Store) -> None:
    # a feed's clock in the future must not keep a region "seen" beyond now
    _commit_regions(store, 1, T0, T0 + timedelta(days=2), place="city:170063")
    assert _region_row(store, "city:170063") == (T0, T0)
    # another zone: compared as times, stored as UTC
    kathmandu = timezone(timedelta(hours=5, minutes=45))
    _commit_regions(
        store, 2, T0 + timedelta(hours=1), datetime(2024, 5, 7, 15, 0, tzinfo=kathmandu)
    )
    assert store.regions_last_seen("new-region", ["region:SY-ID"]) == {
        "region:SY-ID": datetime(2024, 5, 7, 9, 15, tzinfo=UTC)
    }
    with pytest.raises(ValueError, match="naive"):
        _commit_regions(store, 3, T0, datetime(2024, 5, 7, 9, 0))  # noqa: DTZ001
    assert not store.known(article_keys(_article(3)))


def test_rule_first_active_is_kept(store: Store) -> None:
    assert store.rule_first_active("new-region", T0) == T0
    assert store.rule_first_active("new-region", T0 + timedelta(days=3)) == T0


def test_draft_from_match() -> None:
    figure = Figure("displaced", 50000, "people", False, "nearly", "nearly 50,000 people")
    place = Place("region:SY-ID", "Idlib", "SY", "region", None, None)
    match = Match("r", "Rule", "high", "s", ("displaced",), figure=figure, places=(place,))
    draft = AlertDraft.from_match(match, cooldown_key="k", targets=[("t", "label")])
    assert draft.figure == "displaced: nearly 50,000 people"
    assert draft.places == ("Idlib",)
    assert draft.targets == (("t", "label"),)


# --- outbox ------------------------------------------------------------------------------------


def test_claimed_job_carries_the_message(store: Store) -> None:
    article_id = _commit(store)
    jobs = store.claim_deliveries("w1", T0, 60, 10)
    assert [j.target_id for j in jobs] == ["ops-mail", "ops-json"]
    msg = jobs[0].message
    assert msg.alert_id == jobs[0].alert_id
    assert article_id is not None
    assert (msg.rule_id, msg.rule_title, msg.severity) == (
        "health-attacks",
        "Attacks on health care",
        "high",
    )
    assert msg.article_title == ARTICLE.title
    assert (msg.source, msg.link) == ("field-notes", ARTICLE.link)
    assert msg.terms == ("shelling", "clinic")
    assert (msg.figure, msg.places, msg.explain) == (DRAFT.figure, ("Idlib",), DRAFT.explain)
    assert jobs[0].attempts == 0


def test_not_due_is_not_claimed(store: Store) -> None:
    _commit(store)
    assert store.claim_deliveries("w1", T0 - timedelta(seconds=1), 60, 10) == []
    assert len(store.claim_deliveries("w1", T0, 60, 10)) == 2


def test_two_owners_never_share_a_delivery(store: Store, db_url: str) -> None:
    for n in range(15):
        _commit(store, _article(n))
    other = Store.open(db_url)
    got: dict[str, list[int]] = {"w1": [], "w2": []}
    barrier = threading.Barrier(2)

    def worker(owner: str, s: Store) -> None:
        barrier.wait()
        while jobs := s.claim_deliveries(owner, T0, 60, 3):
            got[owner].extend(j.delivery_id for j in jobs)

    threads = [
        threading.Thread(target=worker, args=("w1", store)),
        threading.Thread(target=worker, args=("w2", other)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    all_ids = got["w1"] + got["w2"]
    assert len(all_ids) == 30
    assert len(set(all_ids)) == 30
    assert store.counts().deliveries["sending"] == 30


def test_expired_lease_of_a_dead_worker_is_reclaimed(store: Store) -> None:
    _commit(store)
    dead = store.claim_deliveries("dead-worker", T0, 60, 1)
    assert len(dead) == 1
    # within the lease nobody else gets it
    during = store.claim_deliveries("w2", T0 + timedelta(seconds=59), 60, 10)
    assert dead[0].delivery_id not in [j.delivery_id for j in during]
    assert len(during) == 1  # the other target of the alert
    later = T0 + timedelta(seconds=120)
    retaken = store.claim_deliveries("w3", later, 60, 10)
    assert dead[0].delivery_id in [j.delivery_id for j in retaken]
    # the dead worker cannot mark what it lost
    assert not store.mark_sent(dead[0].delivery_id, "dead-worker", later)
    assert store.mark_sent(dead[0].delivery_id, "w3", later)


def test_retry_then_sent(store: Store) -> None:
    _commit(store)
    job = store.claim_deliveries("w1", T0, 60, 1)[0]
    assert not store.mark_retry(job.delivery_id, "someone-else", "x", T0)
    retry_at = T0 + timedelta(minutes=5)
    assert store.mark_retry(job.delivery_id, "w1", "HTTP 503 from channel", retry_at)
    assert not store.mark_sent(job.delivery_id, "w1", T0)  # no longer held
    status = store.alerts(1)[0].deliveries
    mail = next(d for d in status if d.target_id == job.target_id)
    assert (mail.state, mail.attempts, mail.last_error) == ("pending", 1, "HTTP 503 from channel")
    assert mail.next_attempt_at == retry_at
    # not due before retry_at
    ids = [j.delivery_id for j in store.claim_deliveries("w1", T0 + timedelta(minutes=1), 60, 10)]
    assert job.delivery_id not in ids
    again = store.claim_deliveries("w2", retry_at, 60, 10)
    assert [j.attempts for j in again if j.delivery_id == job.delivery_id] == [1]
    assert store.mark_sent(job.delivery_id, "w2", retry_at)
    mail = next(d for d in store.alerts(1)[0].deliveries if d.target_id == job.target_id)
    assert (mail.state, mail.attempts, mail.last_error, mail.sent_at) == ("sent", 2, None, retry_at)


def test_failed_is_terminal_and_visible(store: Store) -> None:
    _commit(store)
    jobs = store.claim_deliveries("w1", T0, 60, 10)
    assert store.mark_failed(jobs[0].delivery_id, "w1", "address rejected")
    assert store.mark_sent(jobs[1].delivery_id, "w1", T0)
    far = T0 + timedelta(days=30)
    assert store.claim_deliveries("w1", far, 60, 10) == []
    assert store.pending_count() == 0
    assert store.next_delivery_due() is None
    counts = store.counts()
    assert counts.deliveries == {"pending": 0, "sending": 0, "sent": 1, "failed": 1}
    failed = [d for d in store.alerts(5)[0].deliveries if d.state == "failed"]
    assert [(d.attempts, d.last_error) for d in failed] == [(1, "address rejected")]


def test_pending_count_includes_sending(store: Store) -> None:
    _commit(store)
    assert store.pending_count() == 2
    store.claim_deliveries("w1", T0, 60, 1)
    assert store.pending_count() == 2


def test_alerts_newest_first_with_limit(store: Store) -> None:
    for n in range(3):
        _commit(store, _article(n), now=T0 + timedelta(minutes=n))
    statuses = store.alerts(2)
    assert [s.article_title for s in statuses] == [_article(2).title, _article(1).title]
    assert all(len(s.deliveries) == 2 for s in statuses)
    assert statuses[0].deliveries[0].target_label == "json://127.0.0.1:***"


# --- feeds ---------------------------------------------------------------------------------------


def test_feed_claims(store: Store) -> None:
    url = "https://field.example.org/rss"
    assert store.get_feed_state("field-notes") is None
    assert store.claim_feed("field-notes", url, "w1", T0, 60)
    assert not store.claim_feed("field-notes", url, "w2", T0 + timedelta(seconds=30), 60)
    assert store.claim_feed("field-notes", url, "w1", T0 + timedelta(seconds=30), 60)  # renew
    state = store.get_feed_state("field-notes")
    assert state is not None
    assert (state.lease_owner, state.lease_until) == ("w1", T0 + timedelta(seconds=90))
    # expired: another worker takes over
    assert store.claim_feed("field-notes", url, "w2", T0 + timedelta(seconds=91), 60)
    assert not store.record_fetch_not_modified("field-notes", T0, owner="w1")
    assert store.record_fetch_not_modified("field-notes", T0 + timedelta(seconds=95), owner="w2")
    state = store.get_feed_state("field-notes")
    assert state is not None
    assert (state.lease_owner, state.lease_until) == (None, None)
    assert state.last_success == T0 + timedelta(seconds=95)


def test_feed_errors_back_off_and_success_clears(store: Store) -> None:
    name, url = "field-notes", "https://field.example.org/rss"
    for i in range(3):
        now = T0 + timedelta(minutes=10 * i)
        assert store.claim_feed(name, url, "w1", now, 60)
        store.record_fetch_error(
            name, now, f"HTTP 503 ({i})", now + timedelta(minutes=2 ** (i + 1))
        )
    state = store.get_feed_state(name)
    assert state is not None
    assert state.failures == 3
    assert state.last_error == "HTTP 503 (2)"
    assert state.last_error_at == T0 + timedelta(minutes=20)
    assert state.next_attempt_at == T0 + timedelta(minutes=28)
    assert state.lease_owner is None
    # backing off: no claim before next_attempt_at, unless asked to ignore it
    assert not store.claim_feed(name, url, "w1", T0 + timedelta(minutes=27), 60)
    assert store.claim_feed(name, url, "w2", T0 + timedelta(minutes=27), 60, respect_backoff=False)
    done = T0 + timedelta(minutes=30)
    assert store.record_fetch_success(
        name,
        done,
        Validators('"abc"', "Tue, 07 May 2024 09:00:00 GMT"),
        "https://new.example.org/rss",
        12,
    )
    store.claim_feed(name, url, "w1", done, 60)
    store.record_fetch_success(name, done, Validators(None, "Wed"), None, 5)
    state = store.get_feed_state(name)
    assert state is not None
    assert state.failures == 0
    assert state.next_attempt_at is None
    assert state.validators == Validators(None, "Wed")  # replaced, not merged
    assert state.permanent_url == "https://new.example.org/rss"  # kept when not given again
    assert state.entries_total == 17
    assert state.last_error == "HTTP 503 (2)"  # history stays visible
    assert [s.name for s in store.feed_states()] == [name]


def test_record_for_unknown_feed_is_false(store: Store) -> None:
    assert not store.record_fetch_not_modified("nobody", T0)


# --- several workers on one database --------------------------------------------------------------


def _run_together(work: list[Callable[[], None]]) -> None:
    """Run each function in its own thread, all released at once; re-raise the first error."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(work))

    def run(fn: Callable[[], None]) -> None:
        barrier.wait()
        try:
            fn()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=(fn,)) for fn in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def test_two_workers_never_do_the_same_work_twice(db_url: str) -> None:
    """Two Store objects on one database (two workers), two threads each, at once."""
    workers = [Store.open(db_url), Store.open(db_url)]
    threads = [(f"w{w}-t{t}", workers[w]) for w in range(2) for t in range(2)]
    try:
        # 1. every thread commits the same 25 articles, each under keys in its own order, and
        # half of the threads commit them as a second outlet's copy sharing only the content hash
        articles = [_article(n) for n in range(25)]
        committed: dict[str, list[int | None]] = {owner: [] for owner, _ in threads}

        def commit(i: int, owner: str, store: Store) -> Callable[[], None]:
            def go() -> None:
                for a in articles:
                    if i % 2:
                        a = replace(a, feed="other", guid=None, link=f"https://o.example/{a.guid}")
                    keys = list(article_keys(a))
                    keys = keys[::-1] if i // 2 else keys
                    committed[owner].append(
                        store.commit_article(
                            a,
                            keys,
                            fetched_at=T0,
                            alerted=True,
                            alerts=[DRAFT],
                            regions=[
                                ("health-attacks", "region:SY-ID"),
                                ("health-attacks", f"c:{i}"),
                            ],
                            now=T0,
                        )
                    )

            return go

        _run_together([commit(i, o, s) for i, (o, s) in enumerate(threads)])
        for n in range(len(articles)):
            assert len([r[n] for r in committed.values() if r[n] is not None]) == 1, n
        counts = workers[0].counts()
        assert (counts.articles, counts.alerts, counts.deliveries["pending"]) == (25, 25, 50)

        # 2. every thread claims deliveries, three at a time, until none is left
        claimed: dict[str, list[int]] = {owner: [] for owner, _ in threads}

        def claim(owner: str, store: Store) -> Callable[[], None]:
            def go() -> None:
                for _ in range(1000):
                    jobs = store.claim_deliveries(owner, T0, 60, 3)
                    claimed[owner].extend(j.delivery_id for j in jobs)
                    if not jobs and store.counts().deliveries["pending"] == 0:
                        return

            return go

        _run_together([claim(o, s) for o, s in threads])
        ids = [d for c in claimed.values() for d in c]
        assert len(ids) == 50
        assert len(set(ids)) == 50
        assert workers[1].counts().deliveries["sending"] == 50
        # each row is held by the thread that was told it won it, and only that thread can mark it
        for owner, store in threads:
            for delivery_id in claimed[owner]:
                assert not store.mark_sent(delivery_id, owner + "-not", T0)
                assert store.mark_sent(delivery_id, owner, T0)
        assert workers[0].counts().deliveries["sent"] == 50

        # 3. every thread tries to take every feed's lease, in its own order
        feeds = [f"feed-{n:02d}" for n in range(20)]
        leases: dict[str, list[str]] = {owner: [] for owner, _ in threads}

        def lease(i: int, owner: str, store: Store) -> Callable[[], None]:
            def go() -> None:
                for name in feeds[i:] + feeds[:i]:
                    if store.claim_feed(name, f"https://{name}.example/rss", owner, T0, 60):
                        leases[owner].append(name)

            return go

        _run_together([lease(i, o, s) for i, (o, s) in enumerate(threads)])
        won = sorted(f for names in leases.values() for f in names)
        assert won == feeds
        for owner, names in leases.items():
            for name in names:
                state = workers[0].get_feed_state(name)
                assert state is not None
                assert (state.lease_owner, state.lease_until) == (owner, T0 + timedelta(seconds=60))
    finally:
        for s in workers:
            s.close()


# --- cooldowns claimed in the transaction ----------------------------------------------------


def _commit_with_cooldown(store: Store, n: int, now: datetime) -> int:
    """Commit article n with a draft under a one-hour cooldown; how many alerts it stored."""
    draft = replace(DRAFT, cooldown=3600.0, cooldown_key="story:displaced:50000:SY")
    before = store.counts().alerts
    assert store.commit_article(
        _article(n),
        article_keys(_article(n)),
        fetched_at=now,
        alerted=True,
        alerts=[draft],
        regions=[],
        now=now,
    )
    return store.counts().alerts - before


def test_a_cooldown_is_claimed_by_the_first_commit_only(store: Store) -> None:
    assert _commit_with_cooldown(store, 1, T0) == 1
    assert _commit_with_cooldown(store, 2, T0 + timedelta(minutes=10)) == 0  # a copy: held
    assert store.last_fired("health-attacks", "story:displaced:50000:SY") == T0
    assert _commit_with_cooldown(store, 3, T0 + timedelta(hours=2)) == 1  # the cooldown is over
    assert store.last_fired("health-attacks", "story:displaced:50000:SY") == T0 + timedelta(hours=2)


def test_two_workers_storing_copies_of_one_story_alert_once(db_url: str) -> None:
    stores = [Store.open(db_url), Store.open(db_url)]
    try:
        results: list[int] = []
        lock = threading.Lock()

        def work(i: int) -> None:
            got = _commit_with_cooldown(stores[i % 2], 100 + i, T0)
            with lock:
                results.append(got)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert stores[0].counts().alerts == 1
        assert stores[0].counts().articles == 6
    finally:
        for s in stores:
            s.close()


def test_a_new_region_is_reported_by_the_first_commit_only(db_url: str) -> None:
    stores = [Store.open(db_url), Store.open(db_url)]
    draft = replace(DRAFT, rule_id="new-region", new_places=("region:SY-HM",), window=30 * 86400.0)
    try:

        def commit(i: int, place_draft: AlertDraft) -> None:
            store = stores[i % 2]
            assert store.commit_article(
                _article(200 + i),
                article_keys(_article(200 + i)),
                fetched_at=T0,
                alerted=True,
                alerts=[place_draft],
                regions=[("new-region", "region:SY-HM")],
                now=T0,
            )

        threads = [threading.Thread(target=commit, args=(i, draft)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert stores[0].counts().alerts == 1
        # a draft naming one seen and one unseen place keeps its alert
        both = replace(draft, new_places=("region:SY-HM", "region:SY-ID"))
        commit(10, both)
        assert stores[0].counts().alerts == 2
    finally:
        for s in stores:
            s.close()
