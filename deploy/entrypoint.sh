#!/bin/sh
# The image's entrypoint: runs its command with PGPASSWORD read from the file PGPASSWORD_FILE
# names. libpq (so psycopg) reads the database password from PGPASSWORD or a pgpass file, never
# from a bare secret file, and compose secrets and Kubernetes give bare files; the postgres image
# reads its own as POSTGRES_PASSWORD_FILE, so one file serves both and the password is written
# nowhere else. The value is taken whole, less trailing newlines, as the postgres image does.
set -eu
if [ -n "${PGPASSWORD_FILE:-}" ]; then
    if [ -n "${PGPASSWORD:-}" ]; then
        echo "heatbot: PGPASSWORD and PGPASSWORD_FILE are both set: keep one" >&2
        exit 2
    fi
    if [ ! -r "$PGPASSWORD_FILE" ] || [ ! -f "$PGPASSWORD_FILE" ]; then
        echo "heatbot: PGPASSWORD_FILE=$PGPASSWORD_FILE cannot be read (a compose secret mounted as it is on the host: make it readable to the container's user)" >&2
        exit 2
    fi
    PGPASSWORD=$(cat "$PGPASSWORD_FILE")
    if [ -z "$PGPASSWORD" ]; then
        echo "heatbot: PGPASSWORD_FILE=$PGPASSWORD_FILE is empty" >&2
        exit 2
    fi
    export PGPASSWORD
    unset PGPASSWORD_FILE
fi
exec "$@"
