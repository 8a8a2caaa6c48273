from django.contrib import admin

from tenants.models import ApiKey, Cell, Membership, Tenant, TenantEvent

admin.site.register(Cell)
admin.site.register(Tenant)
admin.site.register(Membership)
admin.site.register(ApiKey)
admin.site.register(TenantEvent)
