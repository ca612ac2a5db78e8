"""Create the shared database cache table (the drain's debounce mark lives there).

Done by migration so that `migrate` alone prepares a database; createcachetable is idempotent.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("projections", "0002_order_views_customer")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
