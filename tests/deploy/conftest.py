"""Fixtures of the deploy checks."""

from __future__ import annotations

from typing import Any

import pytest
from deploy_support import compose_model, load_dashboard


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    """docker-compose.yml as resolved by the real Compose binary."""
    return compose_model()


@pytest.fixture(scope="session")
def dashboard() -> dict[str, Any]:
    return load_dashboard()
