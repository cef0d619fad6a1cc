"""gunicorn's own logs (its access log, its error log) with secrets in URLs redacted.

gunicorn configures its loggers itself, before Django starts and apart from settings.LOGGING,
so they get the console's filter here. `gunicorn.conf.py` (read by gunicorn when it starts
in the project folder) names this class. The filter sits on the loggers themselves: gunicorn
logs on them directly, and whatever handlers `--access-logfile`, `--error-logfile` or syslog
give them, every line passes it first.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from console.log_redaction import RedactSecretsFilter


class RedactingLogger(Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, RedactSecretsFilter) for f in log.filters):
                log.addFilter(RedactSecretsFilter())
