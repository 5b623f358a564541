from django.apps import AppConfig


class BatchesConfig(AppConfig):
    name = "batches"
    verbose_name = "Story batches"

    def ready(self):
        from batches import checks  # noqa: F401  (registers the system checks)
