"""The throwaway PostgreSQL server of tests/study/conftest.py: reachable, password-protected, shared by Optuna."""

from __future__ import annotations

import optuna
import psycopg2
import pytest
from sqlalchemy.engine import make_url


def test_connects_and_answers_a_query(postgres, postgres_url: str) -> None:
    url = make_url(postgres_url)
    assert (url.host, url.port, url.username) == ("127.0.0.1", postgres.port, postgres.user)
    with psycopg2.connect(postgres_url) as connection, connection.cursor() as cursor:
        cursor.execute("select version(), current_setting('server_version'), current_database(), "
                       "current_setting('listen_addresses')")
        version, server_version, database, listen = cursor.fetchone()
    connection.close()
    assert version.startswith(f"PostgreSQL {postgres.version}")  # the server we started, not another one
    assert server_version.startswith(postgres.version)
    assert database == url.database
    assert listen == "127.0.0.1"


def test_each_test_gets_a_fresh_database(postgres, postgres_url: str) -> None:
    other = postgres.create_database()
    assert make_url(other).database != make_url(postgres_url).database
    with psycopg2.connect(other) as connection, connection.cursor() as cursor:
        cursor.execute("select count(*) from information_schema.tables where table_schema = 'public'")
        assert cursor.fetchone() == (0,)
    connection.close()


def test_a_wrong_password_is_refused(postgres, postgres_url: str) -> None:
    database = make_url(postgres_url).database
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(postgres.wrong_password_url(database))


def test_a_bad_database_name_is_refused(postgres) -> None:
    with pytest.raises(ValueError, match="name must be a lower-case SQL identifier.*'Bad-Name'"):
        postgres.create_database("Bad-Name")


@pytest.mark.parametrize("driver", [None, "psycopg2"])
def test_optuna_storages_on_one_url_share_a_study(postgres, postgres_url: str, driver: str | None) -> None:
    """Two storages (as two workers would have) on one URL see one study; the plain URL uses SQLAlchemy's
    default driver (psycopg 3 from SQLAlchemy 2.1 on), so both drivers of the ``postgres`` extra are covered."""
    url = postgres.url(make_url(postgres_url).database, driver=driver)
    first = optuna.storages.RDBStorage(url)
    try:
        study = optuna.create_study(storage=first, study_name="shared", direction="maximize")
        study.add_trial(optuna.trial.create_trial(params={"x": 2.0},
                                                  distributions={"x": optuna.distributions.FloatDistribution(0, 4)},
                                                  value=4.0))
        second = optuna.storages.RDBStorage(url)
        try:
            seen = optuna.load_study(storage=second, study_name="shared")
            assert [trial.value for trial in seen.trials] == [4.0]
            assert seen.best_params == {"x": 2.0}
            assert optuna.get_all_study_names(storage=second) == ["shared"]
            assert first.engine.dialect.driver == second.engine.dialect.driver == (driver or
                                                                                   make_url(url).get_dialect().driver)
        finally:
            second.remove_session()
            second.engine.dispose()
    finally:
        first.remove_session()
        first.engine.dispose()
