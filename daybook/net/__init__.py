"""The network: ``transport`` (which addresses may be reached), ``fetch`` (polite HTTP
for enrich) and ``retry`` (the one retry and ``Retry-After`` policy, fetch's and pull's)."""
