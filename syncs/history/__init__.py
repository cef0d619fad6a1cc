"""History, trends and the checks that read them (issue 17, the brand and flow pages).

- models.py: FlowHour (one row per brand, flow and hour: the charts' pre-aggregated table),
  DriftCheck (what each daily reconciliation had to correct) and HistoryMark (how far the
  minute job has read).
- hours.py: fills FlowHour from finished runs, ticket events and a lag sample each minute.
- drift.py: the drift report (what each daily check corrected) and its ticket.
- silence.py: a flow far below its own normal for the hour of the week, and its ticket.
- charts.py: the JSON the charts read; pages.py: the rest of the pages' figures;
  filters.py: the run history's FilterSet. The views are console/history_views.py.
- sweep.py: the one entry point the sweeper calls every minute.
"""
