"""
Django's ``migrate``, run as the schema's owner when the platform runs with separate roles on
PostgreSQL (``DATABASE_OWNER_URL``; ``audit.roles``): the runtime role owns nothing and may
not change the schema.
"""

from django.core.management.commands.migrate import Command as MigrateCommand

from audit import roles


class Command(MigrateCommand):
    def handle(self, *args, **options):
        with roles.as_owner(options["database"]):
            return super().handle(*args, **options)
