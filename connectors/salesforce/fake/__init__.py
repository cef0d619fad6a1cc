"""Salesforce: the CRM's OAuth token endpoint and REST API (sObject rows and collections).

Upserts are keyed on external id fields: any custom field (name ending in __c) is indexed as one.
A relationship may be set through the parent's external id, as Salesforce allows:
{"Account": {"Brightpearl_Id__c": "200"}} sets AccountId. Every data call spends the org's daily
allocation and answers `Sforce-Limit-Info: api-usage=used/limit`. README.md beside this package
says which vendor page each shape follows.

    base.py      ids, errors, tokens, router, auth, the daily allocation
    oauth.py     POST /services/oauth2/token
    sobjects.py  the data API's routes
    upserts.py   upserts by external id (one, or a collection), relationships, saving
    query.py     SOQL queries (a subset) with nextRecordsUrl paging
"""

from __future__ import annotations

from connectors.salesforce.fake.base import EXTERNAL_ID_KIND, access_token, sf_id
from connectors.salesforce.fake.oauth import OAuthRoutes
from connectors.salesforce.fake.query import QueryRoutes
from connectors.salesforce.fake.sobjects import SObjectRoutes

__all__ = ["EXTERNAL_ID_KIND", "Salesforce", "access_token", "sf_id"]


class Salesforce(OAuthRoutes, SObjectRoutes, QueryRoutes):
    """The Salesforce fake: OAuth, data and query routes on one shared router (base.py)."""
