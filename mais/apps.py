from django.apps import AppConfig


class MaisConfig(AppConfig):
    name = "mais"
    verbose_name = "MAIS"
