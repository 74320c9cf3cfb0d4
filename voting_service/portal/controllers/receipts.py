"""Checking a receipt: ``/receipts`` (a form; ``?r=`` redirects to the receipt's page) and ``/receipts/{receipt}``
(accepted, recorded or invalidated — never the candidate), through the same Receipts service as
``GET /api/v1/receipts/{receipt}``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from shared.votestore.receipts import parse_receipt
from voting_service.portal.forms import FormErrors, flow_page
from voting_service.portal.render import see_other
from voting_service.services.directory import CampaignNotFound
from voting_service.services.proofs import check as check_proof
from voting_service.services.results import ReceiptNotFound
from voting_service.state import AppServices, Services

STATUSES = ("accepted", "recorded", "invalidated")


async def _campaign_of(services: Services, campaign_id: str) -> Any:
    try:
        return await services.directory.get(int(campaign_id))
    except CampaignNotFound:
        return None


class ReceiptPages(Controller):
    path = "/receipts"
    tags = ["portal"]

    @get("/", operation_id="portalReceiptForm", name="portal:receipts")
    async def form(self, request: Request, services: AppServices) -> Response[Any]:
        typed = request.query_params.get("r")
        if typed is None:
            return flow_page(request, services, "flows/receipt_form.html", receipt="", errors=FormErrors())
        receipt = "".join(typed.split())[:128]
        errors = FormErrors()
        if not receipt:
            errors.add("r", "receipts.error.missing")
        elif parse_receipt(receipt) is None:
            errors.add("r", "receipts.error.format")
        if errors:
            return flow_page(request, services, "flows/receipt_form.html", status=422, receipt=typed[:128],
                             errors=errors)
        return see_other(f"/receipts/{quote(receipt, safe='')}")

    @get("/{receipt:str}", operation_id="portalReceipt", name="portal:receipt")
    async def receipt(self, request: Request, receipt: FromPath[str], services: AppServices) -> Response[Any]:
        try:
            found = await services.receipts.status(receipt)
        except ReceiptNotFound:
            return flow_page(request, services, "flows/receipt_form.html", status=404, receipt=receipt[:128],
                             errors=FormErrors(), not_found=True)
        campaign = await _campaign_of(services, found["campaign_id"])
        # The same check as tools/verify_receipt.py, with the project's own code (services/proofs.py).
        return flow_page(request, services, "flows/receipt.html", receipt=found["receipt"],
                         receipt_status=found["status"], campaign=campaign, proof=found.get("proof"),
                         tree_head=found.get("tree_head"), check=check_proof(found))
