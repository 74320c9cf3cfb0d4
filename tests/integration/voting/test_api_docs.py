"""/schema works offline: the viewer's files come from the service itself (shared/apidocs), no other host."""

from __future__ import annotations

import re

import httpx

# Any absolute or protocol-relative URL in an attribute or a CSS/JS reference.
EXTERNAL = re.compile(r"""(?:src|href|url|action)\s*[=(]\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?//""", re.I)


async def assert_docs_are_local(client: httpx.AsyncClient) -> None:
    for path in ("/schema", "/schema/swagger"):
        r = await client.get(path, headers={"Accept": "text/html"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), (path, r.text[:300])
        page = r.text
        assert not EXTERNAL.search(page), EXTERNAL.search(page)
        assert "http://" not in page and "https://" not in page and "//cdn" not in page
        assert 'href="/schema/openapi.json"' in page  # the JSON, for readers without JavaScript
        assets = re.findall(r'(?:src|href)="(/api-docs/[^"]+)"', page)
        wanted = ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-init.js")
        assert {f"/api-docs/{name}" for name in wanted} <= set(assets)
        for asset in assets:
            served = await client.get(asset)
            assert served.status_code == 200 and len(served.content) > 100, asset
            assert ("javascript" if asset.endswith(".js") else "css") in served.headers["content-type"]
    spec_url = re.search(r'data-spec-url="([^"]+)"', page).group(1)
    assert (await client.get(spec_url)).json()["openapi"].startswith("3.")
    # The bundle is Swagger UI itself, not a page that loads it from elsewhere.
    bundle = (await client.get("/api-docs/swagger-ui-bundle.js")).text
    assert "SwaggerUIBundle" in bundle and "cdn.jsdelivr" not in bundle and "unpkg.com" not in bundle


async def test_voting_schema_page_references_no_external_host(client):
    await assert_docs_are_local(client)
