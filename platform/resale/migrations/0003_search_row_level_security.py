"""Row-level security on the search index: a search reads as ``resale_search_reader``, which sees
only the rows of the tenant named in the transaction's ``resale.tenant`` setting.

The consumer writes as the table's owner, to which the policy does not apply; queries switch
role with ``SET LOCAL ROLE`` (see ``resale.search.selectors``), so even a query that forgot its
tenant filter cannot return another tenant's listing. Creating the role needs CREATEROLE (the
RDS master user has it); roles are cluster-wide, hence ``IF NOT EXISTS``.
"""

from django.db import migrations

FORWARD = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'resale_search_reader') THEN
        CREATE ROLE resale_search_reader NOLOGIN;
    END IF;
END
$$;
GRANT resale_search_reader TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO resale_search_reader;
GRANT SELECT ON resale_searchdocument TO resale_search_reader;
ALTER TABLE resale_searchdocument ENABLE ROW LEVEL SECURITY;
CREATE POLICY search_document_tenant_isolation ON resale_searchdocument
    FOR SELECT TO resale_search_reader
    USING (tenant_slug = current_setting('resale.tenant', true));
"""

BACKWARD = """
DROP POLICY IF EXISTS search_document_tenant_isolation ON resale_searchdocument;
ALTER TABLE resale_searchdocument DISABLE ROW LEVEL SECURITY;
REVOKE SELECT ON resale_searchdocument FROM resale_search_reader;
"""


class Migration(migrations.Migration):
    dependencies = [("resale", "0002_history_export")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
