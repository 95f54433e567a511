#!/usr/bin/env bash
# What PostgreSQL alone can do with CreateDraft's writes, with and without the
# audit chain's head row, driven by pgbench (a C client: no gRPC, no naskah
# server, no Rust). It measures the bound that naskah's PostgreSQL writes meet:
# every change commits its events in its own transaction, and every such
# transaction moves the one chain head row, so their commits follow each other.
#
#   cargo build --release && scripts/pg_chain_bound.sh [SECONDS]
#
# (NASKAH_BIN names another naskah binary to migrate with; the test suite runs
# this script for one second per shape with its own build, so it never rots.)
#
# Starts a throwaway cluster with the benchmark's durable settings (fsync and
# synchronous_commit on), applies naskah's migrations with target/release/naskah,
# then runs each shape for SECONDS (default 8) and prints transactions/s and
# writes/s. The statements write the rows CreateDraft writes (letter, one
# addressee, version, two folder entries, one event) into naskah's own tables
# and indexes:
#   insert       one row, autocommit (what the ceiling's CreateDraft does)
#   rows         CreateDraft's rows and its event in one transaction, no head
#   chain        the same, the event appended as naskah does (head row moved in
#                the append statement): BEGIN; writes; append; COMMIT
#   chain-one    the same in one autocommitted statement, the event's hash
#                computed by PostgreSQL (no round trip while the head is held)
#   group-N      N writes per transaction, each under a savepoint, the head
#                locked and moved once at the end for all N events
set -euo pipefail

secs=${1:-8}
top=$(cd "$(dirname "$0")/.." && pwd)
naskah=${NASKAH_BIN:-$top/target/release/naskah}
[ -x "$naskah" ] || { echo "build first: cargo build --release" >&2; exit 1; }
bin=${NASKAH_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort | tail -n 1)}
[ -x "$bin/pgbench" ] || { echo "PostgreSQL binaries with pgbench not found (set NASKAH_PG_BIN)" >&2; exit 1; }

work=$(mktemp -d /tmp/naskah-pgbound-XXXXXX)
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$work"
  chmod 755 "$work"
  as_pg=(runuser -u postgres --)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
stop() {
  "${as_pg[@]}" "$bin/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap stop EXIT
"${as_pg[@]}" "$bin/initdb" -D "$work/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${as_pg[@]}" "$bin/pg_ctl" -D "$work/data" -w -l "$work/server.log" -o \
  "-c listen_addresses=127.0.0.1 -p $port -k $work -c max_connections=200 -c fsync=on -c synchronous_commit=on -c shared_buffers=256MB" \
  start >/dev/null
"$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres bound
NASKAH_DATABASE_URL="postgres://postgres@127.0.0.1:$port/bound" NASKAH_DATA_DIR="$work/naskah" \
  "$naskah" migrate >/dev/null

# One CreateDraft's rows, keyed by :id (pgbench variables are sent as parameters).
vars='\set c random(1, 50)
\set t random(1, 1000000000)
\set id random(1, 2000000000000)'
body="'Dengan hormat, kami mengundang Bapak/Ibu untuk hadir pada rapat koordinasi.'"
sha="'abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789'"
agency="'d15e04dc-3dee-4776-8345-04f135403b2a'"
rows_cte() { # $1: the id variable
  local id=$1
  echo "w0 AS (INSERT INTO letter (id, agency_id, direction, state, letter_type, subject, body, body_sha256, security_level, urgency, classification_code, drafting_position_id, drafted_by_user_id, drafted_by_position_id, current_step, version, number, sign_time_us, signer_user_id, signer_position_id, verification_code, reference_letter_id, incoming, revision, created_at_us, updated_at_us) VALUES ($id, $agency, 1, 1, 1, 'Undangan rapat koordinasi', $body, $sha, 1, 1, '000.1', 'pos-' || :c, 'user-' || :c, 'pos-' || :c, -1, 1, '', NULL, '', '', NULL, '', '', 1, :t, :t) RETURNING 1), \
w1 AS (INSERT INTO letter_addressee (letter_id, kind, idx, position_id, external, display_name) VALUES ($id, 1, 0, 'pos-' || (:c + 1), '', '') RETURNING 1), \
w2 AS (INSERT INTO letter_version (letter_id, version, subject, body, body_sha256, author_user_id, author_position_id, created_at_us) VALUES ($id, 1, 'Undangan rapat koordinasi', $body, $sha, 'user-' || :c, 'pos-' || :c, :t) RETURNING 1), \
w3 AS (INSERT INTO letter_box (position_id, folder, letter_id, agency_id, sort_us, read_at_us) VALUES ('pos-' || :c, 2, $id, $agency, :t, NULL), ('pos-' || :c, 6, $id, $agency, :t, NULL) RETURNING 1)"
}
ev_cols="seq, event_time_us, agency_id, actor_user_id, actor_position_id, action, resource_type, resource_id, outcome, reason, request_id, client_address, summary, prev_hash, hash"
ev_vals() { # $1: seq expression, $2: id variable, $3: prev, $4: hash
  echo "$1, :t, $agency, 'user-' || :c, 'pos-' || :c, '/naskah.v1.LetterService/CreateDraft', 'letter', $2, 1, '', '', '127.0.0.1', 'draft created (version 1)', $3, $4"
}

cat >"$work/insert.sql" <<EOF
\set t random(1, 1000000000)
\set id random(1, 2000000000000)
INSERT INTO letter_version (letter_id, version, subject, body, body_sha256, author_user_id, author_position_id, created_at_us) VALUES (:id, 2, 'Undangan rapat koordinasi', $body, $sha, 'u', 'p', :t);
EOF
cat >"$work/rows.sql" <<EOF
$vars
BEGIN;
WITH $(rows_cte :id) SELECT 1;
INSERT INTO audit_event ($ev_cols) VALUES ($(ev_vals "-(:id::bigint)" ":id" "'prev'" "'hash'"));
COMMIT;
EOF
cat >"$work/chain.sql" <<EOF
$vars
BEGIN;
WITH $(rows_cte :id) SELECT 1;
WITH moved AS (UPDATE audit_head SET last_seq = last_seq + 1, last_hash = md5(:id::text) || md5(:t::text) WHERE id = 1 RETURNING last_seq, last_hash), appended AS (INSERT INTO audit_event ($ev_cols) SELECT $(ev_vals last_seq ":id" "'prev'" last_hash) FROM moved) SELECT last_seq FROM moved;
COMMIT;
EOF
cat >"$work/chain-one.sql" <<EOF
$vars
WITH $(rows_cte :id), locked AS (SELECT last_seq, last_hash FROM audit_head WHERE id = 1 AND (SELECT count(*) FROM w0) + (SELECT count(*) FROM w1) + (SELECT count(*) FROM w2) + (SELECT count(*) FROM w3) > 0 FOR UPDATE), ev AS (SELECT last_seq + 1 AS seq, last_hash AS prev, encode(sha256('naskah.audit.v1'::bytea || '\\x00'::bytea || decode(last_hash, 'hex') || int8send(last_seq + 1) || int8send(:t::int8) || int2send(1::int2) || convert_to(:id::text, 'UTF8')), 'hex') AS hash FROM locked), appended AS (INSERT INTO audit_event ($ev_cols) SELECT $(ev_vals seq ":id" prev hash) FROM ev), moved AS (UPDATE audit_head h SET last_seq = ev.seq, last_hash = ev.hash FROM ev WHERE h.id = 1) SELECT seq FROM ev;
EOF
group() { # $1: writes per transaction
  local n=$1 i vals=""
  printf '%s\n' '\set c random(1, 50)' '\set t random(1, 1000000000)' 'BEGIN;'
  for ((i = 0; i < n; i++)); do
    printf '%s\n' "\\set id$i random(1, 2000000000000)" 'SAVEPOINT w;' "WITH $(rows_cte ":id$i") SELECT 1;"
    vals+="${vals:+, }($(ev_vals "(SELECT last_seq FROM audit_head WHERE id = 1) + $((i + 1))" ":id$i" "'prev'" "'hash'"))"
  done
  printf '%s\n' 'SELECT last_seq, last_hash FROM audit_head WHERE id = 1 FOR UPDATE;' \
    "INSERT INTO audit_event ($ev_cols) VALUES $vals;" \
    "UPDATE audit_head SET last_seq = last_seq + $n, last_hash = md5(:t::text) || md5(:t::text) WHERE id = 1;" 'COMMIT;'
}
for n in 8 32; do group "$n" >"$work/group-$n.sql"; done

run() { # $1: shape, $2: clients, $3: writes per transaction
  local out tps
  out=$("$bin/pgbench" -h 127.0.0.1 -p "$port" -U postgres -n -M prepared -c "$2" -j 2 -T "$secs" -f "$work/$1.sql" bound 2>&1) ||
    { tail -n 5 <<<"$out" >&2; exit 1; }
  tps=$(awk '/^tps = /{print $3}' <<<"$out")
  if grep -q "failed transactions: [1-9]" <<<"$out"; then echo "$1: failed transactions" >&2; exit 1; fi
  printf '| %-10s | %7s | %9.0f | %9.0f |\n' "$1" "$2" "$tps" "$(awk -v t="$tps" -v n="$3" 'BEGIN{print t*n}')"
}
echo "| shape      | clients | tx/s      | writes/s  |"
echo "|------------|---------|-----------|-----------|"
run insert 32 1
run rows 32 1
for c in 4 32; do run chain "$c" 1; done
for c in 4 32; do run chain-one "$c" 1; done
run group-8 4 8
run group-32 2 32
# Every chained shape kept the chain whole: seq 1..N without a gap.
"$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -At bound -c \
  "SELECT CASE WHEN count(*) = max(seq) THEN 'chain: ' || count(*) || ' events, no gap' ELSE 'chain has gaps' END FROM audit_event WHERE seq BETWEEN 1 AND (SELECT last_seq FROM audit_head WHERE id = 1)"
