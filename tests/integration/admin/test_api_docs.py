"""/schema of the admin service works offline, like the voting service's (tests/integration/voting)."""

from __future__ import annotations

from tests.integration.voting.test_api_docs import assert_docs_are_local


async def test_admin_schema_page_references_no_external_host(anon):
    await assert_docs_are_local(anon)
