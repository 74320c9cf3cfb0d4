"""The receipt check pages and the nomination form: messages at the top and at the field, in the page's
language, what was typed kept; a nomination only from a signed-in phone, with consent."""

from __future__ import annotations

import json
import math

import pytest
from markupsafe import escape

from tests.factories import make_campaign
from tests.integration.portal.flows import citizen_browser, post_form, sign_in
from tests.integration.admin.conftest import admin_app, shared_admin_app, staff  # noqa: F401 - fixtures
from tests.integration.voting.conftest import postgres_dump, redis_dump
from voting_service.portal.controllers.nominate import CONSENT_VERSION

PHONE = "+77015550401"


@pytest.fixture
async def b(settings, pool, voting_pool, voting_redis, portal_app, redis):
    async with citizen_browser(settings, voting_pool, voting_redis, portal_app) as c:
        yield c


# --- receipts ------------------------------------------------------------------------------------------

async def test_receipt_form_checks_what_was_typed(b, pool, redis):
    r = await b.get("/receipts?lang=en")
    assert r.status_code == 200 and '<label for="r">' in r.text
    r = await b.get("/receipts?r=")
    assert r.status_code == 422 and r.text.count("Enter the receipt") == 2
    r = await b.get("/receipts?r=not-a-receipt")
    assert r.status_code == 422 and "This does not look like a receipt" in r.text and 'value="not-a-receipt"' in r.text
    r = await b.get("/receipts?r=%20123.0.1700000000000-0.AbCdEfGh12%20")
    assert r.status_code == 303 and r.headers["location"] == "/receipts/123.0.1700000000000-0.AbCdEfGh12"
    r = await b.get(r.headers["location"])
    assert r.status_code == 404 and "No vote has this receipt" in r.text


async def test_receipt_page_says_the_status_never_the_candidate(b, pool, redis):
    camp = await make_campaign(pool, redis, candidates=2, k=2)
    async with pool.acquire() as conn:
        slug = await conn.fetchval("SELECT slug FROM campaigns WHERE id = $1", camp.id)
    await sign_in(b, PHONE)
    r = await post_form(b, f"/campaigns/{slug}/vote", {"candidate_id": str(camp.candidate_ids[1])},
                        page=f"/campaigns/{slug}")
    page = await b.get(f"/campaigns/{slug}")
    receipt = page.text.split('<code class="receipt">')[1].split("</code>")[0]
    for lang, status in (("kk", "Қабылданды"), ("ru", "Принят"), ("en", "Accepted")):
        check = await b.get(f"/receipts/{receipt}?lang={lang}")
        assert check.status_code == 200 and status in check.text and check.headers["cache-control"] == "no-store"
        without = check.text.replace(receipt, "")
        assert str(camp.candidate_ids[1]) not in without and "Кандидат" not in without


# --- nominations ---------------------------------------------------------------------------------------

def nomination_form(**over: str) -> dict[str, str]:
    form = {"kind": "third_party", "full_name": "Әсел Қасымова", "region": "KZ-75", "sphere": "education_science",
            "gender": "female", "birth_year": "1991",
            "story": "Ауылдық мектепте робототехника үйірмесін ашып, оқушыларын олимпиадаға дайындады.",
            "claim_0": "Облыстық олимпиада жүлдегерлерін дайындады",
            "url_0": "https://example.kz/olimpiada", "nominator_name": "Ерлан Ахметов",
            "nominator_phone": "8 701 555 04 01", "consent_processing": "yes", "consent_nominee": "yes"}
    form.update(over)
    return {k: v for k, v in form.items() if v is not None}


async def test_nominate_needs_a_signed_in_phone(b):
    r = await b.get("/nominate")
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=/nominate"
    r = await sign_in(b, PHONE, next_path="/nominate")
    assert r.headers["location"] == "/nominate"
    page = await b.get("/nominate")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(("lang", "texts"), [
    ("kk", ["Ұсынылатын адамның толық аты-жөнін енгізіңіз", "Туған жылы", "Сілтеме https://",
            "деректеріңізді өңдеуге келісім беріңіз", "одан келісім сұралатынын растаңыз"]),
    ("ru", ["Введите фамилию, имя и отчество кандидата", "Год рождения — четыре цифры", "Ссылка должна",
            "дайте согласие на обработку", "у предложенного человека спросят согласия"]),
    ("en", ["Enter the nominee's full name", "The year of birth must be four digits", "The link must start",
            "agree to the processing of your data", "the nominee will be asked for consent"]),
])
async def test_nomination_errors_at_the_top_and_at_each_field(b, pool, lang, texts):
    await sign_in(b, PHONE)
    await b.get(f"/nominate?lang={lang}")
    before = await postgres_dump(pool)
    form = nomination_form(full_name="", birth_year="20", url_0="ftp://x y", story="Тым қысқа мәтін.",
                           consent_processing=None, consent_nominee=None)
    r = await post_form(b, "/nominate", form)
    assert r.status_code == 422
    summary = r.text.split('class="error-summary"')[1].split("</div>")[0]
    for field in ("full_name", "birth_year", "story", "url_0", "consent_processing", "consent_nominee"):
        assert f'href="#{field}"' in summary, field
        assert f'id="{field}-error"' in r.text, field
    for text in texts:
        assert r.text.count(str(escape(text))) >= 2, text  # in the summary and at the field
    assert "Тым қысқа мәтін." in r.text and 'value="Ерлан Ахметов"' in r.text  # kept
    assert await postgres_dump(pool) == before           # nothing stored


async def test_nominator_phone_must_be_the_signed_in_one(b):
    await sign_in(b, PHONE)
    r = await post_form(b, "/nominate", nomination_form(nominator_phone="+77015559999"))
    assert r.status_code == 422 and "Бұл сайтқа кірген нөміріңіз емес" in r.text
    r = await post_form(b, "/nominate", nomination_form(kind="self", consent_nominee=None, nominator_name=""),
                        headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "Енгізгеніңіз сақталды" in r.text and "Әсел Қасымова" in r.text


async def test_status_page_checks_the_reference(b):
    r = await b.get("/nominate/status?ref=nf-12&lang=en")
    assert r.status_code == 422 and "A reference looks like NF-XXXX-XXXX" in r.text
    r = await b.get("/nominate/status?lang=en")
    assert r.status_code == 200 and '<label for="ref">' in r.text


async def test_nomination_sent_with_reference_consent_and_confirmed_phone(b, pool, redis, staff):
    await sign_in(b, PHONE)
    r = await post_form(b, "/nominate", nomination_form())
    assert r.status_code == 303 and r.headers["location"].startswith("/nominate/status?ref=NF-")
    ref = r.headers["location"].split("ref=")[1].split("&")[0]
    page = await b.get(r.headers["location"])
    assert ref in page.text and "Ұсынысыңыз қабылданды" in page.text
    async with pool.acquire() as conn:
        row = await conn.fetchrow("SELECT id, consent, phone_confirmed, nominator_kind FROM nominations "
                                  "WHERE reference = $1", ref)
    assert row["phone_confirmed"] is True and row["nominator_kind"] == "third_party"
    consent = row["consent"] if isinstance(row["consent"], dict) else json.loads(row["consent"])
    assert consent["processing"] is True and consent["nominee_will_be_asked"] is True
    assert consent["text_version"] == CONSENT_VERSION and consent["at"]
    dumps = await postgres_dump(pool) + await redis_dump(redis)
    assert "7015550401" not in dumps and "555 04 01" not in dumps
    # Typed loosely (lower case, spaces, no dashes): still found.
    loose = ref.lower().replace("-", " ")
    status = await b.get("/nominate/status", params={"ref": loose, "lang": "en"})
    assert status.status_code == 200 and "Received, under review" in status.text and ref in status.text
    # The secretariat's triage queue has it, with the reference, the consent and the confirmed phone.
    sec = await staff("secretariat")
    first = (await sec.get("/api/v1/nominations", params={"status": "received"})).json()
    last = max(1, math.ceil(first["total"] / first["per_page"]))  # oldest first: the newest is on the last page
    items = (await sec.get("/api/v1/nominations", params={"status": "received", "page": last})).json()["items"]
    (item,) = [i for i in items if i["id"] == str(row["id"])]
    assert item["reference"] == ref and item["phone_confirmed"] is True
    assert item["nominee"]["full_name"] == "Әсел Қасымова" and item["nominated_by"]["phone"] == "+77015550401"
    assert item["consent"]["nominee_will_be_asked"] is True


async def test_a_self_nomination_needs_no_nominee_consent_and_third_party_does(b, pool):
    await sign_in(b, PHONE)
    r = await post_form(b, "/nominate?lang=ru", nomination_form(kind="third_party", consent_nominee=None))
    assert r.status_code == 422 and 'href="#consent_nominee"' in r.text
    r = await post_form(b, "/nominate", nomination_form(kind="self", consent_nominee=None, full_name="Ерлан Ахметов"))
    assert r.status_code == 303, r.text[:3000]
    ref = r.headers["location"].split("ref=")[1].split("&")[0]
    consent = json.loads(await pool.fetchval("SELECT consent::text FROM nominations WHERE reference = $1", ref))
    assert consent["processing"] is True and consent["nominee_will_be_asked"] is False
