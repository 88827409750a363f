//! The store seam itself, on both databases: transactions that roll back when dropped,
//! savepoints, parameters by number, typed NULLs and rows read into Rust types.

use bazaar::store::{Backend as Engine, Store, query, query_as};

use crate::on_both_databases;
use crate::support::{Backend, fresh_postgres_database};

async fn store(backend: Backend) -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = match backend {
        Backend::Sqlite => Store::open_data_dir(dir.path()).await.unwrap(),
        Backend::Postgres => Store::connect(&fresh_postgres_database().await).await.unwrap(),
    };
    store.migrate().await.unwrap();
    let blob = match store.backend() {
        Engine::Sqlite => "BLOB",
        Engine::Postgres => "BYTEA",
    };
    query(&format!(
        "CREATE TABLE probe (id TEXT PRIMARY KEY, n BIGINT, flag BOOLEAN, data {blob}, note TEXT)"
    ))
    .execute(store.writer())
    .await
    .unwrap();
    (store, dir)
}

async fn ids(store: &Store) -> Vec<String> {
    query_as::<(String,)>("SELECT id FROM probe ORDER BY id")
        .fetch_all(store.reader())
        .await
        .unwrap()
        .into_iter()
        .map(|(id,)| id)
        .collect()
}

async fn insert<'e>(
    executor: impl bazaar::store::IntoExecutor<'e>,
    id: &str,
) -> Result<u64, bazaar::store::Error> {
    Ok(query("INSERT INTO probe (id) VALUES ($1)")
        .bind(id)
        .execute(executor)
        .await?
        .rows_affected())
}

on_both_databases!(
    a_transaction_dropped_uncommitted_leaves_nothing_and_its_connection_works,
    savepoints_roll_back_alone_and_commit_with_their_transaction,
    parameters_are_bound_by_number_and_nulls_keep_their_type,
    concurrent_transactions_on_one_writer_lose_no_update,
    a_commit_that_fails_is_rolled_back,
);

async fn a_transaction_dropped_uncommitted_leaves_nothing_and_its_connection_works(backend: Backend) {
    let (store, _dir) = store(backend).await;
    {
        let mut tx = store.writer().begin().await.unwrap();
        insert(&mut *tx, "dropped").await.unwrap();
        // Inside the transaction its own row is visible.
        let (n,): (i64,) = query_as("SELECT COUNT(*) FROM probe")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(n, 1);
    }
    // A failing statement ends a transaction the same way: dropped by the caller's `?`.
    let failed: Result<(), bazaar::store::Error> = async {
        let mut tx = store.writer().begin().await?;
        insert(&mut *tx, "half").await?;
        insert(&mut *tx, "half").await?; // the primary key refuses it
        tx.commit().await
    }
    .await;
    assert!(failed.is_err());
    // On SQLite the writer is one connection: this transaction runs on the one just dropped,
    // and a connection still inside a transaction would refuse `BEGIN`.
    let mut tx = store.writer().begin().await.unwrap();
    insert(&mut *tx, "kept").await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ids(&store).await, ["kept"]);
}

async fn savepoints_roll_back_alone_and_commit_with_their_transaction(backend: Backend) {
    let (store, _dir) = store(backend).await;
    let mut tx = store.writer().begin().await.unwrap();
    insert(&mut *tx, "outer").await.unwrap();
    {
        let mut inner = tx.begin().await.unwrap();
        insert(&mut *inner, "inner-dropped").await.unwrap();
    }
    let mut inner = tx.begin().await.unwrap();
    insert(&mut *inner, "inner-kept").await.unwrap();
    inner.commit().await.unwrap();
    assert_eq!(
        ids(&store).await,
        Vec::<String>::new(),
        "nothing is visible before the commit"
    );
    tx.commit().await.unwrap();
    assert_eq!(ids(&store).await, ["inner-kept", "outer"]);

    // A connection checked out by hand runs transactions too.
    let mut conn = store.writer().acquire().await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    insert(&mut *tx, "by-hand").await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(insert(&mut conn, "after").await.unwrap(), 1);
    drop(conn);
    assert_eq!(ids(&store).await, ["after", "by-hand", "inner-kept", "outer"]);
}

async fn parameters_are_bound_by_number_and_nulls_keep_their_type(backend: Backend) {
    let (store, _dir) = store(backend).await;
    // `$2` before `$1`, and `$1` twice.
    query("INSERT INTO probe (n, id, note, flag, data) VALUES ($2, $1, $1, $3, $4)")
        .bind("a")
        .bind(41_i64)
        .bind(true)
        .bind(vec![0_u8, 255, 7])
        .execute(store.writer())
        .await
        .unwrap();
    // A NULL for each column type: PostgreSQL plans the statement from the parameters' types.
    query("INSERT INTO probe (id, n, flag, data, note) VALUES ($1, $2, $3, $4, $5)")
        .bind("b")
        .bind(None::<i64>)
        .bind(None::<bool>)
        .bind(None::<Vec<u8>>)
        .bind(None::<&str>)
        .execute(store.writer())
        .await
        .unwrap();
    query("UPDATE probe SET n = n + $1 WHERE id = $2 AND n = $3 - $1")
        .bind(1_i64)
        .bind("a")
        .bind(42_i64)
        .execute(store.writer())
        .await
        .unwrap();

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Probe {
        id: String,
        n: Option<i32>,
        flag: Option<bool>,
        data: Option<Vec<u8>>,
        note: Option<String>,
    }
    let rows: Vec<Probe> = query_as("SELECT note, data, flag, n, id FROM probe ORDER BY id")
        .fetch_all(store.reader())
        .await
        .unwrap();
    assert_eq!(
        rows,
        [
            Probe {
                id: "a".into(),
                n: Some(42),
                flag: Some(true),
                data: Some(vec![0, 255, 7]),
                note: Some("a".into())
            },
            Probe {
                id: "b".into(),
                n: None,
                flag: None,
                data: None,
                note: None
            },
        ]
    );
    let missing = query_as::<(String,)>("SELECT id FROM probe WHERE id = $1")
        .bind("zzz")
        .fetch_one(store.reader())
        .await;
    assert!(
        matches!(missing, Err(bazaar::store::Error::RowNotFound)),
        "{missing:?}"
    );
    let wrong = query_as::<(i64,)>("SELECT id FROM probe WHERE id = 'a'")
        .fetch_one(store.reader())
        .await
        .unwrap_err()
        .to_string();
    assert!(wrong.contains("column `id`"), "{wrong}");
}

async fn concurrent_transactions_on_one_writer_lose_no_update(backend: Backend) {
    let (store, _dir) = store(backend).await;
    query("INSERT INTO probe (id, n) VALUES ('counter', 0)")
        .execute(store.writer())
        .await
        .unwrap();
    let lock = store.for_update();
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let store = store.clone();
        let sql = format!("SELECT n FROM probe WHERE id = 'counter'{lock}");
        tasks.push(tokio::spawn(async move {
            let mut tx = store.writer().begin().await.unwrap();
            let (n,): (i64,) = query_as(&sql).fetch_one(&mut *tx).await.unwrap();
            tokio::task::yield_now().await;
            query("UPDATE probe SET n = $1 WHERE id = 'counter'")
                .bind(n + 1)
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let (n,): (i64,) = query_as("SELECT n FROM probe WHERE id = 'counter'")
        .fetch_one(store.reader())
        .await
        .unwrap();
    assert_eq!(n, 40);
}

async fn a_commit_that_fails_is_rolled_back(backend: Backend) {
    let (store, _dir) = store(backend).await;
    // A deferred foreign key is checked at COMMIT. SQLite keeps the transaction open when such a
    // COMMIT fails; PostgreSQL ends it. Either way nothing may be kept, and the connection (on
    // SQLite, the one writer) must be usable again.
    query("CREATE TABLE parent (id TEXT PRIMARY KEY)")
        .execute(store.writer())
        .await
        .unwrap();
    query(
        "CREATE TABLE child (id TEXT PRIMARY KEY, parent_id TEXT REFERENCES parent (id) \
         DEFERRABLE INITIALLY DEFERRED)",
    )
    .execute(store.writer())
    .await
    .unwrap();
    let mut tx = store.writer().begin().await.unwrap();
    insert(&mut *tx, "in-the-failed-transaction").await.unwrap();
    query("INSERT INTO child (id, parent_id) VALUES ('c', 'nobody')")
        .execute(&mut *tx)
        .await
        .unwrap();
    let refused = tx.commit().await;
    assert!(refused.is_err(), "the deferred foreign key refuses the COMMIT");

    let mut tx = store.writer().begin().await.unwrap();
    insert(&mut *tx, "after").await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ids(&store).await, ["after"]);
    let (children,): (i64,) = query_as("SELECT COUNT(*) FROM child")
        .fetch_one(store.reader())
        .await
        .unwrap();
    assert_eq!(children, 0);
}
