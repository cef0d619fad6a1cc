"""Salesforce: the client (client.py), its webhooks and its sandbox fake (fake.py).

Production code never imports the fake; only the sandbox server does.
"""
