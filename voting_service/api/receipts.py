"""Receipt lookup: is my vote accepted, recorded in the database, or invalidated? Never says for whom."""

from __future__ import annotations

from litestar.params import FromPath
from litestar import Controller, Request, get

from voting_service.deps import services
from voting_service.models import Receipt


class ReceiptController(Controller):
    path = "/api/v1/receipts"
    tags = ["vote"]

    @get("/{receipt:str}", operation_id="getReceipt", cache=False)
    async def get_receipt(self, request: Request, receipt: FromPath[str]) -> Receipt:
        return Receipt(**await services(request).receipts.status(receipt))
