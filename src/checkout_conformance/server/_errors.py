"""The documented error body `{code, message}` and the statuses the reference server uses."""

from __future__ import annotations

from dataclasses import dataclass

# Documented codes (docs api-reference/error-codes.mdx) where one exists, with the documented
# spelling (PRODUCT_CART_EMTPY is misspelled upstream, and clients match on it).
UNAUTHORIZED = "UNAUTHORIZED"
INVALID_REQUEST_BODY = "INVALID_REQUEST_BODY"
PRODUCT_CART_EMPTY = "PRODUCT_CART_EMTPY"
NOT_FOUND = "NOT_FOUND"
TOO_MANY_REQUESTS = "TOO_MANY_REQUESTS"
INVALID_DISCOUNT_CODE = "INVALID_DISCOUNT_CODE"
MISSING_ADDON_IDS = "MISSING_ADDON_IDS"
DUPLICATE_ADDON_IDS_IN_REQUEST = "DUPLICATE_ADDON_IDS_IN_REQUEST"
NO_ELIGIBLE_PAYMENT_METHODS = "NO_ELIGIBLE_PAYMENT_METHODS"
# Ours, for cases the docs give no code for.
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"

UNAUTHORIZED_MESSAGE = "You are not authorised to perform this action"
INVALID_BODY_MESSAGE = "Your request body is invalid. Please check your request headers and object."


@dataclass(frozen=True)
class ApiError(Exception):
    """A request the server refuses: the status and the documented error body."""

    status: int
    code: str
    message: str

    @classmethod
    def unprocessable(cls, code: str, message: str) -> ApiError:
        return cls(422, code, message)

    @classmethod
    def invalid_body(cls, detail: str) -> ApiError:
        return cls(422, INVALID_REQUEST_BODY, f"{INVALID_BODY_MESSAGE} {detail}")
