//! The block layout (schema 2): lookups over posting rows whose events are out of time
//! order agree with a brute-force sort, EventId look-ups, refusal of an old data
//! directory, and the AccessKey usage aggregate.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use cloudward_audit::AuditLog;
use cloudward_audit::blocks::{EventFields, read_events};
use cloudward_audit::log::{DB_FILE, open_reader};
use cloudward_audit::lookup::{Attribute, LookupQuery};
use cloudward_audit::usage::{self, Dimension};
use common::*;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// All pages of a query, as `(eventTime, log index)` in returned order.
fn all_pages(rt: &tokio::runtime::Runtime, log: &AuditLog, mut q: LookupQuery) -> Vec<(i64, u64)> {
    let mut out = Vec::new();
    loop {
        let page = rt.block_on(log.lookup(q.clone())).unwrap();
        assert!(page.events.len() <= q.max_results);
        for b in &page.events {
            let f = EventFields::parse(b).unwrap();
            out.push((f.time_s().unwrap(), 0));
            let last = out.len() - 1;
            out[last].1 = index_of(log, &f.event_id);
        }
        match page.next {
            Some(c) => q.after = Some(c),
            None => return out,
        }
    }
}

fn index_of(log: &AuditLog, id: &str) -> u64 {
    let id = id.to_owned();
    log.read_blocking(move |c| {
        Ok(read_events(c, 0, u64::MAX)?
            .into_iter()
            .find(|(_, b)| EventFields::parse(b).unwrap().event_id == id)
            .map(|(i, _)| i)
            .unwrap())
    })
    .unwrap()
}

#[test]
fn lookups_over_out_of_order_posting_rows_match_a_brute_force_sort() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let rt = rt();
    let (log, writer) = rt.block_on(async { open(dir.path(), clock.clone()) });
    let users = [user("111", "alice"), user("111", "bob"), user("222", "eve")];
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    // Rounds of events with times jumping back and forth; a lookup between rounds
    // makes the indexer write, so every key gets many posting rows.
    let mut expected: Vec<(i64, u64, String, String)> = Vec::new(); // (time, idx, account, user)
    for round in 0..12 {
        for _ in 0..25 {
            let t = T0 + (rnd() % 500) as i64;
            clock.set(t);
            let who = &users[(rnd() % 3) as usize];
            let action = if rnd() % 2 == 0 {
                "GetUser"
            } else {
                "CreateUser"
            };
            let idx = rt
                .block_on(log.record(event(&clock, who, action, &params(&[])), &[]))
                .unwrap();
            expected.push((t, idx, who.account_id.clone(), action.to_owned()));
        }
        let q = LookupQuery {
            accounts: vec!["111".into()],
            start_s: T0,
            end_s: T0 + 1000,
            filters: vec![],
            max_results: 5,
            backward: round % 2 == 0,
            after: None,
        };
        rt.block_on(log.lookup(q)).unwrap();
    }
    for (accounts, filters) in [
        (vec!["111".to_owned()], vec![]),
        (vec!["111".to_owned(), "222".to_owned()], vec![]),
        (
            vec!["111".to_owned()],
            vec![(Attribute::EventName, "CreateUser".to_owned())],
        ),
        (
            vec!["111".to_owned(), "222".to_owned()],
            vec![
                (Attribute::EventName, "GetUser".to_owned()),
                (Attribute::EventRw, "Read".to_owned()),
            ],
        ),
    ] {
        for (start, end) in [(T0, T0 + 1000), (T0 + 100, T0 + 300), (T0 + 250, T0 + 250)] {
            for backward in [true, false] {
                for max in [1usize, 7, 50] {
                    let q = LookupQuery {
                        accounts: accounts.clone(),
                        start_s: start,
                        end_s: end,
                        filters: filters.clone(),
                        max_results: max,
                        backward,
                        after: None,
                    };
                    let got = all_pages(&rt, &log, q);
                    let mut want: Vec<(i64, u64)> = expected
                        .iter()
                        .filter(|(t, _, a, action)| {
                            accounts.contains(a)
                                && *t >= start
                                && *t <= end
                                && filters.iter().all(|(attr, v)| match attr {
                                    Attribute::EventName => action == v,
                                    _ => true,
                                })
                        })
                        .map(|(t, i, _, _)| (*t, *i))
                        .collect();
                    want.sort_unstable();
                    if backward {
                        want.reverse();
                    }
                    assert_eq!(
                        got, want,
                        "accounts {accounts:?} filters {filters:?} window {start}..{end} backward {backward} max {max}"
                    );
                }
            }
        }
    }
    // EventId: found in its account only.
    let some = rt.block_on(log.read(|c| read_events(c, 40, 41))).unwrap();
    let f = EventFields::parse(&some[0].1).unwrap();
    let account = f.user_identity.account_id.clone().unwrap();
    let by_id = |accounts: Vec<String>| {
        rt.block_on(log.lookup(LookupQuery {
            accounts,
            start_s: T0,
            end_s: T0 + 1000,
            filters: vec![(Attribute::EventId, f.event_id.clone())],
            max_results: 20,
            backward: true,
            after: None,
        }))
        .unwrap()
        .events
    };
    assert_eq!(by_id(vec![account.clone()]), vec![some[0].1.clone()]);
    let other = if account == "111" { "222" } else { "111" };
    assert!(by_id(vec![other.to_owned()]).is_empty());
    drop(log);
    writer.join();

    // A deleted index is rebuilt from audit.db on start and answers the same.
    std::fs::remove_file(dir.path().join("audit-index.db")).unwrap();
    let _ = std::fs::remove_file(dir.path().join("audit-index.db-wal"));
    let _ = std::fs::remove_file(dir.path().join("audit-index.db-shm"));
    let (log, writer) = rt.block_on(async { open(dir.path(), clock.clone()) });
    let q = LookupQuery {
        accounts: vec!["111".into()],
        start_s: T0,
        end_s: T0 + 1000,
        filters: vec![],
        max_results: 13,
        backward: true,
        after: None,
    };
    let got = all_pages(&rt, &log, q);
    let mut want: Vec<(i64, u64)> = expected
        .iter()
        .filter(|(_, _, a, _)| a == "111")
        .map(|(t, i, _, _)| (*t, *i))
        .collect();
    want.sort_unstable();
    want.reverse();
    assert_eq!(got, want);
    drop(log);
    writer.join();
}

#[test]
fn an_old_layout_data_directory_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
             INSERT INTO meta VALUES ('schema', CAST('1' AS BLOB));
             CREATE TABLE leaves (idx INTEGER PRIMARY KEY, hash BLOB NOT NULL);
             CREATE TABLE events (idx INTEGER PRIMARY KEY, event_id TEXT NOT NULL, body BLOB NOT NULL);
             INSERT INTO events VALUES (0, 'x', CAST('{}' AS BLOB));",
        )
        .unwrap();
    }
    let clock = TestClock::at(T0);
    let err = AuditLog::open(options(dir.path()), clock, None).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("schema 1") && text.contains("move"), "{text}");
    let conn = open_reader(&path).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        tables,
        vec!["events", "leaves", "meta"],
        "the old file was modified"
    );
    assert!(!dir.path().join("audit-index.db").exists());
}

fn ix<T: Send + 'static>(
    rt: &tokio::runtime::Runtime,
    log: &AuditLog,
    f: impl FnOnce(&rusqlite::Connection) -> Result<T, cloudward_audit::AuditError> + Send + 'static,
) -> T {
    rt.block_on(log.read_indexed(f)).unwrap()
}

#[test]
fn access_key_usage_is_aggregated_per_key_and_scoped_by_account() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let rt = rt();
    let (log, writer) = rt.block_on(async { open(dir.path(), clock.clone()) });
    let alice = user("111", "alice");
    let eve = user("222", "eve");
    rt.block_on(async {
        for i in 0..10 {
            clock.advance(1);
            let action = if i < 7 { "GetUser" } else { "CreateUser" };
            let p = params(&[("UserName", &format!("target{}", i % 2))]);
            log.record(event(&clock, &alice, action, &p), &[])
                .await
                .unwrap();
        }
        clock.advance(5);
        log.record(event(&clock, &eve, "ListUsers", &params(&[])), &[])
            .await
            .unwrap();
    });
    let last = ix(&rt, &log, |c| usage::last_used(c, "111", "LTAIalice")).unwrap();
    assert_eq!(last.action, "CreateUser");
    assert_eq!(last.service, "Ram");
    assert_eq!(last.user_name, "alice");
    assert_eq!(last.identity_type, "ram-user");
    assert_eq!(last.ip, "127.0.0.1");
    assert_eq!(last.total, 10);
    assert_eq!(last.last_ms, (T0 + 10) * 1000);
    // Another account's key is unknown here.
    assert!(ix(&rt, &log, |c| usage::last_used(c, "111", "LTAIeve")).is_none());
    assert!(ix(&rt, &log, |c| usage::last_used(c, "111", "nope")).is_none());

    let products = ix(&rt, &log, |c| {
        Ok(Some(usage::products(c, "111", "LTAIalice")?))
    })
    .unwrap();
    assert_eq!(products.len(), 1);
    assert_eq!((products[0].name.as_str(), products[0].count), ("Ram", 10));
    let events = ix(&rt, &log, |c| {
        Ok(Some(usage::within_service(
            c,
            "111",
            "LTAIalice",
            "ram",
            Dimension::Events,
            None,
            10,
        )?))
    })
    .unwrap();
    let got: Vec<(&str, i64, i64)> = events
        .iter()
        .map(|u| (u.name.as_str(), u.count, u.last_ms))
        .collect();
    // Name order (stable pages).
    assert_eq!(
        got,
        vec![
            ("CreateUser", 3, (T0 + 10) * 1000),
            ("GetUser", 7, (T0 + 7) * 1000)
        ]
    );
    let ips = ix(&rt, &log, |c| {
        Ok(Some(usage::within_service(
            c,
            "111",
            "LTAIalice",
            "Ram",
            Dimension::Ips,
            None,
            10,
        )?))
    })
    .unwrap();
    assert_eq!(ips.len(), 1);
    assert_eq!((ips[0].name.as_str(), ips[0].count), ("127.0.0.1", 10));
    let res = ix(&rt, &log, |c| {
        Ok(Some(usage::within_service(
            c,
            "111",
            "LTAIalice",
            "Ram",
            Dimension::Resources,
            None,
            1,
        )?))
    })
    .unwrap();
    assert_eq!(res.len(), 1, "limit");
    assert_eq!(res[0].kind.as_deref(), Some("ACS::RAM::User"));
    let after = (res[0].kind.clone().unwrap(), res[0].name.clone());
    let page2 = ix(&rt, &log, move |c| {
        Ok(Some(usage::within_service(
            c,
            "111",
            "LTAIalice",
            "Ram",
            Dimension::Resources,
            Some((&after.0, &after.1)),
            10,
        )?))
    })
    .unwrap();
    assert_eq!(page2.len(), 1);
    assert_ne!(page2[0].name, res[0].name);
    assert_eq!(res[0].count + page2[0].count, 10);
    // Another service: nothing.
    let none = ix(&rt, &log, |c| {
        Ok(Some(usage::within_service(
            c,
            "111",
            "LTAIalice",
            "Ecs",
            Dimension::Ips,
            None,
            10,
        )?))
    })
    .unwrap();
    assert!(none.is_empty());
    drop(log);
    writer.join();
}
