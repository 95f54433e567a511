//! Several PostgreSQL writes in one round trip: consecutive statements of a
//! write transaction that nothing in it reads back become one statement, all
//! but the last as data-modifying CTEs (`WITH w0 AS (…), w1 AS (…) last`).
//!
//! The statements of one such statement run on one snapshot and do not see
//! each other's rows, in an order PostgreSQL chooses; foreign keys are checked
//! at its end (the schema has no triggers, and no keys that cascade from one
//! table's write to another's). So a statement joins the one before only when
//! that cannot change what either does: it is a plain `INSERT … VALUES`,
//! `UPDATE … SET … WHERE …` or `DELETE FROM … WHERE …` that reads no other
//! table, and no earlier statement of the batch writes its table. A statement
//! that reads (a subquery, `INSERT … SELECT`, `UPDATE … FROM`) may only begin a
//! batch: what it reads was written by round trips before it, as when it ran
//! alone.

use sea_orm::{DbBackend, Statement, Value};

/// The parameters of one PostgreSQL statement (its protocol's limit is 65,535);
/// a batch that would pass this goes on in the next one.
const MAX_VALUES: usize = 32_000;

/// `statements` (PostgreSQL, each numbering its parameters `$1…$n` for its
/// `n` values) as few statements as the rules above allow, in order. The last
/// one given is the main statement of the last one made: the rows that one
/// reports are its rows.
pub(crate) fn batches(statements: Vec<Statement>) -> Vec<Statement> {
    groups(statements).into_iter().map(combine).collect()
}

/// `statements` in groups that may run as one statement each, in order.
fn groups(statements: Vec<Statement>) -> Vec<Vec<Statement>> {
    let mut out = Vec::new();
    let mut batch: Vec<Statement> = Vec::new();
    let mut tables: Vec<String> = Vec::new();
    let mut values = 0usize;
    for st in statements {
        let n = st.values.as_ref().map_or(0, |v| v.0.len());
        let table = writes_only(&st.sql);
        let joins = table
            .as_ref()
            .is_some_and(|t| !batch.is_empty() && !tables.contains(t) && values + n <= MAX_VALUES);
        if !joins && !batch.is_empty() {
            out.push(std::mem::take(&mut batch));
            tables.clear();
            values = 0;
        }
        values += n;
        batch.push(st);
        match table {
            Some(t) => tables.push(t),
            // A statement that reads or is not understood: nothing joins it.
            None => out.push(std::mem::take(&mut batch)),
        }
    }
    if !batch.is_empty() {
        out.push(batch);
    }
    out
}

/// The statements of a group as one: all but the last as CTEs, each one's
/// parameters renumbered after those of the statements before it.
fn combine(mut group: Vec<Statement>) -> Statement {
    if group.len() == 1 {
        return group.remove(0);
    }
    let last = group.pop().map(|st| (st.sql, st.values));
    let (mut sql, mut values) = ctes(group);
    if let Some((last_sql, last_values)) = last {
        sql.push(' ');
        sql.push_str(&renumber(&last_sql, values.len()));
        values.extend(last_values.into_iter().flat_map(|v| v.0));
    }
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// `WITH w0 AS (…), w1 AS (…)` of `group`, and its values.
fn ctes(group: Vec<Statement>) -> (String, Vec<Value>) {
    let mut sql = String::from("WITH ");
    let mut values: Vec<Value> = Vec::new();
    for (i, st) in group.into_iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("w{i} AS ({})", renumber(&st.sql, values.len())));
        values.extend(st.values.into_iter().flat_map(|v| v.0));
    }
    (sql, values)
}

/// `sql` with every parameter `$k` outside quotes written `$(k + by)`.
fn renumber(sql: &str, by: usize) -> String {
    if by == 0 {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut quote: Option<char> = None;
    let mut chars = sql.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
                out.push(c);
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '$' && chars.peek().is_some_and(|(_, d)| d.is_ascii_digit()) => {
                let mut k = 0usize;
                while let Some((_, d)) = chars.peek().copied().filter(|(_, d)| d.is_ascii_digit()) {
                    k = k * 10 + d.to_digit(10).unwrap_or(0) as usize;
                    chars.next();
                }
                out.push('$');
                out.push_str(&(k + by).to_string());
            }
            None => out.push(c),
        }
    }
    out
}

/// The table a statement writes when it is a plain write that reads no other
/// table (see the module's rules), else `None`.
fn writes_only(sql: &str) -> Option<String> {
    let words = words_outside_quotes(sql);
    let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let has = |w: &str| upper.iter().any(|u| u == w);
    if has("SELECT") || has("WITH") || has("RETURNING") || has("USING") {
        return None;
    }
    let froms = upper.iter().filter(|u| *u == "FROM").count();
    let (table_at, ok) = match upper.first().map(String::as_str) {
        Some("INSERT") => (
            2,
            upper.get(1).is_some_and(|w| w == "INTO") && has("VALUES") && froms == 0,
        ),
        Some("UPDATE") => (1, has("SET") && froms == 0),
        Some("DELETE") => (2, upper.get(1).is_some_and(|w| w == "FROM") && froms == 1),
        _ => (0, false),
    };
    if !ok {
        return None;
    }
    table_name(sql, table_at)
}

/// The `n`th token of `sql` (0-based, separated by whitespace) as a table name,
/// its quotes taken off.
fn table_name(sql: &str, n: usize) -> Option<String> {
    let token = sql.split_whitespace().nth(n)?;
    let name = token.trim_matches('"');
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| name.to_owned())
}

/// The bare words of `sql` outside quoted strings and identifiers.
fn words_outside_quotes(sql: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let mut quote: Option<char> = None;
    let mut start: Option<usize> = None;
    for (i, c) in sql.char_indices() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        let word_char = c.is_ascii_alphanumeric() || c == '_';
        match (word_char, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                words.push(&sql[s..i]);
                start = None;
            }
            _ => {}
        }
        if c == '\'' || c == '"' {
            quote = Some(c);
        }
    }
    if let Some(s) = start {
        words.push(&sql[s..]);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(sql: &str, n: usize) -> Statement {
        let values: Vec<Value> = (0..n).map(|i| Value::from(i as i64)).collect();
        Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
    }

    fn shape(out: &[Statement]) -> Vec<(String, usize)> {
        out.iter()
            .map(|s| (s.sql.clone(), s.values.as_ref().map_or(0, |v| v.0.len())))
            .collect()
    }

    #[test]
    fn plain_writes_of_different_tables_go_in_one_statement_with_their_parameters_renumbered() {
        let out = batches(vec![
            st(r#"INSERT INTO "letter" ("id", "x") VALUES ($1, $2)"#, 2),
            st(
                r#"UPDATE "step" SET "a" = $1 WHERE "id" = $2 AND "t" = '$1'"#,
                2,
            ),
            st(r#"DELETE FROM "box" WHERE "letter_id" = $1"#, 1),
        ]);
        assert_eq!(
            shape(&out),
            vec![(
                r#"WITH w0 AS (INSERT INTO "letter" ("id", "x") VALUES ($1, $2)), w1 AS (UPDATE "step" SET "a" = $3 WHERE "id" = $4 AND "t" = '$1') DELETE FROM "box" WHERE "letter_id" = $5"#
                    .to_owned(),
                5
            )]
        );
        // The values follow in the statements' order.
        let values = out[0]
            .values
            .as_ref()
            .map(|v| v.0.clone())
            .unwrap_or_default();
        let expected: Vec<Value> = [0i64, 1, 0, 1, 0].into_iter().map(Value::from).collect();
        assert_eq!(values, expected);
    }

    #[test]
    fn a_table_written_again_begins_a_new_statement() {
        let out = batches(vec![
            st(r#"DELETE FROM "recipient" WHERE "d" = $1"#, 1),
            st(r#"INSERT INTO "recipient" ("d") VALUES ($1)"#, 1),
            st(
                r#"INSERT INTO "letter_box" ("d") VALUES ($1) ON CONFLICT ("d") DO UPDATE SET "s" = "excluded"."s""#,
                1,
            ),
        ]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].sql, r#"DELETE FROM "recipient" WHERE "d" = $1"#);
        assert!(
            out[1]
                .sql
                .starts_with(r#"WITH w0 AS (INSERT INTO "recipient""#)
        );
        assert!(out[1].sql.contains(r#"VALUES ($2) ON CONFLICT"#));
    }

    #[test]
    fn a_statement_that_reads_only_begins_a_batch_and_nothing_joins_it() {
        let out = batches(vec![
            st(r#"INSERT INTO "a" ("x") VALUES ($1)"#, 1),
            st(
                r#"INSERT INTO "b" ("x") SELECT "x" FROM "a" WHERE "y" = $1"#,
                1,
            ),
            st(
                r#"UPDATE "c" SET "x" = 1 WHERE "id" IN (SELECT "id" FROM "a")"#,
                0,
            ),
            st(r#"UPDATE "d" SET "x" = "e"."x" FROM "e""#, 0),
            st(r#"DELETE FROM "f" USING "g" WHERE "f"."id" = "g"."id""#, 0),
            st(r#"INSERT INTO "h" ("x") VALUES ($1) RETURNING "x""#, 1),
            st(r#"INSERT INTO "i" ("x") VALUES ($1)"#, 1),
            st(r#"UPDATE "j" SET "x" = $1 WHERE "k" = 'SELECT'"#, 1),
        ]);
        let sqls: Vec<&str> = out.iter().map(|s| s.sql.as_str()).collect();
        assert_eq!(out.len(), 7, "{sqls:#?}");
        // Only the last two (plain, different tables, a keyword inside a
        // string) went together.
        assert!(sqls[6].starts_with(r#"WITH w0 AS (INSERT INTO "i""#));
        assert!(sqls[6].ends_with(r#"SET "x" = $2 WHERE "k" = 'SELECT'"#));
    }

    #[test]
    fn statements_other_than_plain_writes_are_left_alone() {
        for sql in [
            "WITH m AS (UPDATE t SET a = 1) INSERT INTO u (a) VALUES (1)",
            "SELECT 1",
            "UPDATE t SET a = 1 WHERE b IN (SELECT b FROM u)",
            "TRUNCATE t",
        ] {
            let out = batches(vec![st("INSERT INTO z (a) VALUES ($1)", 1), st(sql, 0)]);
            assert_eq!(out.len(), 2, "{sql}");
            assert_eq!(out[1].sql, sql);
        }
        assert!(batches(Vec::new()).is_empty());
    }

    #[test]
    fn the_last_statement_given_is_the_main_statement_of_the_last_made() {
        let first = || {
            vec![
                st(r#"INSERT INTO "a" ("x") VALUES ($1)"#, 1),
                st(r#"DELETE FROM "b" WHERE "x" = $1"#, 1),
            ]
        };
        let last_made = |last: &str| {
            let mut all = first();
            all.push(st(last, 2));
            batches(all).pop().map(|s| s.sql).unwrap_or_default()
        };
        // Joins the batch: the statement after its CTEs, renumbered.
        let made = last_made(r#"UPDATE "letter" SET "x" = $1 WHERE "revision" = $2"#);
        assert!(made.starts_with("WITH w0 AS (INSERT"), "{made}");
        assert!(
            made.ends_with(r#") UPDATE "letter" SET "x" = $3 WHERE "revision" = $4"#),
            "{made}"
        );
        // Writes a table of the batch, or reads: alone, as given.
        for alone in [
            r#"UPDATE "a" SET "x" = $1 WHERE "revision" = $2"#,
            r#"UPDATE "c" SET "x" = (SELECT 1) WHERE "y" = $1 AND "revision" = $2"#,
        ] {
            assert_eq!(last_made(alone), alone);
        }
    }

    #[test]
    fn a_batch_ends_before_it_would_pass_the_parameter_limit() {
        let out = batches(vec![
            st("INSERT INTO a (x) VALUES ($1)", MAX_VALUES - 1),
            st("INSERT INTO b (x) VALUES ($1)", 1),
            st("INSERT INTO c (x) VALUES ($1)", 1),
        ]);
        assert_eq!(shape(&out)[0].1, MAX_VALUES);
        assert_eq!(
            shape(&out)[1],
            ("INSERT INTO c (x) VALUES ($1)".to_owned(), 1)
        );
    }

    #[test]
    fn folder_entries_and_their_removal_are_plain_writes() {
        use crate::store::letters::{box_put_many_stmt, box_remove_stmt};
        let db = DbBackend::Postgres;
        let put = box_put_many_stmt(
            db,
            "a",
            &[
                ("p", crate::domain::lifecycle::Folder::Inbox),
                ("p", crate::domain::lifecycle::Folder::Cc),
            ],
            "l",
            1,
        );
        let put = put.map(|s| s.sql).unwrap_or_default();
        assert_eq!(writes_only(&put).as_deref(), Some("letter_box"), "{put}");
        let remove =
            box_remove_stmt(db, "l", crate::domain::lifecycle::Folder::Inbox, Some("p")).sql;
        assert_eq!(
            writes_only(&remove).as_deref(),
            Some("letter_box"),
            "{remove}"
        );
    }
}
