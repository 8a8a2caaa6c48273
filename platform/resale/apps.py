from django.apps import AppConfig


class ResaleConfig(AppConfig):
    name = "resale"
    verbose_name = "Resale platform (data plane)"
