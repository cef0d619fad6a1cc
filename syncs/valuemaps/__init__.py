"""Value maps: one table (`ValueMap`) for every brand-specific translation of one system's
value into another's (a payment method, a customer group, a warehouse, a status…).

Each kind of value map is declared in code by its pair package
(`syncs/flows/<pair>/maps.py`) and collected by `syncs.valuemaps.registry`. Every kind gets
the same editor, preview, history with revert, import and export, and quarantine with
replay: a record whose value has no mapping waits, with one ticket per (kind, value) for
the kind's owning team, and goes when the value is mapped.
"""
