#!/usr/bin/env bash
# Serve the site and the django-q2 task cluster together; stopping one stops both.
set -euo pipefail
python=$1 host=$2 port=$3
"$python" manage.py qcluster &
cluster=$!
trap 'kill "$cluster" 2>/dev/null || true' EXIT INT TERM
echo "Serving on http://$host:$port/ (admin: /admin/, portal: /portal/, API docs: /api/docs/)"
"$python" manage.py runserver "$host:$port"
