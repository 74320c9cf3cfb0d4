"""Receipt lookup: is my vote accepted, recorded in the database, or invalidated? Never says for whom."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath

from voting_service.models import Receipt
from voting_service.state import AppServices


class ReceiptController(Controller):
    path = "/api/v1/receipts"
    tags = ["vote"]

    @get("/{receipt:str}", operation_id="getReceipt", cache=False)
    async def get_receipt(self, receipt: FromPath[str], services: AppServices) -> Receipt:
        return await services.receipts.lookup(receipt)
