#!/bin/sh
# Once per deploy, before the processes start: Procfile.production's `release` (`make serve` runs it
# first; a platform that reads Procfiles runs it as its release phase). See docs/production.md.
set -eu
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.production}"
python manage.py migrate --noinput
if [ -n "${READ_DATABASE_URL:-}" ]; then python manage.py migrate --noinput --database read; fi
# Static files into STATIC_ROOT, compressed, under hashed names: WhiteNoise serves them (ADR 0026).
python manage.py collectstatic --noinput
if [ -n "${NATS_URL:-}" ]; then python manage.py nats_setup; fi
