"""Record each database cluster the outbox lives on (restore-safe positions, ADR 0017).

``outbox_timeline`` has no model on purpose: Django's ``flush`` (and test teardown) must not
empty it, or a consumer could no longer tell which cluster wrote which rows. The first row
claims every event written so far for the cluster that runs this migration. On PostgreSQL,
``outbox_register_timeline()`` adds a row when a connection finds itself on a cluster that
is not the newest one listed (``orders_write.timelines``).
"""

from django.db import migrations

CREATE_TABLE = {
    "postgresql": """
        CREATE TABLE outbox_timeline (
            id BIGSERIAL PRIMARY KEY, system_identifier BIGINT NOT NULL, first_position BIGINT NOT NULL,
            first_txid BIGINT NOT NULL, registered_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now());
        INSERT INTO outbox_timeline (system_identifier, first_position, first_txid)
            SELECT system_identifier, 0, 0 FROM pg_control_system();
    """,
    "sqlite": """
        CREATE TABLE outbox_timeline (
            id INTEGER PRIMARY KEY, system_identifier BIGINT NOT NULL, first_position BIGINT NOT NULL,
            first_txid BIGINT NOT NULL, registered_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
        INSERT INTO outbox_timeline (system_identifier, first_position, first_txid) VALUES (0, 0, 0);
    """,
}
# The advisory lock makes concurrent first connections register once; the second re-reads after it.
REGISTER_FUNCTION = """
CREATE OR REPLACE FUNCTION outbox_register_timeline() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    cluster BIGINT := (SELECT system_identifier FROM pg_control_system());
BEGIN
    IF (SELECT system_identifier FROM outbox_timeline ORDER BY id DESC LIMIT 1) IS DISTINCT FROM cluster THEN
        PERFORM pg_advisory_xact_lock(hashtext('outbox_register_timeline'));
        IF (SELECT system_identifier FROM outbox_timeline ORDER BY id DESC LIMIT 1) IS DISTINCT FROM cluster THEN
            INSERT INTO outbox_timeline (system_identifier, first_position, first_txid)
            VALUES (cluster, (SELECT COALESCE(MAX(position), 0) FROM outbox_event),
                    pg_current_xact_id()::text::bigint);
        END IF;
    END IF;
END $$;
"""


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in CREATE_TABLE[vendor].split(";"):
        if statement.strip():
            schema_editor.execute(statement)
    if vendor == "postgresql":
        schema_editor.execute(REGISTER_FUNCTION)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS outbox_register_timeline()")
    schema_editor.execute("DROP TABLE IF EXISTS outbox_timeline")


class Migration(migrations.Migration):
    dependencies = [("orders_write", "0004_order_admin_indexes")]

    operations = [migrations.RunPython(forwards, backwards)]
