"""Mailchimp batch operations' routes (POST/GET/DELETE /3.0/batches); batches.py runs them."""

from __future__ import annotations

from connectors.mailchimp.fake.base import MailchimpBase, route
from connectors.mailchimp.fake.batches import check_operations, pending_count, public_batches
from connectors.mailchimp.fake.batches import submit as batch_submit
from connectors.mailchimp.fake.records import V, problem
from connectors.sandbox.core import Request, Response, empty, json_response, raw_json


class BatchRoutes(MailchimpBase):
    """/3.0/batches: submit, list, read and stop batches."""

    # --- batch operations ------------------------------------------------------------------

    @route("POST", r"/3.0/batches")
    def batches_post(self, req: Request) -> Response:
        """Start a batch: {operations:[{method, path, params?, body? (a JSON string),
        operation_id?}]} -> the batch, pending. 429 past the pending-batch limit."""
        body = req.json()
        if not isinstance(body, dict) or "operations" not in body:
            return problem(
                "Invalid Resource",
                400,
                "The resource submitted could not be validated. For field-specific details, "
                "see the 'errors' array.",
                errors=[{"field": "operations", "message": "This value is required"}],
            )
        errors = check_operations(body["operations"])
        if errors:
            return problem(
                "Invalid Resource",
                400,
                "The resource submitted could not be validated. For field-specific details, "
                "see the 'errors' array.",
                errors=errors[:50],
            )
        limit = self.app.settings.mailchimp_batches_pending_max
        if limit and pending_count(self.app, req.account.code) >= limit:
            return problem(
                "Too Many Requests",
                429,
                f"You have more than {limit} pending batches. Please wait for some to finish "
                "before starting more.",
            )
        doc = batch_submit(self.app, req, body["operations"])
        req.after_commit.append(self.batches.wake)
        return json_response(doc)

    @route("GET", r"/3.0/batches")
    def batches_list(self, req: Request) -> Response:
        try:
            count = min(int(req.q("count") or 10), 1000)
            offset = int(req.q("offset") or 0)
        except ValueError:
            return problem("Invalid Resource", 400, "count and offset must be integers.")
        total, rows = public_batches(self.app, req.account.code, count, offset)
        return raw_json('{"batches":[' + ",".join(rows) + f'],"total_items":{total},"_links":[]}}')

    @route("GET", r"/3.0/batches/(?P<batch_id>\w+)")
    def batches_get(self, req: Request, batch_id: str) -> Response:
        text = self.app.store.get(V, req.account.code, "batch", batch_id)
        return raw_json(text) if text else self.not_found(req)

    @route("DELETE", r"/3.0/batches/(?P<batch_id>\w+)")
    def batches_delete(self, req: Request, batch_id: str) -> Response:
        """Stop a batch; as Mailchimp says, its results are then gone too."""
        store = self.app.store
        code = req.account.code
        if not store.delete(V, code, "batch", batch_id):
            return self.not_found(req)
        store.delete(V, code, "batch_job", batch_id)
        store.delete(V, code, "batch_result", batch_id)
        req.after_commit.append(self.batches.wake)
        return empty(204)

    def nested_batch(self) -> Response:
        """An operation of a batch may not start another batch."""
        return problem("Invalid Resource", 400, "Batch operations cannot call /batches.")
