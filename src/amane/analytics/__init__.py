"""Crime analytics: statistics helpers, hotspots, spike detection, forecasts and their backtests.

Everything here is pure computation on NumPy arrays (no database): the services in
:mod:`amane.services.monitoring` read the incidents a user may see and hand them to these
functions, and the benchmark in ``bench/forecast.py`` feeds them the Toronto data set directly.
"""
