# The strict OpenMetrics parser of the Python prometheus_client (Debian
# python3-prometheus-client), as an oracle: reads a JSON list of expositions on stdin,
# prints a JSON list with null for each one it accepts, else its error.
import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families

out = []
for text in json.load(sys.stdin):
    try:
        names = set()
        for family in text_string_to_metric_families(text):
            if family.name in names:
                raise ValueError("family named twice: " + family.name)
            names.add(family.name)
        out.append(None)
    except Exception as e:  # noqa: BLE001 - every error is the answer
        out.append(type(e).__name__ + ": " + str(e))
print(json.dumps(out))
