"""Entity resolution of persons: Fellegi-Sunter (Splink, DuckDB in memory) over cross-script name
features from ``amane.names``. Pure: no database access; the caller loads the records.

```python
from amane.resolve import PersonRecord, resolve
result = resolve(records, threshold=0.9)
result.pairs      # [Pair(a_id, b_id, probability, fields={"given_name": FieldEvidence(...)...})]
result.clusters   # [Cluster(ids, min_probability, mean_probability)]
result.stats      # records, candidate_pairs, timings_s, parameters...
result.as_dict()  # JSON-serialisable
```

See ``docs/resolve.md``.
"""

from __future__ import annotations

from .engine import connected_components, resolve
from .records import PERSON_FIELDS, Cluster, FieldEvidence, Pair, PersonRecord, ResolveResult

__all__ = [
    "PERSON_FIELDS",
    "Cluster",
    "FieldEvidence",
    "Pair",
    "PersonRecord",
    "ResolveResult",
    "connected_components",
    "resolve",
]
