"""``python manage.py export_history``: the nightly warehouse export (see resale.history.exports)."""

from django.core.management.base import BaseCommand

from resale.history.exports import history_export
from resale.streams.consumed_tenants import consumed_tenants


class Command(BaseCommand):
    help = "Exports each tenant's new history events as gzip JSON lines for the warehouse."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", action="append", default=[], help="a tenant slug (default: all)")
        parser.add_argument("--full", action="store_true", help="export the whole history again")
        parser.add_argument("--directory", default=None, help="default: HISTORY_EXPORT_DIR")

    def handle(self, *args, **options):
        tenants = [t for t in consumed_tenants() if not options["tenant"] or t.slug in options["tenant"]]
        for tenant in tenants:
            result = history_export(tenant=tenant, full=options["full"], directory=options["directory"])
            self.stdout.write(f"{tenant.slug}: {result.events} events -> {result.path or 'nothing new'}")
