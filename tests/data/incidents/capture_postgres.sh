#!/bin/sh
# How postgres-outage/ was captured (run as root on a Debian machine with postgresql 15):
# a private cluster on 127.0.0.1 (never the system's), a client connecting twice a second for
# the whole run, the server stopped ("fast" shutdown) after 120 s for 60 s, then started again.
# Writes server.log (the server's own log) and client.log (one line per attempt, ISO time first).
set -eu
OUT=${1:?output folder}
BIN=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
DIR=$(mktemp -d /tmp/pgcap.XXXXXX)
chown postgres "$DIR"
PORT=${PORT:-55432}
mkdir -p "$OUT"
su postgres -c "$BIN/initdb -D $DIR/data -A trust -U postgres" >/dev/null
cat >> "$DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DIR'
log_line_prefix = '%m [%p] '
log_connections = on
log_disconnections = on
log_min_messages = info
CONF
su postgres -c "$BIN/pg_ctl -D $DIR/data -l $DIR/server.log -w start" >/dev/null
(
  while [ ! -e "$DIR/stop" ]; do
    if out=$(psql -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -Atc 'select count(*) from pg_stat_activity' 2>&1); then
      echo "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ) client[$$]: query ok, $out sessions"
    else
      echo "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ) client[$$]: ERROR $(echo "$out" | head -1)"
    fi
    sleep 0.5
  done
) > "$DIR/client.log" 2>&1 &
LOOP=$!
sleep 120
su postgres -c "$BIN/pg_ctl -D $DIR/data -m fast -w stop" >/dev/null
sleep 60
su postgres -c "$BIN/pg_ctl -D $DIR/data -l $DIR/server.log -w start" >/dev/null
sleep 40
touch "$DIR/stop"; wait $LOOP
su postgres -c "$BIN/pg_ctl -D $DIR/data -m fast -w stop" >/dev/null
cp "$DIR/server.log" "$DIR/client.log" "$OUT/"
rm -rf "$DIR"
