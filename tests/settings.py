"""Test settings: the production settings, with test keys and quick password hashing."""

import os

from cryptography.fernet import Fernet

os.environ.setdefault("SECRET_KEY", "test-only-" + "k3y" * 20)
# A fresh key per test run: nothing ever encrypted under it outlives the run.
os.environ.setdefault("CREDENTIAL_KEYS", Fernet.generate_key().decode())
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
# The test client and live_server speak plain HTTP.
os.environ["SECURE_SSL_REDIRECT"] = "0"
os.environ["SESSION_COOKIE_SECURE"] = "0"
os.environ["CSRF_COOKIE_SECURE"] = "0"

from console.settings import *  # noqa: F403
from console.settings import DATABASES, VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: the canary test reads its bytes, and subprocesses
    # (a real qcluster, the benchmark) must open the same database.
    # TEST_DB_SUFFIX keeps two test runs on one machine out of each other's file.
    suffix = os.environ.get("TEST_DB_SUFFIX", "")
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test{suffix}.sqlite3")}

# Production serves the hashed files that collectstatic writes; tests use the sources.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Live-server threads and the sandbox's webhook deliveries open connections of their own;
# none may outlive its request, or PostgreSQL refuses to drop the test database at the end.
DATABASES["default"]["CONN_MAX_AGE"] = 0

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Flushed by DELETE, not TRUNCATE, after each transactional test (tests/pg_backend).
    DATABASES["default"]["ENGINE"] = "tests.pg_backend"
    # A test database need not outlive a crash of its server: commits do not wait for the WAL
    # to reach the disk. Every budget take is a transaction of its own, so a flow's run
    # commits often; what other connections see is unchanged.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"
