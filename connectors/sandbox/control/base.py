"""What every control route shares: the router, errors, the body and account helpers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.sandbox.core import Request, Response, Router, json_response

if TYPE_CHECKING:
    from connectors.sandbox.server import App


router = Router()
route = router.route


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ControlBase:
    """The control API's router and the helpers every route uses."""

    router = router

    def __init__(self, app: App) -> None:
        self.app = app

    def handle(self, req: Request) -> Response:
        fn, params, known = self.router.match(req.method, req.path)
        if fn is None:
            return json_response(
                {"error": f"No control route {req.method} {req.path}"}, 405 if known else 404
            )
        try:
            result = fn(self, req, **params)
        except ControlError as exc:
            return json_response({"error": str(exc)}, exc.status)
        except (ValueError, KeyError, TypeError) as exc:
            return json_response({"error": f"{type(exc).__name__}: {exc}"}, 400)
        if isinstance(result, Response):
            return result
        return json_response(result)

    def _body(self, req: Request) -> dict[str, Any]:
        if not req.body:
            return {}
        body = req.json()
        if not isinstance(body, dict):
            raise ControlError(400, "The body must be a JSON object")
        return body

    def _account(self, vendor: str, name: Any) -> Any:
        account = self.app.accounts.resolve(vendor, name)
        if account is None:
            raise ControlError(404, f"No {vendor} account {name!r}")
        return account
