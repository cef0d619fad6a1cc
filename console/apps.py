from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Onboarding"

    def ready(self) -> None:
        # Connects the audit of sign-in lockouts to axes' signal.
        from console import login_guard  # noqa: F401
