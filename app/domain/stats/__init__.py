"""Region statistics (区域统计): rollups kept current on every write, and the figures read from them.

Importing the package installs the rollups' session listener (:mod:`app.domain.stats.rollups`).
"""

from app.domain.stats import rollups as rollups
