#!/usr/bin/env bash
# Serve the site, the django-q2 task cluster and the audit sequencer together; stopping one
# stops all. Writers only insert pending audit entries; the sequencer seals them.
set -euo pipefail
python=$1 host=$2 port=$3
export AUDIT_SEQUENCER=${AUDIT_SEQUENCER:-1}
"$python" manage.py qcluster &
cluster=$!
"$python" manage.py audit_sequencer &
sequencer=$!
trap 'kill "$cluster" "$sequencer" 2>/dev/null || true' EXIT INT TERM
echo "Serving on http://$host:$port/ (admin: /admin/, portal: /portal/, API docs: /api/docs/)"
"$python" manage.py runserver "$host:$port"
