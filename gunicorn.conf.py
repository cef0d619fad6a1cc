"""gunicorn's settings for the console, read when gunicorn starts in this folder.

Every line gunicorn logs goes through the console's redaction first: a webhook's address
(/hooks/<vendor>/<secret>/) holds its connection's secret, and the access log, when it is
switched on (`--access-logfile -`), writes every path.
"""

logger_class = "console.gunicorn_logging.RedactingLogger"
