"""Production KPIs by ISO 22400-2 (availability, effectiveness, quality, OEE, NEE, MTBF ...).

``KpiService`` answers KPI queries per asset, line and site for shifts, production days,
fixed buckets and rolling windows, serving closed periods from the store and computing the
rest with ``KpiEngine``.
"""

from plantwin.processing.kpis.engine import KpiEngine
from plantwin.processing.kpis.formulas import KPI_NAMES
from plantwin.processing.kpis.periods import Period, PeriodKind
from plantwin.processing.kpis.service import KpiService, PeriodSpec

__all__ = ["KPI_NAMES", "KpiEngine", "KpiService", "Period", "PeriodKind", "PeriodSpec"]
