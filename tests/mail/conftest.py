"""Fixtures of the mail tests: the real servers of tests/mail/servers.py for the session,
emptied for each test. Skipped when Dovecot is missing, unless JIUZHU_REQUIRE_TOOLS=1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.mail.servers import DOVECOT, LDA, started, write_config


@pytest.fixture(scope="session")
def servers():
    if not Path(DOVECOT).exists() or not Path(LDA).exists():
        if os.environ.get("JIUZHU_REQUIRE_TOOLS") == "1":
            pytest.fail("Dovecot is required here (apt-get install dovecot-imapd)")
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    with started() as s:
        yield s


@pytest.fixture
def mailserver(servers):
    """The servers with every mailbox emptied: each test starts a week of its own."""
    servers.clear()
    return servers


@pytest.fixture
def configure():
    return write_config
