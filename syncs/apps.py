from django.apps import AppConfig


class SyncsConfig(AppConfig):
    name = "syncs"
    verbose_name = "Flows and runs"

    def ready(self) -> None:
        # The tickets ask for flow names and retries through this; they never import syncs.
        from exceptions.hooks import flows_register
        from syncs.hooks import SyncFlows
        from syncs.recovery import recovery_connect

        flows_register(SyncFlows())
        recovery_connect()
