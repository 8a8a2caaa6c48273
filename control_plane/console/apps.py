from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "control_plane.console"
    label = "console"
    verbose_name = "Web console"
