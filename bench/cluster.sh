# Sourced by the bench scripts: the settings every throwaway bench cluster
# shares.  bench_conf CONF PORT SOCKET_DIR SHARED_BUFFERS appends them to a
# freshly initdb'd cluster's postgresql.conf: no TCP, no parallel query, no
# JIT, no autovacuum, and no durability (the benches measure CPU cost per
# call, not commits surviving a crash).
bench_conf() {
    cat >>"$1" <<CONF
listen_addresses = ''
unix_socket_directories = '$3'
port = $2
shared_buffers = $4
max_parallel_workers_per_gather = 0
jit = off
autovacuum = off
fsync = off
synchronous_commit = off
full_page_writes = off
max_wal_size = 8GB
checkpoint_timeout = 1h
CONF
}
