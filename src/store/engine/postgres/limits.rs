//! PostgreSQL page reads with their LIMIT written into the statement.

use sea_orm::{Statement, Value};

/// On PostgreSQL, the statement with each `LIMIT $k` written as the number
/// bound to it, the other parameters renumbered. PostgreSQL plans a prepared
/// statement with a bound LIMIT afresh on every run (its generic plan, which
/// cannot know the limit, looks far dearer than a custom one), and planning
/// a page read cost more than running it; with the number in the text the
/// connection's cached statement keeps one plan. Other engines' statements,
/// and a LIMIT bound to anything but an integer, are left as they are
/// (`None`). Every hot read on PostgreSQL goes through it.
pub(super) fn inline_limits(stmt: &Statement) -> Option<Statement> {
    if stmt.db_backend != sea_orm::DbBackend::Postgres {
        return None;
    }
    let values = stmt
        .values
        .as_ref()
        .map(|v| v.0.clone())
        .unwrap_or_default();
    let number = |k: usize| match values.get(k.wrapping_sub(1)) {
        Some(Value::BigUnsigned(Some(n))) => Some(n.to_string()),
        Some(Value::BigInt(Some(n))) => Some(n.to_string()),
        Some(Value::Unsigned(Some(n))) => Some(n.to_string()),
        Some(Value::Int(Some(n))) => Some(n.to_string()),
        _ => None,
    };
    // Placeholders as (start, end, k): `$` and digits (values are all bound,
    // so the text holds no literal that could contain one).
    let bytes = stmt.sql.as_bytes();
    let mut marks = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let j = (i + 1..bytes.len())
                .find(|&j| !bytes[j].is_ascii_digit())
                .unwrap_or(bytes.len());
            if let Ok(k) = stmt.sql[i + 1..j].parse::<usize>() {
                marks.push((i, j, k));
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    let inlined: Vec<bool> = marks
        .iter()
        .map(|&(start, _, k)| stmt.sql[..start].ends_with("LIMIT ") && number(k).is_some())
        .collect();
    if !inlined.contains(&true) {
        return None;
    }
    let mut renumber = std::collections::HashMap::new();
    let mut kept = Vec::new();
    for (&(_, _, k), &gone) in marks.iter().zip(&inlined) {
        if !gone && !renumber.contains_key(&k) {
            if let Some(v) = values.get(k.wrapping_sub(1)) {
                kept.push(v.clone());
                renumber.insert(k, kept.len());
            } else {
                return None;
            }
        }
    }
    let mut sql = String::with_capacity(stmt.sql.len());
    let mut at = 0;
    for (&(start, end, k), &gone) in marks.iter().zip(&inlined) {
        sql.push_str(&stmt.sql[at..start]);
        match (gone, number(k), renumber.get(&k)) {
            (true, Some(n), _) => sql.push_str(&n),
            (false, _, Some(new)) => sql.push_str(&format!("${new}")),
            _ => return None,
        }
        at = end;
    }
    sql.push_str(&stmt.sql[at..]);
    Some(Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        sql,
        kept,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_written_into_postgres_statements_and_the_rest_renumbered() {
        let stmt = Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT * FROM (SELECT a FROM t WHERE b = $1 AND c IN ($2, $3) LIMIT $4) AS p0 \
             UNION ALL (SELECT * FROM (SELECT a FROM t WHERE b = $5 LIMIT $6) AS p1) \
             ORDER BY a DESC LIMIT $7",
            [
                Value::from("x"),
                Value::from(1i16),
                Value::from(2i16),
                Value::from(21u64),
                Value::from("y"),
                Value::from(21u64),
                Value::from(42u64),
            ],
        );
        let out = inline_limits(&stmt).expect("rewritten");
        assert_eq!(
            out.sql,
            "SELECT * FROM (SELECT a FROM t WHERE b = $1 AND c IN ($2, $3) LIMIT 21) AS p0 \
             UNION ALL (SELECT * FROM (SELECT a FROM t WHERE b = $4 LIMIT 21) AS p1) \
             ORDER BY a DESC LIMIT 42"
        );
        assert_eq!(
            out.values.map(|v| v.0).unwrap_or_default(),
            vec![
                Value::from("x"),
                Value::from(1i16),
                Value::from(2i16),
                Value::from("y")
            ]
        );
    }

    #[test]
    fn other_statements_are_left_as_they_are() {
        let sqlite = Statement::from_sql_and_values(
            sea_orm::DbBackend::Sqlite,
            "SELECT a FROM t WHERE b = ? LIMIT ?",
            [Value::from("x"), Value::from(21u64)],
        );
        assert!(inline_limits(&sqlite).is_none());
        // A LIMIT bound to text is not written into the statement.
        let text = Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT a FROM t WHERE b = $1 LIMIT $2",
            [Value::from("x"), Value::from("21")],
        );
        assert!(inline_limits(&text).is_none());
    }
}
