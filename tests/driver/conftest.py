import pytest

from tests.driver.builds import small_driver_build


@pytest.fixture(scope="session")
def driver_build(tmp_path_factory):
    """A build folder with an IR and its RTL (shared: the harness is compiled once)."""
    return small_driver_build(tmp_path_factory.mktemp("driver") / "build")
