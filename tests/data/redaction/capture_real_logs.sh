#!/bin/sh
# How the program logs under negatives/ were captured (Debian 12, as root, by hand; then
# build_negatives.py picks the lines). Real programs, installed with apt and run on 127.0.0.1:
#   apt-get install nginx mariadb-server redis-server   (PostgreSQL 15 and OpenSSH were there)
# Nothing here is run by the tests; the captured lines are stored in negatives/.
set -u
OUT=${OUT:-/tmp/neg}
mkdir -p "$OUT" && chmod 777 "$OUT"
PG=/usr/lib/postgresql/15/bin

# PostgreSQL: a fresh cluster with connection and statement logging, some good and bad queries,
# pgbench, a client pointed at closed ports ("Connection refused")
su postgres -c "$PG/initdb -D $OUT/pgdata -A trust" > "$OUT/pg_initdb.log" 2>&1
su postgres -c "$PG/pg_ctl -D $OUT/pgdata -o \"-p 55432 -k /tmp -c listen_addresses=127.0.0.1 \
  -c log_connections=on -c log_disconnections=on -c log_min_duration_statement=0 \
  -c log_checkpoints=on -c log_line_prefix='%m [%p] %q%u@%d '\" -l $OUT/postgresql.log start"
sleep 3
for q in "CREATE DATABASE shop" "SELECT 1" "SELECT * FROM missing_table" \
         "CREATE TABLE t(id int primary key, name text)" "INSERT INTO t VALUES (1,'a')" \
         "INSERT INTO t VALUES (1,'b')" "SELECT pg_sleep(0.1)" "VACUUM ANALYZE" "DROP TABLE nope" \
         "CHECKPOINT" "CREATE INDEX ON t(name)" "BEGIN; LOCK TABLE t; ROLLBACK" "SELECT 1/0" \
         "ALTER SYSTEM SET work_mem='8MB'" "SELECT pg_reload_conf()"; do
  su postgres -c "$PG/psql -h 127.0.0.1 -p 55432 -d postgres -c \"$q\"" >/dev/null 2>&1
done
su postgres -c "$PG/psql -h 127.0.0.1 -p 55432 -d nosuchdb -c 'select 1'" >/dev/null 2>&1
su postgres -c "$PG/pgbench -h 127.0.0.1 -p 55432 -i -s 1 postgres && \
  $PG/pgbench -h 127.0.0.1 -p 55432 -c 2 -t 20 postgres" >/dev/null 2>&1
su postgres -c "$PG/pg_ctl -D $OUT/pgdata stop -m fast"
for port in 55433 55434; do $PG/psql -h 127.0.0.1 -p $port -d postgres -c 'select 1'; done \
  > "$OUT/psql_client.log" 2>&1

# nginx: default site, error log at info level, a few dozen requests (200, 404, 405, 416)
nginx -g "error_log $OUT/nginx_error.log info;"
sleep 1
for i in 1 2 3; do
  for u in / /index.html /missing /admin/login.php "/search?q=test&page=$i" /favicon.ico /.env \
           /wp-login.php "/api/v1/items?id=4$i" /static/app.js /robots.txt /images/logo.png; do
    curl -s -o /dev/null -A "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0" \
      "http://127.0.0.1$u"
  done
done
curl -s -o /dev/null -X DELETE http://127.0.0.1/
curl -s -o /dev/null -H 'Range: bytes=99999-' http://127.0.0.1/
nginx -s reload; sleep 1; nginx -s stop; sleep 1
cp /var/log/nginx/access.log "$OUT/nginx_access.log"

# MariaDB: a fresh data dir, error and general logs, good and failing statements
mkdir -p "$OUT/mysql" && chown mysql "$OUT/mysql"
mariadb-install-db --user=mysql --datadir="$OUT/mysql" > "$OUT/mariadb_install.log" 2>&1
mariadbd --user=mysql --datadir="$OUT/mysql" --socket="$OUT/mysqld.sock" --port=53306 \
  --bind-address=127.0.0.1 --log-error="$OUT/mariadb_error.log" --general-log=1 \
  --general-log-file="$OUT/mariadb_general.log" --log-warnings=4 --pid-file="$OUT/mysqld.pid" &
sleep 4
for q in "CREATE DATABASE shop" "USE shop; CREATE TABLE orders(id INT PRIMARY KEY, total DECIMAL(10,2))" \
         "INSERT INTO shop.orders VALUES (1, 9.99)" "INSERT INTO shop.orders VALUES (1, 9.99)" \
         "SELECT * FROM shop.nope" "SHOW PROCESSLIST" "FLUSH LOGS" "SELECT SLEEP(0.2)" \
         "ANALYZE TABLE shop.orders" "DROP DATABASE nosuch" "SELECT @@version"; do
  mariadb --socket="$OUT/mysqld.sock" -uroot -e "$q" >/dev/null 2>&1
done
mariadb -h 127.0.0.1 -P 53307 -uroot -e 'select 1' 2>> "$OUT/mariadb_client.log"
mariadb-admin --socket="$OUT/mysqld.sock" -uroot shutdown

# Redis: verbose log, a few commands
redis-server --port 56379 --bind 127.0.0.1 --logfile "$OUT/redis.log" --loglevel verbose \
  --daemonize yes --dir "$OUT" --save ""
sleep 1
for c in PING "SET k v" "GET k" "INFO server" DBSIZE "CONFIG GET maxmemory" "CLIENT LIST" BGSAVE; do
  redis-cli -p 56379 $c >/dev/null
done
redis-cli -p 56379 shutdown nosave

# OpenSSH: sshd at VERBOSE on a spare port, logins by users that are refused
mkdir -p "$OUT/ssh" && ssh-keygen -q -t ed25519 -N '' -f "$OUT/ssh/hk"
printf 'Port 52222\nListenAddress 127.0.0.1\nHostKey %s/ssh/hk\nPidFile %s/ssh/sshd.pid\nLogLevel VERBOSE\nUsePAM no\n' \
  "$OUT" "$OUT" > "$OUT/ssh/sshd_config"
/usr/sbin/sshd -f "$OUT/ssh/sshd_config" -E "$OUT/sshd.log"
sleep 1
for u in root admin nosuchuser postgres git; do
  timeout 5 ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -p 52222 "$u@127.0.0.1" true 2>> "$OUT/ssh_client.log"
done
kill "$(cat "$OUT/ssh/sshd.pid")"
