"""Test settings shared by the whole suite."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("spikeflow", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("spikeflow")

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
